"""InitProducerId (key 22).

Versions: 0-5.
Behaviour: without a transactional id, allocates a fresh producer id with epoch 0 (idempotent
producers; the Java producer >= 3.0 does this by default).  v3+ with an existing id/epoch bumps
the epoch of that producer (KIP-360) so it can recover from UNKNOWN_PRODUCER_ID and sequence
gaps.  With a transactional id the transaction coordinator (broker/txn) answers: a new id, or
the id's producer with a bumped epoch after aborting a transaction its previous producer left open;
a timeout outside (0, transaction.max.timeout.ms] -> INVALID_TRANSACTION_TIMEOUT; a v3+ caller
that is not the current producer -> PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v4).  A
ZooKeeper-mode broker does not coordinate transactions: COORDINATOR_NOT_AVAILABLE.
Notes: ids are allocated from a counter persisted with the cluster metadata, so they never repeat
across restarts.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 22
MIN_VERSION = 0
MAX_VERSION = 5

MAX_EPOCH = 32767


async def handle(ctx: RequestContext, req: messages.InitProducerIdRequest) -> messages.InitProducerIdResponse:
    R = messages.InitProducerIdResponse
    if req.transactional_id is not None:
        coordinator = ctx.broker.transactions
        if coordinator is None:
            return R(error_code=errors.COORDINATOR_NOT_AVAILABLE.code, producer_id=-1, producer_epoch=-1)
        try:
            pid, epoch = coordinator.init_producer_id(
                req.transactional_id, req.transaction_timeout_ms,
                req.producer_id if ctx.version >= 3 else -1, req.producer_epoch if ctx.version >= 3 else -1)
        except errors.KafkaError as e:
            return R(error_code=client_error(e.error, ctx.version < 4).code, producer_id=-1, producer_epoch=-1)
        return R(error_code=0, producer_id=pid, producer_epoch=epoch)
    producers = ctx.broker.producer_ids
    if ctx.version >= 3 and req.producer_id >= 0:
        if req.producer_epoch < 0:
            return R(error_code=errors.INVALID_REQUEST.code, producer_id=-1, producer_epoch=-1)
        if req.producer_epoch + 1 < MAX_EPOCH:
            return R(error_code=0, producer_id=req.producer_id, producer_epoch=req.producer_epoch + 1)
    return R(error_code=0, producer_id=producers.allocate(), producer_epoch=0)
