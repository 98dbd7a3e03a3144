"""AddOffsetsToTxn (key 25).

Versions: 0-3.
Behaviour: makes the consumer group part of the producer's transaction, so TxnOffsetCommit may
then send that group's offsets, and adds the group's ``__consumer_offsets`` partition to the
transaction's partitions (EndTxn's marker there settles the offsets, as in Kafka).  Errors as AddPartitionsToTxn
(PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2); an empty group id -> INVALID_GROUP_ID.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.groups.coordinator import partition_for
from kafkatools.broker.groups.store import OFFSETS_TOPIC
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 25
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.AddOffsetsToTxnResponse


async def handle(ctx: RequestContext, req: messages.AddOffsetsToTxnRequest) -> messages.AddOffsetsToTxnResponse:
    coordinator = ctx.broker.transactions
    if coordinator is None:
        return R(error_code=errors.COORDINATOR_NOT_AVAILABLE.code)
    if not req.group_id:
        return R(error_code=errors.BY_NAME["INVALID_GROUP_ID"].code)
    try:
        b = ctx.broker
        b.ensure_offsets_topic()
        count = b.group_ownership.partition_count()
        if count <= 0:  # no offsets topic yet (too few brokers): the offsets would have nowhere to go
            return R(error_code=errors.COORDINATOR_NOT_AVAILABLE.code)
        where = (OFFSETS_TOPIC, partition_for(req.group_id, count))
        coordinator.add_offsets(req.transactional_id, req.producer_id, req.producer_epoch, req.group_id, where)
    except errors.KafkaError as e:
        return R(error_code=client_error(e.error, ctx.version < 2).code)
    return R(error_code=0)
