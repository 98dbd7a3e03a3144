"""ListPartitionReassignments (key 46).

Versions: 0.
Behaviour: the partitions being moved (all, or those asked for) with their full replica set and the
replicas being added and removed, read from the topic znodes (``adding_replicas`` /
``removing_replicas``) in a worker thread.  On a ZooKeeper cluster only the controller answers
(others: NOT_CONTROLLER, as in Kafka); a standalone broker never has a move in progress.
"""

from __future__ import annotations

import asyncio

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 46
MIN_VERSION = 0
MAX_VERSION = 0

R = messages.ListPartitionReassignmentsResponse


async def handle(ctx: RequestContext, req: messages.ListPartitionReassignmentsRequest
                 ) -> messages.ListPartitionReassignmentsResponse:
    zk = ctx.broker.zk
    if zk is None:
        return R(topics=[])
    if zk.controller.claim is None:
        return R(error_code=errors.NOT_CONTROLLER.code,
                 error_message="This is not the correct controller for this cluster.", topics=[])
    from kafkatools.broker.zk import reassignment

    wanted = None if req.topics is None else {t.name: list(t.partition_indexes) for t in req.topics}
    moves = await asyncio.to_thread(reassignment.list_ongoing, zk.registry, wanted)
    by_topic: dict[str, list[messages.ListPartitionReassignmentsResponse.OngoingPartitionReassignment]] = {}
    for tp, move in moves.items():
        by_topic.setdefault(tp.topic, []).append(R.OngoingPartitionReassignment(
            partition_index=tp.partition, replicas=list(move.replicas), adding_replicas=list(move.adding),
            removing_replicas=list(move.removing)))
    return R(topics=[R.OngoingTopicReassignment(name=n, partitions=ps) for n, ps in by_topic.items()])
