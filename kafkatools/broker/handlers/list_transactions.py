"""ListTransactions (key 66).

Versions: 0-1.
Behaviour: the transactional ids this coordinator knows, with producer id and state, filtered by
state names (unknown names are echoed in ``unknown_state_filters``), producer ids, and (v1) a
minimum running time ``duration_filter`` in ms (-1 = none).  A broker without a transaction
coordinator (ZooKeeper mode) -> COORDINATOR_NOT_AVAILABLE.
"""

from __future__ import annotations

import time

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.txn.metadata import TxnState
from kafkatools.codec import messages

API_KEY = 66
MIN_VERSION = 0
MAX_VERSION = 1

R = messages.ListTransactionsResponse
STATE_NAMES = {s.display: s for s in TxnState}


async def handle(ctx: RequestContext, req: messages.ListTransactionsRequest) -> messages.ListTransactionsResponse:
    coordinator = ctx.broker.transactions
    if coordinator is None:
        return R(error_code=errors.COORDINATOR_NOT_AVAILABLE.code)
    if not coordinator.loaded:
        return R(error_code=errors.BY_NAME["COORDINATOR_LOAD_IN_PROGRESS"].code)
    unknown = [s for s in req.state_filters if s not in STATE_NAMES]
    states = {STATE_NAMES[s] for s in req.state_filters if s in STATE_NAMES}
    pids = set(req.producer_id_filters)
    min_age = req.duration_filter if ctx.version >= 1 else -1
    now = int(time.time() * 1000)
    out = []
    for meta in sorted(coordinator.listing(), key=lambda m: m.transactional_id):
        if req.state_filters and meta.state not in states:
            continue
        if pids and meta.producer_id not in pids:
            continue
        if min_age >= 0 and (meta.start_ms < 0 or now - meta.start_ms < min_age):
            continue
        out.append(R.TransactionState(transactional_id=meta.transactional_id, producer_id=meta.producer_id,
                                      transaction_state=meta.state.display))
    return R(error_code=0, unknown_state_filters=unknown, transaction_states=out)
