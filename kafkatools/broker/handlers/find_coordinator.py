"""FindCoordinator (key 10).

Versions: 0-6 (v4+ batches keys).
Behaviour: key type 0 (group): the leader of the group's ``__consumer_offsets`` partition
(``abs(hashCode(group)) % partitions``, Kafka's rule), after creating that topic on first use;
COORDINATOR_NOT_AVAILABLE while that partition has no live leader.  Key type 1 (transaction): a
standalone broker coordinates every transactional id (after creating ``__transaction_state`` on
first use); a ZooKeeper-mode broker answers COORDINATOR_NOT_AVAILABLE (it does not coordinate
transactions).  Key type 2 (share) is not implemented: INVALID_REQUEST naming the key type, which
clients report instead of retrying forever.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.state import Node
from kafkatools.codec import messages

API_KEY = 10
MIN_VERSION = 0
MAX_VERSION = 6

R = messages.FindCoordinatorResponse
GROUP = 0
TRANSACTION = 1


def _answer(ctx: RequestContext, key_type: int, key: str) -> tuple[errors.ErrorCode, str | None, Node | None]:
    if key_type == TRANSACTION:
        if ctx.broker.transactions is None:
            return errors.COORDINATOR_NOT_AVAILABLE, "This broker does not coordinate transactions.", None
        me = next(n for n in ctx.broker.live_brokers() if n.node_id == ctx.broker.node_id)
        return errors.NONE, None, me
    if key_type != GROUP:
        return errors.INVALID_REQUEST, f"Coordinator key type {key_type} is not supported by this broker", None
    node = ctx.broker.group_coordinator(key)
    if node is None:  # the offsets partition has no live leader yet (a cluster still electing)
        return errors.COORDINATOR_NOT_AVAILABLE, "The coordinator is not available.", None
    return errors.NONE, None, node


async def handle(ctx: RequestContext, req: messages.FindCoordinatorRequest) -> messages.FindCoordinatorResponse:
    key_type = req.key_type if ctx.version >= 1 else GROUP
    if ctx.version >= 4:
        out = []
        for key in req.coordinator_keys:
            error, message, node = _answer(ctx, key_type, key)
            out.append(R.Coordinator(key=key, node_id=node.node_id if node else -1, host=node.host if node else "",
                                     port=node.port if node else -1, error_code=error.code, error_message=message))
        return R(coordinators=out)
    error, message, node = _answer(ctx, key_type, req.key)
    if node is None:
        return R(error_code=error.code, error_message=message, node_id=-1, host="", port=-1)
    return R(error_code=0, error_message=None, node_id=node.node_id, host=node.host, port=node.port)
