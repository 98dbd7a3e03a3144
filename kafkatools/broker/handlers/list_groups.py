"""ListGroups (key 16).

Versions: 0-5.
Behaviour: every group this broker coordinates (those of the ``__consumer_offsets`` partitions it
leads; Dead ones excluded), with protocol type, state
(v4+, filterable by ``states_filter``) and type ``classic`` (v5+; a ``types_filter`` without
"classic" matches nothing).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 16
MIN_VERSION = 0
MAX_VERSION = 5

R = messages.ListGroupsResponse


async def handle(ctx: RequestContext, req: messages.ListGroupsRequest) -> messages.ListGroupsResponse:
    states = set(req.states_filter) if ctx.version >= 4 and req.states_filter else None
    if ctx.version >= 5 and req.types_filter and "classic" not in {t.lower() for t in req.types_filter}:
        return R(groups=[])
    return R(groups=[R.ListedGroup(group_id=g.group_id, protocol_type=g.protocol_type or "",
                                   group_state=g.state.value, group_type="classic")
                     for g in ctx.broker.groups.list_groups(states)])
