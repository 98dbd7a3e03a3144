"""DescribeGroups (key 15).

Versions: 0-5.
Behaviour: state, protocol type, chosen protocol and members (client id, host, the member's
metadata for the chosen protocol, its assignment) per group; an unknown group is reported as
state ``Dead`` with no error, as Kafka does; a group this broker does not coordinate gets
NOT_COORDINATOR in its own entry (empty state).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 15
MIN_VERSION = 0
MAX_VERSION = 5

R = messages.DescribeGroupsResponse


async def handle(ctx: RequestContext, req: messages.DescribeGroupsRequest) -> messages.DescribeGroupsResponse:
    out = []
    for gid in req.groups:
        error = ctx.broker.groups.group_error(gid, require_id=False)
        if error is not None:
            out.append(R.DescribedGroup(error_code=error.code, group_id=gid, group_state="", protocol_type="",
                                        protocol_data=""))
            continue
        g = ctx.broker.groups.describe(gid)
        if g is None:
            out.append(R.DescribedGroup(error_code=0, group_id=gid, group_state="Dead", protocol_type="",
                                        protocol_data=""))
            continue
        protocol = g.protocol_name or ""
        out.append(R.DescribedGroup(
            error_code=0, group_id=gid, group_state=g.state.value, protocol_type=g.protocol_type or "",
            protocol_data=protocol,
            members=[R.DescribedGroupMember(member_id=m.member_id, group_instance_id=m.group_instance_id,
                                            client_id=m.client_id, client_host=m.client_host,
                                            member_metadata=m.metadata_for(protocol), member_assignment=m.assignment)
                     for m in g.members.values()]))
    return R(groups=out)
