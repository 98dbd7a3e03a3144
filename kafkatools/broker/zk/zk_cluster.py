"""Cluster metadata of a ZooKeeper-mode broker: StandaloneCluster's interface, backed by ZooKeeper.

Reads come from a cache (``topics``, ``brokers``, ``controller_id``) so request handlers never
block on ZooKeeper; ``read_snapshot`` re-reads everything (arming one-shot watches that mark the
cache dirty) and ``sync.ZkSync`` merges it in on the event loop.  Writes go to ZooKeeper as Kafka's
AdminZkClient makes them: ``/config/topics/<t>`` then ``/brokers/topics/<t>`` (v3, with the topic
id) for a new topic, a rewritten assignment for new partitions, ``/admin/delete_topics/<t>`` for a
deletion (the controller finishes it).  Partition state znodes are the controller's to write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kafkatools.broker.cluster import PartitionState, TopicState, uuid_from_base64, uuid_to_base64
from kafkatools.broker.config import BrokerConfig
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.errors import CoordinationError, NoNodeError
from kafkatools.coordination.prefetch import PrefetchedReads
from kafkatools.coordination.store import Watcher
from kafkatools.errors import UNKNOWN_TOPIC_OR_PARTITION, KafkaError


@dataclass(slots=True)
class TopicSnapshot:
    topic_id: uuid.UUID
    states: list[PartitionState | None]  # None: the controller has not written the state znode yet
    replicas: list[list[int]]
    configs: dict[str, str] | None  # None: /config/topics/<t> is unreadable, keep what is cached


@dataclass(slots=True)
class Snapshot:
    brokers: dict[int, zl.BrokerRegistration] = field(default_factory=dict)
    controller_id: int = -1
    topics: dict[str, TopicSnapshot] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # bad znodes, skipped with a message
    unreadable: set[str] = field(default_factory=set)  # topics whose znode is bad: cached as they were, not deleted


def read_snapshot(registry: ClusterRegistry, watch: Watcher | None = None) -> Snapshot:
    """Everything a broker caches, read from ZooKeeper (blocking); ``watch`` is armed on each node read.

    Broker registrations, topic znodes, topic configs and partition states are each read as one
    pipelined batch (``PrefetchedReads``), then decoded one by one as before.
    """
    snap = Snapshot()
    reads = PrefetchedReads(registry.store)
    cached = ClusterRegistry(reads)
    ids = [int(n) for n in registry.store.children(zp.BROKER_IDS, watch) if n.isdigit()]
    reads.prefetch([zp.broker_path(i) for i in ids])
    for broker_id in ids:  # one bad registration must not hide the others
        path = zp.broker_path(broker_id)
        try:
            snap.brokers[broker_id] = zl.decode_broker(path, broker_id, reads.get(path)[0])
        except NoNodeError:
            continue
        except CoordinationError as e:
            if type(e) is not CoordinationError:
                raise
            snap.problems.append(str(e))
    try:
        controller = registry.controller_id(watch)
        snap.controller_id = -1 if controller is None else controller
    except CoordinationError as e:
        if type(e) is not CoordinationError:
            raise
        snap.problems.append(str(e))
    try:
        deleting = set(registry.store.children(zp.DELETE_TOPICS, watch))
    except NoNodeError:
        deleting = set()
    # already gone as far as clients are concerned; the controller finishes it
    topics = [t for t in registry.topics(watch) if t not in deleting]
    reads.prefetch([zp.topic_path(t) for t in topics], watch)
    reads.prefetch([zp.topic_config_path(t) for t in topics])
    assignments: dict[str, zl.TopicAssignment] = {}
    for topic in topics:
        try:
            assignment = cached.topic_assignment(topic, watch)
        except (CoordinationError, ValueError) as e:
            _unreadable(snap, topic, e)
            continue
        if assignment is not None:
            assignments[topic] = assignment
    reads.prefetch([zp.partition_state_path(t, p) for t, a in assignments.items()
                    for p in range(max(a.partitions, default=-1) + 1)], watch)
    for topic, assignment in assignments.items():
        try:
            snap.topics[topic] = _read_topic(cached, topic, assignment, watch, snap.problems)
        except (CoordinationError, ValueError) as e:
            _unreadable(snap, topic, e)
    return snap


def _unreadable(snap: Snapshot, topic: str, e: Exception) -> None:
    if isinstance(e, CoordinationError) and type(e) is not CoordinationError:
        raise e  # ZooKeeper itself failed: the whole read is retried
    snap.problems.append(f"topic {topic}: {e}")
    snap.unreadable.add(topic)


def _read_topic(registry: ClusterRegistry, topic: str, assignment: zl.TopicAssignment,
                watch: Watcher | None, problems: list[str]) -> TopicSnapshot:
    count = max(assignment.partitions) + 1
    replicas = [list(assignment.partitions.get(p, [])) for p in range(count)]
    states: list[PartitionState | None] = []
    for p in range(count):
        path = zp.partition_state_path(topic, p)
        try:
            data, _ = registry.store.get(path, watch)
        except NoNodeError:
            registry.store.exists(path, watch)  # fires when the controller creates it
            states.append(None)
            continue
        try:
            st = zl.decode_partition_state(path, data)
        except CoordinationError as e:  # this partition keeps its current role; the others go on
            problems.append(str(e))
            states.append(None)
            continue
        states.append(PartitionState(st.leader, st.leader_epoch, replicas[p], list(st.isr)))
    if assignment.topic_id is None:
        raise CoordinationError("topic has no topic_id (written by a Kafka older than 2.8)", zp.topic_path(topic))
    configs: dict[str, str] | None
    try:
        configs = registry.topic_config(topic)
    except CoordinationError as e:
        if type(e) is not CoordinationError:
            raise
        problems.append(str(e))
        configs = None
    return TopicSnapshot(uuid_from_base64(assignment.topic_id), states, replicas, configs)


def open_zk_cluster(config: BrokerConfig) -> ZkCluster:
    """Connect, agree on the cluster id and load the current metadata (start-up, blocking)."""
    from kafkatools.broker.zk.registration import connect

    registry, cluster_id = connect(config)
    cluster = ZkCluster(registry, config.broker_id, cluster_id)
    cluster.adopt(read_snapshot(registry))
    return cluster


class ZkCluster:
    """What handlers read (``topics``, ``topic_by_id``, ``cluster_id``, ``controller_id``) plus ZooKeeper writes."""

    def __init__(self, registry: ClusterRegistry, node_id: int, cluster_id: str) -> None:
        self.registry = registry
        self.node_id = node_id
        self.cluster_id = cluster_id
        self.topics: dict[str, TopicState] = {}
        self._by_id: dict[uuid.UUID, TopicState] = {}
        self.brokers: dict[int, zl.BrokerRegistration] = {}
        self._controller_id = -1
        self.reconfigured: list[TopicState] = []  # topics whose configs the last ``adopt`` changed
        self.next_producer_id = 0  # unused: ZooKeeper mode hands out ids from claimed blocks (ZkProducerIds)

    def reserve_producer_ids(self, block_end: int) -> None:
        """StandaloneCluster's hook; producer id blocks live in /latest_producer_id_block here."""

    @property
    def controller_id(self) -> int:
        return self._controller_id

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicState | None:
        return self._by_id.get(topic_id)

    def nodes(self) -> list[tuple[int, str, int, str | None]]:
        """(id, host, port, rack) of every registered broker, from its PLAINTEXT (else first) endpoint."""
        out = []
        for b, reg in sorted(self.brokers.items()):
            ep = reg.plaintext or (reg.endpoints[0] if reg.endpoints else None)
            if ep is not None:
                out.append((b, ep.host, ep.port, reg.rack))
        return out

    def read_brokers(self) -> dict[int, zl.BrokerRegistration]:
        """``/brokers/ids`` read now (blocking: call it from a worker thread).

        The cached ``brokers`` follow the id list through a watch and the next snapshot, which can trail a
        registration that Metadata from another broker already shows; placement reads the truth instead.
        """
        return {broker_id: reg for broker_id, (reg, _epoch) in self.registry.live_brokers().items()}

    # -- cache ------------------------------------------------------------------------------------
    def adopt(self, snap: Snapshot) -> tuple[list[TopicState], list[TopicState]]:
        """Take the snapshot's topic list, brokers and controller: (new topics, removed topics).

        Existing TopicState objects are kept (partitions hold them), only grown; partition states
        are merged by the caller, which knows which partitions are hosted here.
        """
        self.brokers = dict(snap.brokers)
        self._controller_id = snap.controller_id
        new: list[TopicState] = []
        removed: list[TopicState] = []
        self.reconfigured = []
        for name, topic in list(self.topics.items()):
            seen = snap.topics.get(name)
            if name in snap.unreadable:  # a bad znode is not a deletion: keep the topic (and its logs)
                continue
            if seen is None or seen.topic_id != topic.topic_id:
                removed.append(self._forget(name))
        for name, seen in snap.topics.items():
            known = self.topics.get(name)
            if known is None:
                parts = [st or PartitionState(zl.NO_LEADER, -1, list(r), []) for st, r in zip(seen.states,
                                                                                         seen.replicas, strict=True)]
                topic = TopicState(name, seen.topic_id, parts, dict(seen.configs or {}))
                self.topics[name] = topic
                self._by_id[topic.topic_id] = topic
                new.append(topic)
                continue
            if seen.configs is not None and known.configs != seen.configs:
                known.configs = dict(seen.configs)
                self.reconfigured.append(known)
            for p in range(len(known.partitions), len(seen.replicas)):
                known.partitions.append(PartitionState(zl.NO_LEADER, -1, list(seen.replicas[p]), []))
        return new, removed

    def _forget(self, name: str) -> TopicState:
        topic = self.topics.pop(name)
        self._by_id.pop(topic.topic_id, None)
        return topic

    # -- writes (what StandaloneCluster offers) ----------------------------------------------------
    def create_topic(self, name: str, assignment: list[list[int]], configs: dict[str, str] | None = None
                     ) -> TopicState:
        topic_id = self.registry.create_topic(name, dict(enumerate(assignment)), dict(configs or {}))
        parts = [PartitionState(zl.NO_LEADER, -1, list(r), []) for r in assignment]
        topic = TopicState(name, uuid_from_base64(topic_id), parts, dict(configs or {}))
        self.topics[name] = topic
        self._by_id[topic.topic_id] = topic
        return topic

    def delete_topic(self, name: str) -> TopicState:
        if name not in self.topics:
            raise KafkaError(UNKNOWN_TOPIC_OR_PARTITION, f"Topic {name} does not exist.")
        self.registry.mark_topic_for_deletion(name)
        return self._forget(name)

    def add_partitions(self, name: str, assignment: list[list[int]]) -> None:
        topic = self.topics[name]
        current = self.registry.topic_assignment(name)
        if current is None:
            raise KafkaError(UNKNOWN_TOPIC_OR_PARTITION, f"Topic {name} does not exist.")
        partitions = dict(current.partitions)
        first = len(partitions)
        for i, replicas in enumerate(assignment):
            partitions[first + i] = list(replicas)
        updated = zl.TopicAssignment(partitions, current.topic_id or uuid_to_base64(topic.topic_id),
                                     current.adding_replicas, current.removing_replicas)
        self.registry.store.set(zp.topic_path(name), zl.encode_topic(updated))
        topic.partitions.extend(PartitionState(zl.NO_LEADER, -1, list(r), []) for r in assignment)

    def set_topic_configs(self, name: str, configs: dict[str, str]) -> None:
        self.registry.set_topic_config(name, dict(configs))
        self.topics[name].configs = dict(configs)
