"""Everything a handler may touch, in one object: config, cluster metadata, logs, partitions.

``BrokerState.open(config)`` locks and loads the log dirs (running recovery where the last
shutdown was not clean), loads the cluster metadata, and opens a ``Partition`` for every
partition this broker hosts.  It is also the standalone broker's controller: topic creation,
deletion and partition growth go through here, so the metadata and the logs change together.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.cluster import StandaloneCluster, TopicState, uuid_to_base64
from kafkatools.broker.config import BrokerConfig
from kafkatools.broker.groups.coordinator import GroupCoordinator
from kafkatools.broker.groups.ownership import Ownership
from kafkatools.broker.groups.store import OFFSETS_TOPIC, OffsetsTopicStore
from kafkatools.broker.log_cleaner import LogCleaner
from kafkatools.broker.partition import Partition
from kafkatools.broker.producer_state import ProducerIdAllocator
from kafkatools.broker.replication.delayed_produce import PendingAck, await_acks
from kafkatools.broker.replication.manager import ReplicaManager
from kafkatools.storage.config import LogConfig
from kafkatools.storage.inspect import iter_log_entries
from kafkatools.storage.manager import LogManager
from kafkatools.storage.metadata_files import read_meta_properties
from kafkatools.storage.names import META_PROPERTIES, TopicPartition

if TYPE_CHECKING:
    from kafkatools.broker.txn.coordinator import TransactionCoordinator
    from kafkatools.broker.zk.sync import ZkSync
    from kafkatools.broker.zk.zk_cluster import ZkCluster

log = logging.getLogger("kafkatools.broker")


@dataclass(frozen=True, slots=True)
class Node:
    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True, slots=True)
class DirUsage:
    partition_sizes: dict[tuple[str, int], int]
    total_bytes: int
    usable_bytes: int


class _OffsetsWrite:
    """A coordinator batch waiting for the ISR: the acks=all wait of Produce (DelayedProduce), bounded by
    ``offsets.commit.timeout.ms``; ``wait`` -> None once the HW passed it, else the Produce error."""

    def __init__(self, ack: PendingAck, timeout_s: float,
                 wait_for: Callable[[list[Partition], float], Awaitable[None]]) -> None:
        self.ack = ack
        self.timeout_s = timeout_s
        self.wait_for = wait_for

    async def wait(self) -> errors.ErrorCode | None:
        await await_acks([self.ack], self.timeout_s, self.wait_for)
        return self.ack.error


class BrokerState:
    def __init__(self, config: BrokerConfig, manager: LogManager, cluster: StandaloneCluster | ZkCluster) -> None:
        self.config = config
        self.node_id = config.broker_id
        self.logs = manager
        self.cluster = cluster
        self.partitions: dict[tuple[str, int], Partition] = {}
        self.advertised_host = config.advertised.host
        self.advertised_port = config.advertised.port
        self.producer_ids = ProducerIdAllocator(cluster.next_producer_id, cluster.reserve_producer_ids)
        self._closed = False
        self.replicas = ReplicaManager(self.node_id, self.partitions, config)
        self.zk: ZkSync | None = None  # ZooKeeper mode: registration, controller, state znodes (broker/zk)
        if not isinstance(cluster, StandaloneCluster):
            self._attach_zookeeper(cluster)
        for topic in cluster.topics.values():
            self._open_topic(topic)
        self.groups = GroupCoordinator(
            OffsetsTopicStore(self._offsets_partition_count, self._append_offsets_record),
            min_session_ms=config.group_min_session_timeout_ms, max_session_ms=config.group_max_session_timeout_ms,
            initial_delay_ms=config.group_initial_rebalance_delay_ms,
            offsets_retention_ms=config.offsets_retention_minutes * 60_000,
            partition_exists=lambda t, p: (t, p) in self.partitions)
        # The coordinator serves the groups of the offsets partitions this broker leads: loaded now for
        # partitions led from the start (standalone), later as ReplicaManager hands out leadership.
        self.group_ownership = Ownership(self.groups, self._existing_offsets_partitions, self._leads_offsets_partition,
                                         self._offsets_batches, ensure_topic=self.ensure_offsets_topic)
        self.group_ownership.refresh()
        self.replicas.on_role_change = self._on_role_change
        # Transactions are coordinated on standalone brokers only (a cluster broker cannot write markers
        # to partitions led elsewhere yet): None makes the transactional APIs answer COORDINATOR_NOT_AVAILABLE.
        from kafkatools.broker.txn.host import open_coordinator

        self.transactions: TransactionCoordinator | None = open_coordinator(self) if self.zk is None else None

    @classmethod
    def open(cls, config: BrokerConfig) -> BrokerState:
        start = time.monotonic()
        manager = LogManager(config.log_dirs, config.log_config, broker_id=config.broker_id)
        try:
            first = Path(manager.log_dirs[0])
            meta = read_meta_properties(str(first / META_PROPERTIES), manager.fs)
            cluster: StandaloneCluster | ZkCluster
            if config.standalone:
                cluster = StandaloneCluster(first, config.broker_id, meta.cluster_id if meta else None)
            else:
                from kafkatools.broker.zk.zk_cluster import open_zk_cluster

                cluster = open_zk_cluster(config)
            for d in manager.log_dirs:
                manager.ensure_meta_properties(d, cluster.cluster_id, config.broker_id)
            state = cls(config, manager, cluster)
        except BaseException:
            manager.close_unclean()
            raise
        recovered = [d for d, clean in manager.had_clean_shutdown.items() if not clean and manager.logs]
        log.info("Loaded %d partitions from %s in %.0f ms%s", len(manager.logs), ",".join(manager.log_dirs),
                 (time.monotonic() - start) * 1000,
                 f" (recovered after an unclean shutdown: {','.join(recovered)})" if recovered else "")
        return state

    # -- topology ----------------------------------------------------------------------------
    def topic_log_config(self, topic: TopicState) -> LogConfig:
        return self.config.log_config.with_overrides(topic.configs)

    def _open_topic(self, topic: TopicState) -> None:
        config = self.topic_log_config(topic)
        self.logs.set_topic_config(topic.name, config)
        tid = uuid_to_base64(topic.topic_id)
        for index, pstate in enumerate(topic.partitions):
            if (topic.name, index) in self.partitions or self.node_id not in pstate.replicas:
                continue
            plog = self.logs.get_or_create_log(TopicPartition(topic.name, index), tid)
            part = Partition(topic.name, index, plog, pstate, config)
            self.partitions[(topic.name, index)] = part
            # A replicated partition takes no role until the controller applies one (ReplicaManager.apply):
            # the stored state may be stale, and a stale leader must not accept writes.
            part.is_leader = pstate.leader == self.node_id and len(pstate.replicas) <= 1

    def open_topic(self, topic: TopicState) -> None:
        """Open the logs of this broker's replicas of ``topic`` that are not open yet."""
        self._open_topic(topic)

    def _attach_zookeeper(self, cluster: ZkCluster) -> None:
        from kafkatools.broker.zk.isr_channel import ZkIsrChannel
        from kafkatools.broker.zk.registration import ZkProducerIds
        from kafkatools.broker.zk.sync import ZkSync

        self.zk = ZkSync(self, cluster)
        self.replicas.isr_channel = ZkIsrChannel(cluster.registry)
        self.producer_ids = ZkProducerIds(cluster.registry, self.node_id)  # type: ignore[assignment]

    def partition(self, topic: str, index: int) -> Partition | None:
        return self.partitions.get((topic, index))

    def live_brokers(self) -> list[Node]:
        me = Node(self.node_id, self.advertised_host, self.advertised_port, self.config.broker_rack)
        if self.zk is not None:
            others = [Node(*n) for n in self.zk.cluster.nodes() if n[0] != self.node_id]
            return sorted([me, *others], key=lambda n: n.node_id)
        if not self.replicas.brokers:
            return [me]
        return sorted([me, *(Node(i, h, p) for i, (h, p) in self.replicas.brokers.items())], key=lambda n: n.node_id)

    def listen_address(self) -> tuple[str, int]:
        ep = self.config.listeners[0]
        return ep.host, ep.port

    def bound(self, port: int) -> None:
        """The listener is up on ``port`` (differs from the config when it asked for port 0)."""
        if self.advertised_port == 0:
            self.advertised_port = port

    # -- controller duties (standalone) ----------------------------------------------------------
    def assign_replicas(self, partitions: int, replication_factor: int, first_partition: int = 0) -> list[list[int]]:
        live = sorted(n.node_id for n in self.live_brokers())
        if replication_factor > len(live):
            raise errors.KafkaError(
                errors.INVALID_REPLICATION_FACTOR,
                f"Unable to replicate the partition {replication_factor} time(s): The target replication factor "
                f"of {replication_factor} cannot be reached because only {len(live)} broker(s) are registered.")
        n = len(live)
        return [[live[(p + j) % n] for j in range(replication_factor)]
                for p in range(first_partition, first_partition + partitions)]

    def create_topic(self, name: str, assignment: list[list[int]], configs: dict[str, str]) -> TopicState:
        topic = self.cluster.create_topic(name, assignment, configs)
        self._open_topic(topic)
        log.info("Created topic %s with %d partition(s) and replication factor %d", name, len(assignment),
                 len(assignment[0]) if assignment else 0)
        return topic

    async def auto_create_topic(self, name: str) -> TopicState | None:
        try:
            assignment = self.assign_replicas(self.config.num_partitions, self.config.default_replication_factor)
        except errors.KafkaError as e:
            log.warning("Cannot auto-create topic %s: %s", name, e)
            return None
        return self.create_topic(name, assignment, {})

    def delete_topic(self, name: str) -> None:
        topic = self.cluster.delete_topic(name)
        for index in range(len(topic.partitions)):
            self.stop_replica(name, index, delete=True)
        log.info("Deleted topic %s", name)

    def stop_replica(self, topic: str, index: int, *, delete: bool) -> None:
        """Stop leading/following a partition; with ``delete`` also drop it and its log (Kafka's StopReplica)."""
        self.replicas.stop_replica(topic, index)
        if delete:
            part = self.partitions.pop((topic, index), None)
            if part is not None:
                part.wake()
            self.logs.delete_log(TopicPartition(topic, index))

    def add_partitions(self, name: str, assignment: list[list[int]]) -> None:
        self.cluster.add_partitions(name, assignment)
        self._open_topic(self.cluster.topics[name])

    def set_topic_configs(self, name: str, configs: dict[str, str]) -> None:
        self.cluster.set_topic_configs(name, configs)
        topic = self.cluster.topics[name]
        config = self.topic_log_config(topic)
        self.logs.set_topic_config(name, config)
        for (t, _), part in self.partitions.items():
            if t == name:
                part.config = config

    # -- group coordinator support ------------------------------------------------------------------
    def ensure_offsets_topic(self) -> bool:
        """Create ``__consumer_offsets`` on first use, as Kafka does (compacted, ``offsets.topic.segment.bytes``).

        A standalone broker caps the replication factor at its single replica instead of refusing
        with COORDINATOR_NOT_AVAILABLE forever (Kafka would, when offsets.topic.replication.factor
        exceeds the live brokers); a ZooKeeper cluster waits for that many live brokers, as Kafka does.
        Returns whether the topic exists.
        """
        if OFFSETS_TOPIC in self.cluster.topics:
            return True
        live = len(self.live_brokers())
        rf = self.config.offsets_topic_replication_factor
        if self.zk is None:
            rf = min(rf, live)
        elif live < rf:  # Kafka's rule on a cluster: wait until enough brokers are alive
            log.info("Not creating %s yet: %d live broker(s), offsets.topic.replication.factor=%d",
                     OFFSETS_TOPIC, live, rf)
            return False
        assignment = self.assign_replicas(self.config.offsets_topic_num_partitions, max(rf, 1))
        try:
            self.create_topic(OFFSETS_TOPIC, assignment, {
                "cleanup.policy": "compact", "compression.type": "producer",
                "segment.bytes": str(self.config.offsets_topic_segment_bytes)})
        except errors.KafkaError as e:
            if e.error is not errors.TOPIC_ALREADY_EXISTS:  # another broker created it first: fine
                raise
        return OFFSETS_TOPIC in self.cluster.topics

    def group_coordinator(self, group_id: str) -> Node | None:
        """The broker coordinating ``group_id``: the leader of its ``__consumer_offsets`` partition."""
        from kafkatools.broker.groups.coordinator import partition_for

        if not self.ensure_offsets_topic():
            return None
        topic = self.cluster.topics.get(OFFSETS_TOPIC)
        if topic is None or not topic.partitions:
            return None
        leader = topic.partitions[partition_for(group_id, len(topic.partitions))].leader
        return next((n for n in self.live_brokers() if n.node_id == leader), None)

    def _existing_offsets_partitions(self) -> int:
        topic = self.cluster.topics.get(OFFSETS_TOPIC)
        return len(topic.partitions) if topic is not None else 0

    def _offsets_partition_count(self) -> int:
        return self._existing_offsets_partitions() or self.config.offsets_topic_num_partitions

    def _leads_offsets_partition(self, partition: int) -> bool:
        part = self.partitions.get((OFFSETS_TOPIC, partition))
        return part is not None and part.is_leader

    def _offsets_batches(self, partition: int) -> Iterator[bytes]:
        """The raw batches of this broker's replica of ``__consumer_offsets-partition``, in offset order."""
        part = self.partitions.get((OFFSETS_TOPIC, partition))
        if part is None:
            return
        for seg in list(part.log.segments):
            for info, data in iter_log_entries(seg.log_path):
                if info.last_offset >= part.log.log_start_offset:
                    yield data

    def _on_role_change(self, topic: str, partition: int, leads_now: bool) -> None:
        if topic == OFFSETS_TOPIC:
            self.group_ownership.on_role_change(partition, leads_now)

    def _append_offsets_record(self, partition: int, batch: bytes) -> _OffsetsWrite | None:
        """Append a coordinator batch as the leader with acks=-1 (Kafka's ``offsets.commit.required.acks``
        default): None when it is committed at once (HW = log end), else a write to wait for."""
        self.ensure_offsets_topic()
        part = self.partitions.get((OFFSETS_TOPIC, partition))
        if part is None or not part.is_leader:
            raise errors.KafkaError(errors.NOT_COORDINATOR,
                                    f"This broker does not lead {OFFSETS_TOPIC}-{partition}")
        if len(part.state.isr) < int(part.config.min_insync_replicas):
            raise errors.KafkaError(errors.NOT_ENOUGH_REPLICAS,
                                    f"The ISR of {OFFSETS_TOPIC}-{partition} is below min.insync.replicas")
        part.append_from_coordinator(batch)  # replicated: the high watermark follows the ISR
        end = part.log.log_end_offset
        if part.high_watermark >= end:
            return None
        return _OffsetsWrite(PendingAck(part, end, part.leader_epoch), self.config.offsets_commit_timeout_ms / 1000,
                             self.wait_for_appends)

    # -- fetch support --------------------------------------------------------------------------
    async def wait_for_appends(self, partitions: list[Partition], timeout: float) -> None:
        futures = [p.waiter() for p in partitions]
        try:
            await asyncio.wait(futures, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for f in futures:
                f.cancel()

    # -- housekeeping -----------------------------------------------------------------------------
    def checkpoint_log_start_offsets(self) -> None:
        self.logs.checkpoint_log_start_offsets()

    def log_dir_usage(self) -> dict[str, DirUsage]:
        out: dict[str, DirUsage] = {}
        for d in self.logs.log_dirs:
            sizes = {(tp.topic, tp.partition): plog.size_in_bytes for tp, plog in self.logs.logs.items()
                     if self.logs.dir_of(tp) == d}
            du = shutil.disk_usage(d)
            out[d] = DirUsage(sizes, du.total, du.free)
        return out

    async def housekeeping(self) -> None:
        """Kafka's scheduled tasks: checkpoints, retention and time-based flushes."""
        c = self.config
        schedule = [
            (c.replica_high_watermark_checkpoint_interval_ms, self.logs.checkpoint_high_watermarks),
            (c.log_flush_offset_checkpoint_interval_ms, self.logs.checkpoint_recovery_points),
            (c.log_flush_start_offset_checkpoint_interval_ms, self.logs.checkpoint_log_start_offsets),
        ]
        last = {i: time.monotonic() for i in range(len(schedule) + 1)}
        self.replicas.start()
        zk_task = asyncio.create_task(self.zk.run()) if self.zk is not None else None
        cleaner_task = asyncio.create_task(LogCleaner(self.logs, c).run())
        txn_task = asyncio.create_task(self._run_transactions()) if self.transactions is not None else None
        try:
            await self._housekeeping_loop(schedule, last)
        finally:
            if zk_task is not None:
                zk_task.cancel()
            cleaner_task.cancel()
            if txn_task is not None:
                txn_task.cancel()
            await self.replicas.close()

    async def _run_transactions(self) -> None:
        """Reload ``__transaction_state`` (settling what a crash left), then abort timed-out transactions."""
        from kafkatools.broker.txn import host

        assert self.transactions is not None
        await host.start(self.transactions)
        await host.expire_loop(self.transactions,
                               self.config.transaction_abort_timed_out_transaction_cleanup_interval_ms)

    async def _housekeeping_loop(self, schedule: list[tuple[int, Callable[..., None]]], last: dict[int, float]) -> None:
        c = self.config
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            self.replicas.check_isr()
            for i, (interval_ms, task) in enumerate(schedule):
                if (now - last[i]) * 1000 >= interval_ms:
                    last[i] = now
                    task()
            if (now - last[len(schedule)]) * 1000 >= c.log_retention_check_interval_ms:
                last[len(schedule)] = now
                deleted = self.logs.run_retention(int(time.time() * 1000))
                if deleted:
                    log.info("Retention deleted %d segment(s)", deleted)
                self.groups.expire_offsets(int(time.time() * 1000))
            self.groups.membership.expire_members()
            self.logs.flush_dirty_logs(int(time.time() * 1000))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for part in self.partitions.values():  # producer-state snapshots at the log end (d.8)
                if getattr(part, "is_leader", True):  # a follower's table misses replicated batches
                    part.producers.take_snapshot()
            self.logs.close()
            if self.zk is not None:
                self.zk.close()
            log.info("Log dirs closed cleanly (%s)", ",".join(os.path.basename(d) for d in self.logs.log_dirs))
