"""FindCoordinator (key 10).

Versions: 0-6 (v4+ batches keys).
Behaviour: key type 0 (group): this broker — the leader of the group's ``__consumer_offsets``
partition — after creating that topic on first use.  Key types 1 (transaction) and 2 (share) are
not implemented: INVALID_REQUEST naming the key type, which clients report instead of retrying
forever.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 10
MIN_VERSION = 0
MAX_VERSION = 6

R = messages.FindCoordinatorResponse
GROUP = 0


def _answer(ctx: RequestContext, key_type: int) -> tuple[errors.ErrorCode, str | None]:
    if key_type != GROUP:
        return errors.INVALID_REQUEST, f"Coordinator key type {key_type} is not supported by this broker"
    ctx.broker.ensure_offsets_topic()
    return errors.NONE, None


async def handle(ctx: RequestContext, req: messages.FindCoordinatorRequest) -> messages.FindCoordinatorResponse:
    node = ctx.broker.live_brokers()[0]
    key_type = req.key_type if ctx.version >= 1 else GROUP
    if ctx.version >= 4:
        out = []
        for key in req.coordinator_keys:
            error, message = _answer(ctx, key_type)
            ok = error is errors.NONE
            out.append(R.Coordinator(key=key, node_id=node.node_id if ok else -1, host=node.host if ok else "",
                                     port=node.port if ok else -1, error_code=error.code, error_message=message))
        return R(coordinators=out)
    error, message = _answer(ctx, key_type)
    if error is not errors.NONE:
        return R(error_code=error.code, error_message=message, node_id=-1, host="", port=-1)
    return R(error_code=0, error_message=None, node_id=node.node_id, host=node.host, port=node.port)
