"""A ZooKeeper-mode broker's loop: stay registered, maybe be controller, and follow the state znodes.

How brokers learn their roles (the simpler, pre-controller-RPC design): the controller only writes
partition state znodes (controller.py); every broker watches the cluster's znodes -- broker ids,
``/controller``, topic assignments and each partition's ``state`` -- and when a watch fires (or
every ``FULL_REFRESH_S`` regardless, in case one was lost) it re-reads them in a worker thread and,
back on the event loop, opens logs of new local replicas, deletes those of deleted topics, tells
``ReplicaManager.update_brokers`` where everyone listens and calls ``ReplicaManager.apply`` for each
hosted partition whose leader, epoch, replicas or ISR changed.  ZooKeeper calls never run on the
event loop.  After a session expiry the ephemerals are gone: the next tick registers again and the
controller claim is dropped (a new election decides).
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
from kafkatools.coordination.errors import CoordinationError
from kafkatools.coordination.store import SessionState, WatchEvent

if TYPE_CHECKING:
    from kafkatools.broker.state import BrokerState

log = logging.getLogger("kafkatools.broker.zk")

TICK_S = 0.1
FULL_REFRESH_S = 3.0


def _same(a: PartitionState, b: PartitionState) -> bool:
    return (a.leader, a.leader_epoch, a.replicas, a.isr) == (b.leader, b.leader_epoch, b.replicas, b.isr)


class ZkSync:
    def __init__(self, state: BrokerState, cluster: ZkCluster) -> None:
        self.state = state
        self.cluster = cluster
        self.registry = cluster.registry
        self.controller = ZkController(self.registry, state.node_id,
                                       unclean=state.config.unclean_leader_election_enable)
        self.registered = False
        self._dirty = True
        self._applied: set[tuple[str, int]] = set()
        self._refused: dict[tuple[str, int], tuple[int, int]] = {}  # (leader, epoch) already refused: log once
        self._problems: list[str] = []
        self._last_error: str | None = None
        self.registry.store.add_session_listener(self._on_session)

    def _on_watch(self, _event: WatchEvent) -> None:  # kazoo's thread: only set a flag
        self._dirty = True

    def _on_session(self, session: SessionState) -> None:
        if session is SessionState.LOST:
            self.registered = False
            self.controller.claim = None
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
                    snap = await asyncio.to_thread(self._coordinate)
                    self.merge(snap)
                    self._last_error = None
                except CoordinationError as e:
                    self._dirty = True
                    if str(e) != self._last_error:  # retried every tick: say it once
                        self._last_error = str(e)
                        log.warning("[Broker id=%d] ZooKeeper: %s (retrying)", self.state.node_id, e)
            await asyncio.sleep(TICK_S)

    def _coordinate(self) -> Snapshot:
        """Worker thread: register if needed, run the controller if elected, read the snapshot."""
        if not self.registered:
            reg = registration(self.state.config, self.state.advertised_port)
            epoch = self.registry.register_broker(reg)  # refused while a dead session's node lingers
            self.registered = True
            log.info("[Broker id=%d] Registered in ZooKeeper at /brokers/ids/%d (broker epoch %d)",
                     self.state.node_id, self.state.node_id, epoch)
        if self.controller.elect():
            self.controller.reconcile()
        return read_snapshot(self.registry, self._on_watch)

    def merge(self, snap: Snapshot) -> None:
        """Event loop: adopt the snapshot and give every hosted partition its role."""
        if snap.problems != self._problems:
            for p in snap.problems:
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
                if key not in st.partitions and st.node_id in wanted.replicas:
                    st.open_topic(cached)
                part = st.partitions.get(key)
                if part is None:
                    current = cached.partitions[index]
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

    def close(self) -> None:
        """Resign and end the session: our ephemerals vanish at once, so others react without waiting."""
        self.controller.resign()
        self.registry.store.close()
