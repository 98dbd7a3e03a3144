"""DeleteGroups (key 42).

Versions: 0-2.
Behaviour: deletes Empty groups and their offsets (tombstones in ``__consumer_offsets``); a group
with members -> NON_EMPTY_GROUP; unknown -> GROUP_ID_NOT_FOUND; not coordinated here ->
NOT_COORDINATOR (per group).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 42
MIN_VERSION = 0
MAX_VERSION = 2

R = messages.DeleteGroupsResponse


async def handle(ctx: RequestContext, req: messages.DeleteGroupsRequest) -> messages.DeleteGroupsResponse:
    groups = ctx.broker.groups
    results = {g: e for g in req.groups_names if (e := groups.group_error(g, require_id=False)) is not None}
    results.update(groups.delete_groups([g for g in req.groups_names if g not in results]))
    return R(results=[R.DeletableGroupResult(group_id=g, error_code=results[g].code) for g in req.groups_names])
