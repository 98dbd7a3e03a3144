"""JoinGroup (key 11).

Versions: 0-9.
Behaviour: see ``broker/groups/membership.py``.  v4+ with an empty member id first gets
MEMBER_ID_REQUIRED and an id (KIP-394); v5+ carries ``group.instance.id`` (static membership);
v0 has no rebalance timeout (the session timeout is used).  Empty group id -> INVALID_GROUP_ID; a
broker not leading the group's ``__consumer_offsets`` partition -> NOT_COORDINATOR (also to members
still waiting when leadership moves away).  The answer waits until the rebalance
completes.  v7+ echoes the protocol type; v9's ``skip_assignment`` is always false.
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.broker.groups.membership import JoinRequest
from kafkatools.codec import messages

API_KEY = 11
MIN_VERSION = 0
MAX_VERSION = 9

R = messages.JoinGroupResponse


async def handle(ctx: RequestContext, req: messages.JoinGroupRequest) -> messages.JoinGroupResponse:
    error = ctx.broker.groups.group_error(req.group_id)
    if error is not None:
        return R(error_code=error.code, generation_id=-1, protocol_type=None,
                 protocol_name=None if ctx.version >= 7 else "", leader="", member_id=req.member_id, members=[])
    result = await ctx.broker.groups.membership.join(JoinRequest(
        group_id=req.group_id, member_id=req.member_id,
        group_instance_id=req.group_instance_id if ctx.version >= 5 else None,
        protocol_type=req.protocol_type, protocols=[(p.name, bytes(p.metadata)) for p in req.protocols],
        session_timeout_ms=req.session_timeout_ms,
        rebalance_timeout_ms=req.rebalance_timeout_ms if ctx.version >= 1 else req.session_timeout_ms,
        client_id=ctx.client_id, client_host="/" + ctx.client_host, require_known_member_id=ctx.version >= 4))
    protocol_name = result.protocol_name
    if protocol_name is None and ctx.version < 7:
        protocol_name = ""
    return R(error_code=result.error.code, generation_id=result.generation, protocol_type=result.protocol_type,
             protocol_name=protocol_name, leader=result.leader, member_id=result.member_id,
             members=[R.JoinGroupResponseMember(member_id=m, group_instance_id=i, metadata=meta)
                      for m, i, meta in result.members])
