"""A ZooKeeper-mode broker's loop: stay registered, maybe be controller, and follow the state znodes.

How brokers learn their roles (the simpler, pre-controller-RPC design): the controller only writes
partition state znodes (controller.py); every broker watches the cluster's znodes -- broker ids,
``/controller``, topic assignments and each partition's ``state`` -- and when a watch fires (or
every ``FULL_REFRESH_S`` regardless, in case one was lost) it re-reads them in a worker thread and,
back on the event loop, opens logs of new local replicas, deletes those of deleted topics, tells
``ReplicaManager.update_brokers`` where everyone listens and calls ``ReplicaManager.apply`` for each
hosted partition whose leader, epoch, replicas or ISR changed; a local replica of a partition
whose replica list no longer names this broker (a reassignment moved it away) is stopped and
deleted, as Kafka's StopReplica with delete does.  ZooKeeper calls never run on the event loop.

Losing ZooKeeper: a lost connection is said once (the broker keeps serving with what it knows);
an expired session means our ephemerals are gone -- we step down at once (controller claim
dropped), register again when ZooKeeper answers, and take our roles from whichever controller is
elected, rejoining ISRs through the leaders as any restarted follower does.  Bad znode contents
are reported once each (``Ignoring bad znode``) and skipped; nothing crashes or loops.

During a controlled shutdown (shutdown.py) ``shutting_down`` is set: we never claim /controller
again, and partitions whose leader is now elsewhere are stopped rather than followed -- a
follower that kept fetching would be added back to the ISR it just left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.replication.roles import copy_state
from kafkatools.broker.zk.controller import ZkController
from kafkatools.broker.zk.registration import registration
from kafkatools.broker.zk.zk_cluster import Snapshot, ZkCluster, read_snapshot
from kafkatools.coordination.errors import (
    ConnectionLossError,
    CoordinationError,
    SessionExpiredError,
    StoreTimeoutError,
)
from kafkatools.coordination.store import SessionState, WatchEvent

if TYPE_CHECKING:
    from kafkatools.broker.state import BrokerState

log = logging.getLogger("kafkatools.broker.zk")

TICK_S = 0.1
FULL_REFRESH_S = 3.0
RELOG_AFTER_S = 30.0  # a connection lost again sooner than this after coming back is the same outage


def _same(a: PartitionState, b: PartitionState) -> bool:
    return (a.leader, a.leader_epoch, a.replicas, a.isr) == (b.leader, b.leader_epoch, b.replicas, b.isr)


class ZkSync:
    def __init__(self, state: BrokerState, cluster: ZkCluster) -> None:
        self.state = state
        self.cluster = cluster
        self.registry = cluster.registry
        c = state.config
        self.controller = ZkController(self.registry, state.node_id, unclean=c.unclean_leader_election_enable,
                                       auto_rebalance=c.auto_leader_rebalance_enable,
                                       imbalance_interval_s=c.leader_imbalance_check_interval_seconds,
                                       imbalance_percentage=c.leader_imbalance_per_broker_percentage)
        self.controller.watch = self._on_watch
        self.registered = False
        self.broker_epoch = -1
        self.shutting_down = False
        self.connected = True
        self._stopped: set[tuple[str, int]] = set()  # stopped for the controlled shutdown
        self._lock = asyncio.Lock()
        self._dirty = True
        self._applied: set[tuple[str, int]] = set()
        self._refused: dict[tuple[str, int], tuple[int, int]] = {}  # (leader, epoch) already refused: log once
        self._problems: list[str] = []
        self._controller_problems: set[str] = set()  # worker thread only
        self._last_error: str | None = None
        self._closing = False
        self._reconnected_at = -RELOG_AFTER_S
        self.registry.store.add_session_listener(self._on_session)

    def _on_watch(self, _event: WatchEvent) -> None:  # kazoo's thread: only set a flag
        self._dirty = True

    def wake(self) -> None:
        """Re-read ZooKeeper at the next tick (after this broker's controller wrote something)."""
        self._dirty = True

    def _on_session(self, session: SessionState) -> None:  # kazoo's thread
        node = self.state.node_id
        if session is SessionState.LOST:
            was_controller = self.controller.claim is not None
            self.registered = False
            self.controller.claim = None
            if not self._closing:
                log.warning("[Broker id=%d] ZooKeeper session expired: stepping down%s; registering again with a "
                            "new session", node, " as controller" if was_controller else "")
        elif session is SessionState.SUSPENDED:
            if self.connected and not self._closing:
                if time.monotonic() - self._reconnected_at >= RELOG_AFTER_S:
                    log.warning("[Broker id=%d] Lost the connection to ZooKeeper; serving with the last known "
                                "cluster state until it is back", node)
                else:  # the same outage (e.g. reconnected, then told the session had expired): already said
                    log.info("[Broker id=%d] ZooKeeper connection dropped again; reconnecting", node)
            self.connected = False
        elif not self.connected:
            self.connected = True
            self._reconnected_at = time.monotonic()
            log.info("[Broker id=%d] Connected to ZooKeeper again", node)
        self._dirty = True

    async def run(self) -> None:
        last_full = 0.0
        while True:
            now = time.monotonic()
            if self._dirty or not self.registered or now - last_full >= FULL_REFRESH_S:
                self._dirty = False
                if now - last_full >= FULL_REFRESH_S:
                    last_full = now
                try:
                    await self.sync_once()
                    self._last_error = None
                except CoordinationError as e:
                    self._dirty = True
                    disconnected = isinstance(e, (ConnectionLossError, SessionExpiredError, StoreTimeoutError))
                    if str(e) != self._last_error and not (disconnected and not self.connected):
                        self._last_error = str(e)  # retried every tick: say it once (a lost connection is
                        log.warning("[Broker id=%d] ZooKeeper: %s (retrying)", self.state.node_id, e)  # said once)
            await asyncio.sleep(TICK_S)

    async def sync_once(self) -> None:
        """One round: coordinate in a worker thread, then merge on the event loop (never two at once)."""
        async with self._lock:
            snap = await asyncio.to_thread(self._coordinate)
            self.merge(snap)

    def _coordinate(self) -> Snapshot:
        """Worker thread: register if needed, run the controller if elected, read the snapshot."""
        if not self.registered:
            reg = registration(self.state.config, self.state.advertised_port)
            epoch = self.registry.register_broker(reg)  # refused while a dead session's node lingers
            self.registered = True
            self.broker_epoch = epoch
            log.info("[Broker id=%d] Registered in ZooKeeper at /brokers/ids/%d (broker epoch %d)",
                     self.state.node_id, self.state.node_id, epoch)
        if not self.shutting_down:
            try:
                if self.controller.elect():
                    self.controller.reconcile()
            except CoordinationError as e:  # bad contents the controller did not expect: said once, and this
                if type(e) is not CoordinationError:  # broker still follows the cluster (the snapshot below)
                    raise
                if str(e) not in self._controller_problems:
                    self._controller_problems.add(str(e))
                    log.error("[Broker id=%d] Controller pass failed on a bad znode: %s", self.state.node_id, e)
        return read_snapshot(self.registry, self._on_watch)

    def merge(self, snap: Snapshot) -> None:
        """Event loop: adopt the snapshot and give every hosted partition its role."""
        for p in snap.problems:  # each bad znode said once, for as long as it stays bad
            if p not in self._problems:
                log.error("[Broker id=%d] Ignoring bad znode: %s", self.state.node_id, p)
        self._problems = list(snap.problems)
        st = self.state
        new, removed = self.cluster.adopt(snap)
        for topic in removed:
            for index in range(len(topic.partitions)):
                if (topic.name, index) in st.partitions:
                    st.stop_replica(topic.name, index, delete=True)
                    self._applied.discard((topic.name, index))
            log.info("[Broker id=%d] Topic %s deleted", st.node_id, topic.name)
        for topic in new:
            st.open_topic(topic)
        self._drop_moved_replicas(snap)
        for topic in self.cluster.reconfigured:  # /config/topics/<t> changed (kafka-configs, another broker)
            config = st.topic_log_config(topic)
            st.logs.set_topic_config(topic.name, config)
            for (name, _), hosted in st.partitions.items():
                if name == topic.name:
                    hosted.config = config
        st.replicas.update_brokers({
            b: (ep.host, ep.port) for b, reg in snap.brokers.items()
            if (ep := reg.plaintext or (reg.endpoints[0] if reg.endpoints else None)) is not None
        })
        for name, seen in snap.topics.items():
            cached = self.cluster.topics.get(name)
            if cached is None:
                continue
            for index, wanted in enumerate(seen.states):
                if wanted is None:
                    continue
                key = (name, index)
                if key not in st.partitions and st.node_id in wanted.replicas and not self.shutting_down:
                    cached.partitions[index].replicas = list(wanted.replicas)  # a reassignment may have added us
                    st.open_topic(cached)
                part = st.partitions.get(key)
                if part is None:
                    current = cached.partitions[index]
                    current.leader, current.leader_epoch = wanted.leader, wanted.leader_epoch
                    current.replicas, current.isr = list(wanted.replicas), list(wanted.isr)
                    continue
                if self.shutting_down and wanted.leader != st.node_id:
                    if key not in self._stopped:  # led elsewhere now: stop, do not follow (see module doc)
                        self._stopped.add(key)
                        st.replicas.stop_replica(name, index)
                    current = part.state  # Metadata from us must name the new leader, or clients keep coming back
                    if wanted.leader_epoch >= current.leader_epoch:
                        current.leader, current.leader_epoch = wanted.leader, wanted.leader_epoch
                        current.replicas, current.isr = list(wanted.replicas), list(wanted.isr)
                    continue
                if key in self._applied and _same(part.state, wanted):
                    continue
                if self._refused.get(key) == (wanted.leader, wanted.leader_epoch):
                    continue
                outcome = st.replicas.apply(name, index, copy_state(wanted))
                if outcome is None:
                    self._applied.add(key)
                    self._refused.pop(key, None)
                else:
                    self._refused[key] = (wanted.leader, wanted.leader_epoch)
                    log.warning("[Broker id=%d] State of %s-%d not applied: %s", st.node_id, name, index,
                                outcome.name)

    def begin_shutdown(self) -> None:
        """Controlled shutdown starts: never claim /controller again, and stop following now -- a follower
        that kept fetching could be put back into an ISR the controller is about to take it out of."""
        self.shutting_down = True
        self.controller.retired = True
        for (name, index), part in list(self.state.partitions.items()):
            if not part.is_leader and (name, index) not in self._stopped:
                self._stopped.add((name, index))
                self.state.replicas.stop_replica(name, index)

    def _drop_moved_replicas(self, snap: Snapshot) -> None:
        """StopReplica with delete for local replicas whose partition's replica list no longer names us."""
        st = self.state
        for key in list(st.partitions):
            name, index = key
            seen = snap.topics.get(name)
            if seen is None or name in snap.unreadable or index >= len(seen.replicas):
                continue
            if st.node_id not in seen.replicas[index]:
                st.stop_replica(name, index, delete=True)
                self._applied.discard(key)
                self._refused.pop(key, None)
                log.info("[Broker id=%d] Replica of %s-%d moved away from this broker: stopped and deleted",
                         st.node_id, name, index)

    def close(self) -> None:
        """Resign and end the session: our ephemerals vanish at once, so others react without waiting."""
        if self._closing:
            return
        self._closing = True
        self.controller.retired = True
        if self.connected:  # resigning needs ZooKeeper; unreachable, the session's end frees /controller
            self.controller.resign()
        self.registry.store.close()
