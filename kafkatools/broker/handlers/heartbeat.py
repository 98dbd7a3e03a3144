"""Heartbeat (key 12).

Versions: 0-4.
Behaviour: keeps a member alive for its session timeout; answers REBALANCE_IN_PROGRESS while the
group is preparing a rebalance (the member must rejoin), ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID /
FENCED_INSTANCE_ID when the member is stale, NOT_COORDINATOR when this broker does not coordinate
the group (its ``__consumer_offsets`` partition is led elsewhere).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 12
MIN_VERSION = 0
MAX_VERSION = 4


async def handle(ctx: RequestContext, req: messages.HeartbeatRequest) -> messages.HeartbeatResponse:
    problem = ctx.broker.groups.group_error(req.group_id)
    if problem is not None:
        return messages.HeartbeatResponse(error_code=problem.code)
    error = ctx.broker.groups.membership.heartbeat(
        req.group_id, req.generation_id, req.member_id, req.group_instance_id if ctx.version >= 3 else None)
    return messages.HeartbeatResponse(error_code=error.code)
