"""OffsetDelete (key 47).

Versions: 0.
Behaviour: deletes a group's committed offsets for the given partitions (``kafka-consumer-groups
--delete-offsets``); refused per partition with GROUP_SUBSCRIBED_TO_TOPIC while an active member
subscribes to the topic; unknown group -> GROUP_ID_NOT_FOUND; INVALID_GROUP_ID / NOT_COORDINATOR at
the top level.
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 47
MIN_VERSION = 0
MAX_VERSION = 0

R = messages.OffsetDeleteResponse


async def handle(ctx: RequestContext, req: messages.OffsetDeleteRequest) -> messages.OffsetDeleteResponse:
    wanted = [(t.name, p.partition_index) for t in req.topics for p in t.partitions]
    error = ctx.broker.groups.group_error(req.group_id)
    if error is not None:
        return R(error_code=error.code)
    top, per = ctx.broker.groups.delete_offsets(req.group_id, wanted)
    if top.code:
        return R(error_code=top.code)
    return R(error_code=0, topics=[R.OffsetDeleteResponseTopic(name=t.name, partitions=[
        R.OffsetDeleteResponsePartition(partition_index=p.partition_index,
                                        error_code=per[(t.name, p.partition_index)].code)
        for p in t.partitions]) for t in req.topics])
