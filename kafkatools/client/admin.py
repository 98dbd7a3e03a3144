"""Admin operations the tools need: topics, partitions, configs, offsets, cluster.

Each function sends one request to the right broker (the controller for topic changes, the
partition leader for offsets) and turns per-item error codes into ``KafkaError`` (or returns them
per item where a tool reports partial failures, as ``kafka-get-offsets`` does).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kafkatools import errors
from kafkatools.client.cluster import KafkaClient
from kafkatools.codec import messages

TOPIC_RESOURCE = 2
BROKER_RESOURCE = 4


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    name: str
    value: str | None
    source: int
    read_only: bool
    sensitive: bool
    synonyms: tuple[tuple[str, str | None, int], ...] = ()


def raise_for(code: int, message: str | None, what: str) -> None:
    if code != 0:
        err = errors.error_for(code)
        raise errors.KafkaError(err, message or f"{err.name} for {what}")


async def create_topic(
    client: KafkaClient,
    name: str,
    partitions: int = -1,
    replication_factor: int = -1,
    assignment: list[list[int]] | None = None,
    configs: dict[str, str] | None = None,
    validate_only: bool = False,
) -> messages.CreateTopicsResponse.CreatableTopicResult:
    R = messages.CreateTopicsRequest
    topic = R.CreatableTopic(
        name=name,
        num_partitions=-1 if assignment else partitions,
        replication_factor=-1 if assignment else replication_factor,
        assignments=[R.CreatableReplicaAssignment(partition_index=i, broker_ids=b)
                     for i, b in enumerate(assignment or [])],
        configs=[R.CreatableTopicConfig(name=k, value=v) for k, v in (configs or {}).items()],
    )
    conn = await client.controller()
    resp: messages.CreateTopicsResponse = await conn.request(
        R(topics=[topic], timeout_ms=30000, validate_only=validate_only))
    result = resp.topics[0]
    raise_for(result.error_code, result.error_message, f"topic {name}")
    return result


async def delete_topics(client: KafkaClient, names: list[str]) -> None:
    conn = await client.controller()
    resp: messages.DeleteTopicsResponse = await conn.request(
        messages.DeleteTopicsRequest(
            topics=[messages.DeleteTopicsRequest.DeleteTopicState(name=n) for n in names],
            topic_names=list(names), timeout_ms=30000))
    for r in resp.responses:
        raise_for(r.error_code, r.error_message, f"topic {r.name}")


async def create_partitions(client: KafkaClient, name: str, count: int,
                            assignment: list[list[int]] | None = None) -> None:
    R = messages.CreatePartitionsRequest
    conn = await client.controller()
    resp: messages.CreatePartitionsResponse = await conn.request(R(
        topics=[R.CreatePartitionsTopic(
            name=name, count=count,
            assignments=None if assignment is None else [R.CreatePartitionsAssignment(broker_ids=b)
                                                         for b in assignment])],
        timeout_ms=30000))
    for r in resp.results:
        raise_for(r.error_code, r.error_message, f"topic {r.name}")


async def describe_configs(
    client: KafkaClient, resource_type: int, name: str, keys: list[str] | None = None, synonyms: bool = True
) -> list[ConfigEntry]:
    R = messages.DescribeConfigsRequest
    conn = await client.any_connection()
    resp: messages.DescribeConfigsResponse = await conn.request(R(
        resources=[R.DescribeConfigsResource(resource_type=resource_type, resource_name=name,
                                             configuration_keys=keys)],
        include_synonyms=synonyms))
    result = resp.results[0]
    raise_for(result.error_code, result.error_message, f"resource {name}")
    return [ConfigEntry(c.name, c.value, c.config_source, c.read_only, c.is_sensitive,
                        tuple((s.name, s.value, s.source) for s in c.synonyms))
            for c in result.configs]


SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


async def incremental_alter_configs(
    client: KafkaClient, resource_type: int, name: str, ops: list[tuple[str, int, str | None]]
) -> None:
    R = messages.IncrementalAlterConfigsRequest
    conn = await client.controller()
    resp: messages.IncrementalAlterConfigsResponse = await conn.request(R(resources=[R.AlterConfigsResource(
        resource_type=resource_type, resource_name=name,
        configs=[R.AlterableConfig(name=k, config_operation=op, value=v) for k, op, v in ops])]))
    for r in resp.responses:
        raise_for(r.error_code, r.error_message, f"resource {r.resource_name}")


async def list_offsets(
    client: KafkaClient, partitions: list[tuple[str, int]], timestamp: int, isolation_level: int = 0
) -> dict[tuple[str, int], tuple[int, int, int]]:
    """``(topic, partition) -> (error_code, offset, timestamp)``, asking each partition's leader."""
    R = messages.ListOffsetsRequest
    by_leader: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    out: dict[tuple[str, int], tuple[int, int, int]] = {}
    for topic, p in partitions:
        try:
            leader = client.leader_of(topic, p)
        except errors.KafkaError as e:
            out[(topic, p)] = (e.code, -1, -1)
            continue
        if leader < 0:
            out[(topic, p)] = (errors.LEADER_NOT_AVAILABLE.code, -1, -1)
            continue
        by_leader[leader][topic].append(p)
    for leader, topics in by_leader.items():
        conn = await client.connection(leader)
        version = conn.version_for(2)
        if timestamp == -3 and version < 7:
            raise errors.KafkaError(errors.UNSUPPORTED_VERSION, "The broker does not support max-timestamp")
        resp: messages.ListOffsetsResponse = await conn.request(R(
            replica_id=-1, isolation_level=isolation_level,
            topics=[R.ListOffsetsTopic(name=t, partitions=[
                R.ListOffsetsPartition(partition_index=p, timestamp=timestamp) for p in ps])
                for t, ps in topics.items()]), version=max(version, 1) if version >= 1 else version)
        for t in resp.topics:
            for pr in t.partitions:
                offset = pr.offset if version >= 1 else (pr.old_style_offsets[0] if pr.old_style_offsets else -1)
                out[(t.name, pr.partition_index)] = (pr.error_code, offset, pr.timestamp)
    return out


async def describe_many_configs(
    client: KafkaClient, resource_type: int, names: list[str], synonyms: bool = False
) -> dict[str, list[ConfigEntry]]:
    """Configs of several resources in one request; a resource that failed raises its error."""
    if not names:
        return {}
    R = messages.DescribeConfigsRequest
    conn = await client.any_connection()
    resp: messages.DescribeConfigsResponse = await conn.request(R(
        resources=[R.DescribeConfigsResource(resource_type=resource_type, resource_name=n, configuration_keys=None)
                   for n in names], include_synonyms=synonyms))
    out: dict[str, list[ConfigEntry]] = {}
    for result in resp.results:
        raise_for(result.error_code, result.error_message, f"resource {result.resource_name}")
        out[result.resource_name] = [
            ConfigEntry(c.name, c.value, c.config_source, c.read_only, c.is_sensitive,
                        tuple((s.name, s.value, s.source) for s in c.synonyms)) for c in result.configs]
    return out


async def api_versions(client: KafkaClient, node_id: int) -> dict[int, tuple[int, int]]:
    """The ``api key -> (min, max)`` table the broker advertised when the connection was opened."""
    conn = await client.connection(node_id)
    return dict(conn.versions)


# --- reassignment, leader election, log dirs (kafka-reassign-partitions, -leader-election, -log-dirs) --------

PartitionKey = tuple[str, int]
PREFERRED_ELECTION, UNCLEAN_ELECTION = 0, 1


@dataclass(frozen=True, slots=True)
class Reassignment:
    """A partition being moved: its full replica set and the replicas being added and removed."""

    replicas: list[int]
    adding: list[int]
    removing: list[int]


@dataclass(frozen=True, slots=True)
class LogDirInfo:
    log_dir: str
    error_code: int
    partitions: list[tuple[str, int, int, int, bool]]  # topic, partition, size, offset lag, is future


def _by_topic(keys: list[PartitionKey]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for topic, p in keys:
        out.setdefault(topic, []).append(p)
    return out


async def alter_partition_reassignments(
    client: KafkaClient, moves: dict[PartitionKey, list[int] | None], timeout_ms: int = 60000
) -> dict[PartitionKey, tuple[int, str | None]]:
    """Start (a replica list) or cancel (None) reassignments on the controller; ``(error code, message)`` each."""
    R = messages.AlterPartitionReassignmentsRequest
    topics: dict[str, list[messages.AlterPartitionReassignmentsRequest.ReassignablePartition]] = {}
    for (topic, p), replicas in moves.items():
        topics.setdefault(topic, []).append(R.ReassignablePartition(partition_index=p, replicas=replicas))
    conn = await client.controller()
    resp: messages.AlterPartitionReassignmentsResponse = await conn.request(R(
        timeout_ms=timeout_ms, topics=[R.ReassignableTopic(name=t, partitions=ps) for t, ps in topics.items()]))
    raise_for(resp.error_code, resp.error_message, "AlterPartitionReassignments")
    return {(t.name, p.partition_index): (p.error_code, p.error_message) for t in resp.responses for p in t.partitions}


async def list_partition_reassignments(
    client: KafkaClient, partitions: list[PartitionKey] | None = None
) -> dict[PartitionKey, Reassignment]:
    """Ongoing reassignments (all, or of ``partitions``), asked of the controller."""
    R = messages.ListPartitionReassignmentsRequest
    topics = None if partitions is None else [R.ListPartitionReassignmentsTopics(name=t, partition_indexes=ps)
                                              for t, ps in _by_topic(partitions).items()]
    conn = await client.controller()
    resp: messages.ListPartitionReassignmentsResponse = await conn.request(R(topics=topics))
    raise_for(resp.error_code, resp.error_message, "ListPartitionReassignments")
    return {(t.name, p.partition_index): Reassignment(list(p.replicas), list(p.adding_replicas),
                                                      list(p.removing_replicas))
            for t in resp.topics for p in t.partitions}


async def elect_leaders(
    client: KafkaClient, election_type: int, partitions: list[PartitionKey] | None, timeout_ms: int = 60000
) -> dict[PartitionKey, tuple[int, str | None]]:
    """ElectLeaders on the controller (``partitions`` None: every eligible one); ``(error code, message)`` each."""
    R = messages.ElectLeadersRequest
    conn = await client.controller()
    version = conn.version_for(43)
    if version == 0 and election_type != PREFERRED_ELECTION:
        raise errors.KafkaError(errors.UNSUPPORTED_VERSION, "The controller does not support unclean leader election")
    topics = None if partitions is None else [R.TopicPartitions(topic=t, partitions=ps)
                                              for t, ps in _by_topic(partitions).items()]
    resp: messages.ElectLeadersResponse = await conn.request(
        R(election_type=election_type, topic_partitions=topics, timeout_ms=timeout_ms), version=version)
    raise_for(resp.error_code, None, "ElectLeaders")
    return {(r.topic, p.partition_id): (p.error_code, p.error_message)
            for r in resp.replica_election_results for p in r.partition_result}


async def describe_log_dirs(client: KafkaClient, node_id: int, topics: list[PartitionKey] | None = None
                            ) -> list[LogDirInfo]:
    """Each log dir of broker ``node_id`` with the partitions it holds (all, or ``topics``' partitions)."""
    R = messages.DescribeLogDirsRequest
    conn = await client.connection(node_id)
    wanted = None if topics is None else [R.DescribableLogDirTopic(topic=t, partitions=ps)
                                          for t, ps in _by_topic(topics).items()]
    resp: messages.DescribeLogDirsResponse = await conn.request(R(topics=wanted))
    raise_for(resp.error_code, None, f"DescribeLogDirs on broker {node_id}")
    return [LogDirInfo(r.log_dir, r.error_code, [(t.name, p.partition_index, p.partition_size, p.offset_lag,
                                                  p.is_future_key) for t in r.topics for p in t.partitions])
            for r in resp.results]
