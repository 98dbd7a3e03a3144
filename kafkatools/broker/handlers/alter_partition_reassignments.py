"""AlterPartitionReassignments (key 45).

Versions: 0.
Behaviour: start (a replica list) or cancel (null replicas) the reassignment of each partition.
On a ZooKeeper cluster only the controller answers (others: top-level NOT_CONTROLLER, as Kafka's
ZK controller does); it writes the topic znodes through ``broker/zk/reassignment.submit`` in a
worker thread, and its controller pass finishes each move once the new replicas are in sync.
Per partition: unknown -> UNKNOWN_TOPIC_OR_PARTITION; empty, duplicate or unregistered replicas ->
INVALID_REPLICA_ASSIGNMENT; a cancel without a move in progress -> NO_REASSIGNMENT_IN_PROGRESS.
A standalone broker has one replica to offer: reassigning to it is a successful no-op.
"""

from __future__ import annotations

import asyncio

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 45
MIN_VERSION = 0
MAX_VERSION = 0

R = messages.AlterPartitionReassignmentsResponse
Outcome = tuple[errors.ErrorCode, str | None]


def _standalone(ctx: RequestContext, topic: str, partition: int, replicas: list[int] | None) -> Outcome:
    t = ctx.broker.cluster.topics.get(topic)
    if t is None or not 0 <= partition < len(t.partitions):
        return errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {topic}-{partition} does not exist."
    if replicas is None:
        return errors.BY_NAME["NO_REASSIGNMENT_IN_PROGRESS"], f"No reassignment is in progress for {topic}-{partition}."
    if replicas == [ctx.broker.node_id]:
        return errors.NONE, None
    return (errors.INVALID_REPLICA_ASSIGNMENT,
            f"Replica assignment has brokers that are not alive. Replica list: {','.join(map(str, replicas))}, "
            f"live broker list: {ctx.broker.node_id}")


async def handle(ctx: RequestContext, req: messages.AlterPartitionReassignmentsRequest
                 ) -> messages.AlterPartitionReassignmentsResponse:
    zk = ctx.broker.zk
    outcomes: dict[tuple[str, int], Outcome] = {}
    if zk is None:
        for t in req.topics:
            for p in t.partitions:
                outcomes[(t.name, p.partition_index)] = _standalone(ctx, t.name, p.partition_index, p.replicas)
    else:
        claim = zk.controller.claim
        if claim is None:
            return R(error_code=errors.NOT_CONTROLLER.code, error_message="This is not the correct controller for "
                     "this cluster.", responses=[])
        from kafkatools.broker.zk import reassignment
        from kafkatools.coordination.zk_admin import TopicPartition
        from kafkatools.coordination.zk_paths import BROKER_IDS

        requests = {TopicPartition(t.name, p.partition_index): (list(p.replicas) if p.replicas is not None else None)
                    for t in req.topics for p in t.partitions}

        def run() -> dict[TopicPartition, Outcome]:
            live = {int(n) for n in zk.registry.store.children(BROKER_IDS) if n.isdigit()}
            return reassignment.submit(zk.registry, claim, requests, live)

        results = await asyncio.to_thread(run)
        outcomes = {(tp.topic, tp.partition): r for tp, r in results.items()}
    return R(responses=[R.ReassignableTopicResponse(name=t.name, partitions=[
        R.ReassignablePartitionResponse(partition_index=p.partition_index,
                                        error_code=outcomes[(t.name, p.partition_index)][0].code,
                                        error_message=outcomes[(t.name, p.partition_index)][1])
        for p in t.partitions]) for t in req.topics])
