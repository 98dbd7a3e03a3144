"""DescribeTransactions (key 65).

Versions: 0.
Behaviour: per transactional id, the coordinator's view: state (Kafka's names: Empty, Ongoing,
PrepareCommit, ...), timeout, start time, producer id/epoch and the partitions of the open
transaction.  An unknown id -> TRANSACTIONAL_ID_NOT_FOUND; a broker without a transaction
coordinator (ZooKeeper mode) -> COORDINATOR_NOT_AVAILABLE; while loading -> COORDINATOR_LOAD_IN_PROGRESS.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 65
MIN_VERSION = 0
MAX_VERSION = 0

R = messages.DescribeTransactionsResponse


def _one(ctx: RequestContext, txn_id: str) -> R.TransactionState:
    coordinator = ctx.broker.transactions
    if coordinator is None:
        return R.TransactionState(error_code=errors.COORDINATOR_NOT_AVAILABLE.code, transactional_id=txn_id)
    if not coordinator.loaded:
        return R.TransactionState(error_code=errors.BY_NAME["COORDINATOR_LOAD_IN_PROGRESS"].code,
                                  transactional_id=txn_id)
    meta = coordinator.describe(txn_id)
    if meta is None:
        return R.TransactionState(error_code=errors.BY_NAME["TRANSACTIONAL_ID_NOT_FOUND"].code,
                                  transactional_id=txn_id)
    topics: dict[str, list[int]] = {}
    for topic, p in sorted(meta.partitions):
        topics.setdefault(topic, []).append(p)
    return R.TransactionState(
        error_code=0, transactional_id=txn_id, transaction_state=meta.state.display,
        transaction_timeout_ms=meta.timeout_ms, transaction_start_time_ms=meta.start_ms,
        producer_id=meta.producer_id, producer_epoch=meta.producer_epoch,
        topics=[R.TopicData(topic=t, partitions=ps) for t, ps in topics.items()])


async def handle(ctx: RequestContext,
                 req: messages.DescribeTransactionsRequest) -> messages.DescribeTransactionsResponse:
    return R(transaction_states=[_one(ctx, t) for t in req.transactional_ids])
