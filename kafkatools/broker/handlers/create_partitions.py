"""CreatePartitions (key 37).

Versions: 0-3.
Behaviour: raises a topic's partition count to ``count`` (``kafka-topics --alter --partitions``).
Unknown topic -> UNKNOWN_TOPIC_OR_PARTITION; a count not larger than the current one ->
INVALID_PARTITIONS ("Topic currently has 3 partitions, which is higher than the requested 2.");
explicit assignments must name live brokers, one list per new partition, with the topic's
replication factor (INVALID_REPLICA_ASSIGNMENT); ``validate_only`` checks without changing.
More than 10,000 new partitions in one request -> POLICY_VIOLATION for every topic, as CreateTopics.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.handlers.create_topics import (
    MAX_PARTITIONS_PER_REQUEST,
    TOO_MANY_PARTITIONS,
    refresh_brokers_if_short,
)
from kafkatools.codec import messages

API_KEY = 37
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.CreatePartitionsResponse


def _check(ctx: RequestContext, t: messages.CreatePartitionsRequest.CreatePartitionsTopic,
           dupes: set[str]) -> tuple[errors.ErrorCode, str | None, list[list[int]] | None]:
    b = ctx.broker
    if t.name in dupes:
        return errors.INVALID_REQUEST, "Duplicate topic in request.", None
    topic = b.cluster.topics.get(t.name)
    if topic is None:
        return errors.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{t.name}' does not exist.", None
    current = len(topic.partitions)
    if t.count < current:
        return (errors.INVALID_PARTITIONS,
                f"Topic currently has {current} partitions, which is higher than the requested {t.count}.", None)
    if t.count == current:
        return errors.INVALID_PARTITIONS, f"Topic already has {current} partitions.", None
    rf = len(topic.partitions[0].replicas) if topic.partitions else 1
    new = t.count - current
    if t.assignments is not None:
        if len(t.assignments) != new:
            return (errors.INVALID_REPLICA_ASSIGNMENT,
                    f"Increasing the number of partitions by {new} but {len(t.assignments)} assignments provided.",
                    None)
        live = {n.node_id for n in b.live_brokers()}
        assignment = [list(a.broker_ids) for a in t.assignments]
        for replicas in assignment:
            if len(replicas) != rf or len(set(replicas)) != len(replicas) or not set(replicas) <= live:
                return (errors.INVALID_REPLICA_ASSIGNMENT,
                        f"Invalid replica assignment {replicas} for a topic with replication factor {rf}.", None)
    else:
        try:
            assignment = b.assign_replicas(new, rf, first_partition=current)
        except errors.KafkaError as e:
            return e.error, e.message, None
    return errors.NONE, None, assignment


async def handle(ctx: RequestContext, req: messages.CreatePartitionsRequest) -> messages.CreatePartitionsResponse:
    names = [t.name for t in req.topics]
    dupes = {n for n in names if names.count(n) > 1}
    results: list[messages.CreatePartitionsResponse.CreatePartitionsTopicResult] = []
    topics = ctx.broker.cluster.topics
    new_total = sum(max(0, t.count - len(topics[t.name].partitions)) for t in req.topics if t.name in topics)
    for t in req.topics:
        if new_total > MAX_PARTITIONS_PER_REQUEST:
            results.append(R.CreatePartitionsTopicResult(name=t.name, error_code=errors.POLICY_VIOLATION.code,
                                                         error_message=TOO_MANY_PARTITIONS))
            continue
        topic = topics.get(t.name)
        if topic is not None and topic.partitions:
            named = {x for a in t.assignments or [] for x in a.broker_ids}
            await refresh_brokers_if_short(ctx, len(topic.partitions[0].replicas), named)
        error, message, assignment = _check(ctx, t, dupes)
        if error is errors.NONE and assignment is not None and not req.validate_only:
            ctx.broker.add_partitions(t.name, assignment)
        results.append(R.CreatePartitionsTopicResult(name=t.name, error_code=error.code, error_message=message))
    return R(results=results)
