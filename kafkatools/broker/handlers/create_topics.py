"""CreateTopics (key 19).

Versions: 0-7.
Behaviour: per topic — duplicate names in one request -> INVALID_REQUEST; illegal name ->
INVALID_TOPIC_EXCEPTION; existing -> TOPIC_ALREADY_EXISTS; partitions/replication factor of -1
(v4+) take ``num.partitions`` / ``default.replication.factor``; 0 or below -> INVALID_PARTITIONS /
INVALID_REPLICATION_FACTOR; more replicas than live brokers -> INVALID_REPLICATION_FACTOR;
explicit assignments together with counts -> INVALID_REQUEST, and must name live brokers without
duplicates (INVALID_REPLICA_ASSIGNMENT); configs are validated against Kafka's topic config table
(INVALID_CONFIG); more than 10,000 partitions in one request -> POLICY_VIOLATION for every topic
(Kafka's controller limit: one request must not block the broker creating millions of partitions).
``validate_only`` checks everything and creates nothing.  v5+ answers with the
partition count, replication factor and every config of the new topic.
Notes: Kafka's messages are reproduced so that ``kafka-topics`` prints what users expect.
"""

from __future__ import annotations

import asyncio
import logging

from kafkatools import errors
from kafkatools.broker import topic_configs
from kafkatools.broker.cluster import topic_name_problem
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

log = logging.getLogger("kafkatools.broker.handlers.create_topics")

API_KEY = 19
MIN_VERSION = 0
MAX_VERSION = 7
MAX_PARTITIONS_PER_REQUEST = 10_000
TOO_MANY_PARTITIONS = "Excessively large number of partitions per request."

R = messages.CreateTopicsResponse
Problem = tuple[errors.ErrorCode, str]


def _plan(
    ctx: RequestContext, t: messages.CreateTopicsRequest.CreatableTopic
) -> tuple[list[list[int]], dict[str, str]]:
    b = ctx.broker
    problem = topic_name_problem(t.name)
    if problem:
        raise errors.KafkaError(errors.INVALID_TOPIC_EXCEPTION, problem)
    if t.name in b.cluster.topics:
        raise errors.KafkaError(errors.TOPIC_ALREADY_EXISTS, f"Topic '{t.name}' already exists.")
    configs: dict[str, str] = {}
    for c in t.configs:
        problem = topic_configs.validate(c.name, c.value)
        if problem:
            raise errors.KafkaError(errors.INVALID_CONFIG, problem)
        configs[c.name] = (c.value or "").strip()
    if t.assignments:
        if t.num_partitions != -1 or t.replication_factor != -1:
            raise errors.KafkaError(errors.INVALID_REQUEST, "Both numPartitions or replicationFactor and "
                                    "replicasAssignments were set. Both cannot be used at the same time.")
        live = {n.node_id for n in b.live_brokers()}
        ordered = sorted(t.assignments, key=lambda a: a.partition_index)
        if [a.partition_index for a in ordered] != list(range(len(ordered))):
            raise errors.KafkaError(errors.INVALID_REPLICA_ASSIGNMENT,
                                    "Partitions should be a consecutive 0-based integer sequence")
        sizes = {len(a.broker_ids) for a in ordered}
        for a in ordered:
            if not a.broker_ids or len(set(a.broker_ids)) != len(a.broker_ids):
                raise errors.KafkaError(errors.INVALID_REPLICA_ASSIGNMENT,
                                        f"Duplicate brokers not allowed in replica assignment: {a.broker_ids}")
            unknown = [x for x in a.broker_ids if x not in live]
            if unknown:
                raise errors.KafkaError(errors.INVALID_REPLICA_ASSIGNMENT,
                                        f"Unknown broker(s) in replica assignment: {','.join(map(str, unknown))}.")
        if len(sizes) != 1:
            raise errors.KafkaError(errors.INVALID_REPLICA_ASSIGNMENT,
                                    "All partitions should have the same number of replicas")
        return [list(a.broker_ids) for a in ordered], configs
    partitions = b.config.num_partitions if t.num_partitions == -1 else t.num_partitions
    rf = b.config.default_replication_factor if t.replication_factor == -1 else t.replication_factor
    if partitions <= 0:
        raise errors.KafkaError(errors.INVALID_PARTITIONS, "Number of partitions must be larger than 0.")
    if rf <= 0:
        raise errors.KafkaError(errors.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.")
    return b.assign_replicas(partitions, rf), configs


async def refresh_brokers_if_short(ctx: RequestContext, replication_factor: int,
                                   named: set[int] | None = None) -> None:
    """ZooKeeper mode: re-read ``/brokers/ids`` before refusing a placement the cache can't meet.

    The cache learns of a new broker through a watch; a client that just saw it in another broker's
    Metadata would otherwise get INVALID_REPLICATION_FACTOR here.  The read runs off the event loop.
    """
    b = ctx.broker
    live = {n.node_id for n in b.live_brokers()}
    if b.zk is None or (replication_factor <= len(live) and (named or set()) <= live):
        return
    try:
        b.zk.cluster.brokers = await asyncio.to_thread(b.zk.cluster.read_brokers)
    except Exception as e:  # ZooKeeper unreachable: the cached view stands and the check reports it
        log.warning("Could not re-read the broker list from ZooKeeper: %s", e)


def _describe(ctx: RequestContext, name: str) -> list[messages.CreateTopicsResponse.CreatableTopicConfigs]:
    from kafkatools.broker.handlers.describe_configs import topic_config_values

    return [R.CreatableTopicConfigs(name=c.name, value=c.value, read_only=False, config_source=c.source,
                                    is_sensitive=False)
            for c in topic_config_values(ctx.broker, name)]


def _too_many_partitions(req: messages.CreateTopicsRequest) -> bool:
    """Kafka's controller refuses a request that would create more than 10,000 partitions in all."""
    total = sum(len(t.assignments) if t.assignments else max(t.num_partitions, 0) for t in req.topics)
    return total > MAX_PARTITIONS_PER_REQUEST


async def handle(ctx: RequestContext, req: messages.CreateTopicsRequest) -> messages.CreateTopicsResponse:
    b = ctx.broker
    names = [t.name for t in req.topics]
    results: list[messages.CreateTopicsResponse.CreatableTopicResult] = []
    too_many = _too_many_partitions(req)
    for t in req.topics:
        out = R.CreatableTopicResult(name=t.name, error_code=0, error_message=None)
        try:
            if too_many:
                raise errors.KafkaError(errors.POLICY_VIOLATION, TOO_MANY_PARTITIONS)
            if names.count(t.name) > 1:
                raise errors.KafkaError(errors.INVALID_REQUEST, "Create topics request from client "
                                        f"contains duplicate topic {t.name}.")
            if t.assignments:
                await refresh_brokers_if_short(ctx, 0, {x for a in t.assignments for x in a.broker_ids})
            else:
                rf = t.replication_factor if t.replication_factor != -1 else b.config.default_replication_factor
                await refresh_brokers_if_short(ctx, rf)
            assignment, configs = _plan(ctx, t)
            if not req.validate_only:
                created = b.create_topic(t.name, assignment, configs)
                out.topic_id = created.topic_id
            out.num_partitions = len(assignment)
            out.replication_factor = len(assignment[0])
            if ctx.version >= 5 and not req.validate_only:
                out.configs = _describe(ctx, t.name)
        except errors.KafkaError as e:
            out.error_code, out.error_message = e.code, e.message
            out.num_partitions, out.replication_factor = -1, -1
        results.append(out)
    return R(topics=results)
