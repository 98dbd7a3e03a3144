"""LeaveGroup (key 13).

Versions: 0-5 (v3+ removes a batch of members, by member id or group.instance.id).
Behaviour: the members leave at once and the group rebalances (or becomes Empty) without waiting
for their session timeout.  Per-member errors in v3+ (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID);
v0-2 report the single member's error at the top level.  Group-level errors (INVALID_GROUP_ID,
NOT_COORDINATOR) go to the top level with no member results.
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 13
MIN_VERSION = 0
MAX_VERSION = 5

R = messages.LeaveGroupResponse


async def handle(ctx: RequestContext, req: messages.LeaveGroupRequest) -> messages.LeaveGroupResponse:
    membership = ctx.broker.groups.membership
    error = ctx.broker.groups.group_error(req.group_id)
    if error is not None:
        return R(error_code=error.code, members=[])
    if ctx.version < 3:
        _, results = membership.leave(req.group_id, [(req.member_id, None)])
        return R(error_code=results[0].code)
    identities = [(m.member_id, m.group_instance_id) for m in req.members]
    top, results = membership.leave(req.group_id, identities)
    if top.code and not identities:
        return R(error_code=top.code)
    return R(error_code=0 if top.code == 0 else top.code, members=[
        R.MemberResponse(member_id=m.member_id, group_instance_id=m.group_instance_id, error_code=e.code)
        for m, e in zip(req.members, results, strict=True)])
