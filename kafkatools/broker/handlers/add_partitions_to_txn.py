"""AddPartitionsToTxn (key 24).

Versions: 0-3 (v4's batched broker-to-broker form, KIP-890, is not offered).
Behaviour: adds partitions to the producer's transaction (Empty/Complete* -> Ongoing, written to
``__transaction_state``); a partition that does not exist -> UNKNOWN_TOPIC_OR_PARTITION and the
others OPERATION_NOT_ATTEMPTED; transaction-level errors (INVALID_PRODUCER_ID_MAPPING,
PRODUCER_FENCED — INVALID_PRODUCER_EPOCH before v2 —, CONCURRENT_TRANSACTIONS,
COORDINATOR_NOT_AVAILABLE on a broker that does not coordinate) are repeated for every partition.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 24
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.AddPartitionsToTxnResponse


async def handle(ctx: RequestContext, req: messages.AddPartitionsToTxnRequest) -> messages.AddPartitionsToTxnResponse:
    wanted = [(t.name, p) for t in req.v3_and_below_topics for p in t.partitions]
    coordinator = ctx.broker.transactions
    results: dict[tuple[str, int], errors.ErrorCode]
    if coordinator is None:
        results = dict.fromkeys(wanted, errors.COORDINATOR_NOT_AVAILABLE)
    else:
        try:
            results = coordinator.add_partitions(req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                                                 req.v3_and_below_producer_epoch, wanted)
        except errors.KafkaError as e:
            results = dict.fromkeys(wanted, client_error(e.error, ctx.version < 2))
    return R(results_by_topic_v3_and_below=[
        R.AddPartitionsToTxnTopicResult(name=t.name, results_by_partition=[
            R.AddPartitionsToTxnPartitionResult(partition_index=p, partition_error_code=results[(t.name, p)].code)
            for p in t.partitions])
        for t in req.v3_and_below_topics])
