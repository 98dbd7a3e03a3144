"""Configs, admin requests, notifications, producer-id blocks and the 0.8 consumer's znodes (Kafka 3.9 ZkData).

Layouts (compact JSON unless noted):

  /config/<type>/<name>               {"version":1,"config":{"retention.ms":"86400000"}}   values are strings
  /config/changes/config_change_<n>   v2 {"version":2,"entity_path":"topics/orders"}
                                      (v1 {"version":1,"entity_type":"topics","entity_name":"orders"};
                                       0.8.1-0.8.2: the JSON string "orders", topic configs only)
  /admin/delete_topics/<t>            no data
  /admin/reassign_partitions          {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3]}]}
  /admin/preferred_replica_election   {"version":1,"partitions":[{"topic":"t","partition":0}]}
  /isr_change_notification/isr_change_<n>   same shape as preferred_replica_election
  /log_dir_event_notification/log_dir_event_<n>   {"version":1,"broker":1,"event":1}
  /latest_producer_id_block           {"version":1,"broker":1,"block_start":"2000","block_end":"2999"}  (strings)
  /feature                            {"version":2,"status":1,"features":{}}
  /consumers/<g>/ids/<id>             ephemeral {"version":1,"subscription":{"t":2},"pattern":"static","timestamp":"…"}
  /consumers/<g>/owners/<t>/<p>       ephemeral text "<consumerId>-<thread>"
  /consumers/<g>/offsets/<t>/<p>      decimal text
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkatools.coordination import _json as j
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.errors import CoordinationError

if TYPE_CHECKING:
    from kafkatools.coordination.cluster_registry import ClusterRegistry

PRODUCER_ID_BLOCK_SIZE = 1000
LOG_DIR_FAILURE_EVENT = 1
CONSUMER_PATTERNS = ("static", "white_list", "black_list")


def encode_entity_config(config: dict[str, str]) -> bytes:
    return j.dumps({"version": 1, "config": dict(config)})


def decode_entity_config(path: str, data: bytes | None) -> dict[str, str]:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    config = j.dict_field(path, obj, "config", {})
    bad = [k for k, v in config.items() if not isinstance(v, str)]
    if bad:
        raise CoordinationError(f"config values must be strings: {', '.join(bad)}", path)
    return config


def encode_config_change(entity_path: str) -> bytes:
    """``entity_path`` is ``<type>/<name>`` (``topics/orders``, ``users/alice/clients/app``)."""
    return j.dumps({"version": 2, "entity_path": entity_path})


def decode_config_change(path: str, data: bytes | None) -> str:
    """The entity path of any notification version (0.8's bare topic string -> ``topics/<t>``)."""
    obj = j.loads(path, data)
    if isinstance(obj, str):
        return f"topics/{obj}"
    if not isinstance(obj, dict):
        raise CoordinationError("config change notification must be a JSON object or string", path)
    version = j.version(path, obj, (1, 2))
    if version == 1:
        return f"{j.str_field(path, obj, 'entity_type')}/{j.str_field(path, obj, 'entity_name')}"
    entity_path = j.str_field(path, obj, "entity_path")
    if "/" not in entity_path:
        raise CoordinationError(f"entity_path {entity_path!r} is not <type>/<name>", path)
    return entity_path


@dataclass(frozen=True, slots=True)
class TopicPartition:
    topic: str
    partition: int


def encode_partitions(partitions: list[TopicPartition]) -> bytes:
    """/admin/preferred_replica_election and /isr_change_notification/isr_change_<n>."""
    items = [{"topic": tp.topic, "partition": tp.partition} for tp in partitions]
    return j.dumps({"version": 1, "partitions": items})


def _partition_items(path: str, data: bytes | None) -> list[dict[str, Any]]:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    items = j.field(path, obj, "partitions")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise CoordinationError("field 'partitions' must be a list of objects", path)
    return items


def decode_partitions(path: str, data: bytes | None) -> list[TopicPartition]:
    return [TopicPartition(j.str_field(path, i, "topic"), j.int_field(path, i, "partition"))
            for i in _partition_items(path, data)]


def encode_reassignment(moves: dict[TopicPartition, list[int]]) -> bytes:
    items = [{"topic": tp.topic, "partition": tp.partition, "replicas": list(r)} for tp, r in moves.items()]
    return j.dumps({"version": 1, "partitions": items})


def decode_reassignment(path: str, data: bytes | None) -> dict[TopicPartition, list[int]]:
    out: dict[TopicPartition, list[int]] = {}
    for item in _partition_items(path, data):
        tp = TopicPartition(j.str_field(path, item, "topic"), j.int_field(path, item, "partition"))
        out[tp] = j.int_list(path, j.field(path, item, "replicas"), f"replicas of {tp.topic}-{tp.partition}")
    return out


def encode_log_dir_event(broker_id: int, event: int = LOG_DIR_FAILURE_EVENT) -> bytes:
    return j.dumps({"version": 1, "broker": broker_id, "event": event})


def decode_log_dir_event(path: str, data: bytes | None) -> tuple[int, int]:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    return j.int_field(path, obj, "broker"), j.int_field(path, obj, "event")


@dataclass(frozen=True, slots=True)
class ProducerIdBlock:
    broker_id: int
    block_start: int
    block_end: int  # inclusive

    def next_block(self, broker_id: int, size: int = PRODUCER_ID_BLOCK_SIZE) -> ProducerIdBlock:
        return ProducerIdBlock(broker_id, self.block_end + 1, self.block_end + size)


FIRST_PRODUCER_ID_BLOCK = ProducerIdBlock(-1, 0, PRODUCER_ID_BLOCK_SIZE - 1)


def encode_producer_id_block(block: ProducerIdBlock) -> bytes:
    return j.dumps({"version": 1, "broker": block.broker_id, "block_start": str(block.block_start),
                    "block_end": str(block.block_end)})


def decode_producer_id_block(path: str, data: bytes | None) -> ProducerIdBlock:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    block = ProducerIdBlock(j.int_field(path, obj, "broker"), j.long_text_field(path, obj, "block_start"),
                            j.long_text_field(path, obj, "block_end"))
    if block.block_end < block.block_start:
        raise CoordinationError(f"block_end {block.block_end} is before block_start {block.block_start}", path)
    return block


def encode_feature(features: dict[str, int], status: int = 1) -> bytes:
    """v2: each finalized feature as ``{"max_version_level": N}``; status 1 = enabled."""
    items = {name: {"max_version_level": level} for name, level in features.items()}
    return j.dumps({"version": 2, "status": status, "features": items})


def decode_feature(path: str, data: bytes | None) -> tuple[int, dict[str, int]]:
    obj = j.load_object(path, data)
    j.version(path, obj, (1, 2))
    out: dict[str, int] = {}
    for name, item in j.dict_field(path, obj, "features", {}).items():
        if not isinstance(item, dict):
            raise CoordinationError(f"feature {name!r} must be a JSON object", path)
        out[name] = j.int_field(path, item, "max_version_level")
    return j.int_field(path, obj, "status"), out


@dataclass(frozen=True, slots=True)
class ConsumerRegistration:
    subscription: dict[str, int]  # topic (or the filter's regex) -> stream count
    pattern: str
    timestamp_ms: int


def encode_consumer(reg: ConsumerRegistration) -> bytes:
    return j.dumps({"version": 1, "subscription": dict(reg.subscription), "pattern": reg.pattern,
                    "timestamp": str(reg.timestamp_ms)})


def decode_consumer(path: str, data: bytes | None) -> ConsumerRegistration:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    subscription = j.dict_field(path, obj, "subscription")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in subscription.values()):
        raise CoordinationError("subscription counts must be integers", path)
    pattern = j.str_field(path, obj, "pattern")
    if pattern not in CONSUMER_PATTERNS:
        raise CoordinationError(f"pattern must be one of {', '.join(CONSUMER_PATTERNS)}, found {pattern!r}", path)
    return ConsumerRegistration(subscription, pattern, j.long_text_field(path, obj, "timestamp"))


def encode_owner(consumer_id: str, thread: int) -> bytes:
    return f"{consumer_id}-{thread}".encode()


# --- kafka-topics --zookeeper (Kafka <= 2.8's AdminZkClient / TopicCommand on ZooKeeper) ------------------


@dataclass(frozen=True, slots=True)
class PartitionDescription:
    partition: int
    leader: int  # -1: none
    replicas: list[int]
    isr: list[int]


@dataclass(frozen=True, slots=True)
class TopicDescription:
    name: str
    topic_id: str | None
    configs: dict[str, str]
    partitions: list[PartitionDescription]
    marked_for_deletion: bool


INTERNAL_TOPICS = ("__consumer_offsets", "__transaction_state")


def zk_create_topic(registry: ClusterRegistry, topic: str, partitions: int | None, replication_factor: int | None,
                    assignment: list[list[int]] | None, configs: dict[str, str]) -> str:
    """AdminZkClient.createTopic: placement over the registered brokers, then the znodes; the topic id."""
    from kafkatools.coordination.assignment import assign_replicas, validate_assignment

    live = list(registry.live_brokers())
    if assignment is not None:
        plan = dict(enumerate(assignment))
        validate_assignment(plan, live)
    else:
        if partitions is None or replication_factor is None:
            raise CoordinationError("--partitions and --replication-factor are required without --replica-assignment")
        plan = assign_replicas(partitions, replication_factor, live)
    return registry.create_topic(topic, plan, configs)


def zk_describe_topic(registry: ClusterRegistry, topic: str) -> TopicDescription | None:
    assignment = registry.topic_assignment(topic)
    if assignment is None:
        return None
    parts = []
    for p, replicas in sorted(assignment.partitions.items()):
        found = registry.partition_state(topic, p)
        leader, isr = (found[0].leader, found[0].isr) if found else (-1, [])
        parts.append(PartitionDescription(p, leader, list(replicas), list(isr)))
    marked = registry.store.exists(zp.delete_topic_path(topic)) is not None
    return TopicDescription(topic, assignment.topic_id, registry.topic_config(topic), parts, marked)


def zk_marked_for_deletion(registry: ClusterRegistry) -> set[str]:
    try:
        return set(registry.store.children(zp.DELETE_TOPICS))
    except CoordinationError:
        return set()


def zk_delete_topic(registry: ClusterRegistry, topic: str) -> None:
    """Write ``/admin/delete_topics/<t>``; the controller deletes the topic.  Internal topics are refused."""
    if topic in INTERNAL_TOPICS:
        raise CoordinationError(
            f"Topic {topic} is a kafka internal topic and is not allowed to be marked for deletion.")
    if registry.topic_assignment(topic) is None:
        raise CoordinationError(f"Topic {topic} does not exist.")
    registry.mark_topic_for_deletion(topic)


def zk_broker_addresses(registry: ClusterRegistry) -> list[tuple[str, int]]:
    """Where the registered brokers listen (PLAINTEXT, else first endpoint): bootstrap for --zookeeper tools."""
    out = []
    for reg, _ in registry.live_brokers().values():
        ep = reg.plaintext or (reg.endpoints[0] if reg.endpoints else None)
        if ep is not None:
            out.append((ep.host, ep.port))
    return out


def bootstrap_from_zookeeper(connect: str, connect_timeout_s: float = 10.0) -> str:
    """``host:port,…`` of the brokers registered under ``connect`` (the 0.8 consumer's broker discovery)."""
    from kafkatools.coordination.cluster_registry import ClusterRegistry
    from kafkatools.coordination.kazoo_store import KazooStore

    store = KazooStore(connect, connect_timeout_s=connect_timeout_s)
    try:
        addresses = zk_broker_addresses(ClusterRegistry(store))
    finally:
        store.close()
    if not addresses:
        raise CoordinationError(f"no brokers are registered in ZooKeeper at {connect}", zp.BROKER_IDS)
    return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in addresses)
