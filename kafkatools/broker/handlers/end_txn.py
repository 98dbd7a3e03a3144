"""EndTxn (key 26).

Versions: 0-3.
Behaviour: commits or aborts the producer's transaction: PrepareCommit/PrepareAbort is written to
``__transaction_state``, a COMMIT/ABORT marker to every partition of the transaction (including the
``__consumer_offsets`` partitions of groups added with AddOffsetsToTxn, which settles their
TxnOffsetCommit offsets), then CompleteCommit/CompleteAbort is written.
A retry of a completed EndTxn succeeds; any other state mismatch -> INVALID_TXN_STATE; PRODUCER_FENCED
is INVALID_PRODUCER_EPOCH before v2.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 26
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.EndTxnResponse


async def handle(ctx: RequestContext, req: messages.EndTxnRequest) -> messages.EndTxnResponse:
    coordinator = ctx.broker.transactions
    if coordinator is None:
        return R(error_code=errors.COORDINATOR_NOT_AVAILABLE.code)
    try:
        await coordinator.end_txn(req.transactional_id, req.producer_id, req.producer_epoch, req.committed)
    except errors.KafkaError as e:
        return R(error_code=client_error(e.error, ctx.version < 2).code)
    return R(error_code=0)
