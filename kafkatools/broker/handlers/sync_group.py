"""SyncGroup (key 14).

Versions: 0-5.
Behaviour: the leader's call carries every member's assignment; each member's call waits for it
and returns its own (see ``broker/groups/membership.py``).  Wrong generation -> ILLEGAL_GENERATION,
unknown member -> UNKNOWN_MEMBER_ID, during PreparingRebalance -> REBALANCE_IN_PROGRESS, v5
protocol type/name that don't match the group -> INCONSISTENT_GROUP_PROTOCOL, not the group's
coordinator -> NOT_COORDINATOR.  The leader's assignment is answered only once its group record is
replicated (like Kafka's storeGroup).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 14
MIN_VERSION = 0
MAX_VERSION = 5


async def handle(ctx: RequestContext, req: messages.SyncGroupRequest) -> messages.SyncGroupResponse:
    v5 = ctx.version >= 5
    error = ctx.broker.groups.group_error(req.group_id)
    if error is not None:
        return messages.SyncGroupResponse(error_code=error.code, assignment=b"")
    result = await ctx.broker.groups.membership.sync(
        req.group_id, req.generation_id, req.member_id, req.group_instance_id if ctx.version >= 3 else None,
        req.protocol_type if v5 else None, req.protocol_name if v5 else None,
        {a.member_id: bytes(a.assignment) for a in req.assignments})
    return messages.SyncGroupResponse(error_code=result.error.code, protocol_type=result.protocol_type,
                                      protocol_name=result.protocol_name, assignment=result.assignment)
