"""A broker's replicas: which partitions it leads or follows, and what changes when that moves.

``ReplicaManager.apply(topic, partition, state)`` is the one entry point for role decisions (the
static controller of the tests and the ZooKeeper controller both call it).  A state whose leader
epoch is older than the one in force is ignored; the same epoch only updates replicas and ISR; a
newer epoch makes this broker leader or follower:

- leader: stop fetching, record the new epoch in the leader-epoch cache at the log end, start
  tracking followers (partitions with one replica keep the HW = log end fast path);
- follower: forget follower tracking and hand the partition to the fetcher of the new leader,
  which first truncates by leader epoch (truncation.py) and then fetches.

Either way waiters (long-polling fetches, acks=all produces) are woken to re-check.  ISR changes
the leader wants go out through the IsrChannel and take effect when accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.replication.fetcher import ReplicaFetcher
from kafkatools.broker.replication.leader import LeaderTracker
from kafkatools.broker.replication.roles import AcceptingIsrChannel, IsrChannel

if TYPE_CHECKING:
    from kafkatools.broker.config import BrokerConfig
    from kafkatools.broker.partition import Partition

log = logging.getLogger("kafkatools.broker.replication")

Key = tuple[str, int]


def _monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


class ReplicaManager:
    def __init__(self, node_id: int, partitions: Mapping[Key, Partition], config: BrokerConfig, *,
                 isr_channel: IsrChannel | None = None, clock: Callable[[], int] = _monotonic_ms) -> None:
        self.node_id = node_id
        self.partitions = partitions
        self.config = config
        self.isr_channel: IsrChannel = isr_channel or AcceptingIsrChannel()
        self.clock = clock
        self.brokers: dict[int, tuple[str, int]] = {}
        self.trackers: dict[Key, LeaderTracker] = {}
        self.fetchers: dict[int, ReplicaFetcher] = {}
        self.following: dict[Key, int] = {}  # partition -> leader it is fetched from
        self._isr_in_flight: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Called after every role decision with (topic, partition, leads_now): the group coordinator
        # loads or drops the groups of a ``__consumer_offsets`` partition as its leadership moves.
        self.on_role_change: Callable[[str, int, bool], None] | None = None

    # -- controller-facing API ------------------------------------------------------------------
    def update_brokers(self, brokers: Mapping[int, tuple[str, int]]) -> None:
        """Where every broker listens (host, port): followers connect to their leaders through this."""
        self.brokers = {k: v for k, v in brokers.items() if k != self.node_id}
        for leader in list(self.fetchers):
            fetcher = self.fetchers[leader]
            if self.brokers.get(leader) != fetcher.address:
                self._restart_fetcher(leader)

    def apply(self, topic: str, partition: int, state: PartitionState) -> errors.ErrorCode | None:
        """Adopt ``state`` for a partition hosted here; FENCED_LEADER_EPOCH when it is stale."""
        part = self.partitions.get((topic, partition))
        if part is None:
            return errors.UNKNOWN_TOPIC_OR_PARTITION
        current = part.state
        key = (topic, partition)
        role_known = key in self.trackers or key in self.following or part.on_leader_append is not None
        if state.leader_epoch < current.leader_epoch or (state.leader_epoch == current.leader_epoch and role_known
                                                         and state.leader != current.leader):
            return errors.FENCED_LEADER_EPOCH
        new_epoch = state.leader_epoch > current.leader_epoch or not role_known
        current.leader, current.leader_epoch = state.leader, state.leader_epoch
        current.replicas, current.isr = list(state.replicas), list(state.isr)
        if state.leader == self.node_id:
            self._become_leader(key, part, new_epoch)
        else:
            self._become_follower(key, part, new_epoch)
        part.wake()
        self._role_changed(topic, partition, part.is_leader)
        return None

    def _role_changed(self, topic: str, partition: int, leads: bool) -> None:
        if self.on_role_change is not None:
            try:
                self.on_role_change(topic, partition, leads)
            except Exception:  # a listener's bug must not undo a role change already in force
                log.exception("Role-change listener failed for %s-%d", topic, partition)

    def stop_replica(self, topic: str, partition: int) -> None:
        """Stop leading or following (the caller deletes the log if asked to)."""
        key = (topic, partition)
        self.trackers.pop(key, None)
        self._stop_fetching(key)
        part = self.partitions.get(key)
        if part is not None:
            part.is_leader = False
            part.on_leader_append = None
            part.wake()
            self._role_changed(topic, partition, False)

    # -- leader side --------------------------------------------------------------------------------
    def _become_leader(self, key: Key, part: Partition, new_epoch: bool) -> None:
        self._stop_fetching(key)
        st = part.state
        was_follower = not part.is_leader
        part.is_leader = True
        if was_follower:  # followers track producers too; re-reading them from the newest snapshot (a follower
            part.producers.reload()  # writes them at rolls) guards against any truncation made behind our back
        if new_epoch:
            part.log.leader_epoch_cache.assign(st.leader_epoch, part.log_end_offset)
        if len(st.replicas) <= 1 and st.isr == [self.node_id]:
            self.trackers.pop(key, None)
            part.on_leader_append = None
            part.log.high_watermark = part.log_end_offset
            return
        tracker = self.trackers.get(key)
        if tracker is None or new_epoch:
            tracker = LeaderTracker(self.node_id, st.replicas, st.isr, part.log_end_offset, self.clock())
            self.trackers[key] = tracker
            log.info("[ReplicaManager broker=%d] Leader %s-%d at epoch %d, ISR %s, log end %d", self.node_id,
                     key[0], key[1], st.leader_epoch, st.isr, part.log_end_offset)
        else:
            tracker.set_replicas(st.replicas, st.isr, self.clock())
        part.on_leader_append = self._after_leader_append
        self._maybe_advance_hw(key, part)

    def _after_leader_append(self, part: Partition) -> None:
        self._maybe_advance_hw((part.topic, part.index), part)

    def _maybe_advance_hw(self, key: Key, part: Partition) -> bool:
        tracker = self.trackers.get(key)
        if tracker is None:
            return False
        hw = tracker.high_watermark(part.state.isr, part.log_end_offset)
        if hw > part.log.high_watermark:
            part.log.high_watermark = hw
            part.wake()
            return True
        return False

    def on_follower_fetch(self, part: Partition, replica_id: int, fetch_offset: int) -> errors.ErrorCode | None:
        """A follower fetched from ``fetch_offset``: its log end.  May move the HW and grow the ISR."""
        key = (part.topic, part.index)
        tracker = self.trackers.get(key)
        if tracker is None or not tracker.update_follower(replica_id, fetch_offset, part.log_end_offset, self.clock()):
            return errors.NOT_LEADER_OR_FOLLOWER  # not a replica of this partition (Kafka: unknown replica)
        self._maybe_advance_hw(key, part)
        joining = tracker.joining(part.state.isr, part.log.high_watermark)
        if joining:
            self._propose_isr(key, part, part.state.isr + sorted(joining))
        return None

    def check_isr(self) -> None:
        """Drop followers that have lagged for ``replica.lag.time.max.ms`` (called periodically)."""
        now = self.clock()
        for key, tracker in list(self.trackers.items()):
            part = self.partitions.get(key)
            if part is None or not part.is_leader:
                continue
            lagging = tracker.lagging(part.state.isr, part.log_end_offset, now, self.config.replica_lag_time_max_ms)
            if lagging:
                self._propose_isr(key, part, [r for r in part.state.isr if r not in lagging])

    def _propose_isr(self, key: Key, part: Partition, isr: list[int]) -> None:
        if key in self._isr_in_flight:
            return
        self._isr_in_flight.add(key)
        st = part.state
        proposed = PartitionState(st.leader, st.leader_epoch, list(st.replicas), isr)
        self._spawn(self._alter_isr(key, part, proposed))

    async def _alter_isr(self, key: Key, part: Partition, proposed: PartitionState) -> None:
        try:
            accepted = await self.isr_channel.alter_isr(key[0], key[1], proposed)
        except Exception as e:  # a failed write is retried by the next fetch or ISR check
            log.warning("ISR change for %s-%d failed: %s", key[0], key[1], e)
            accepted = None
        finally:
            self._isr_in_flight.discard(key)
        st = part.state
        if accepted is None or not part.is_leader or accepted.leader_epoch != st.leader_epoch:
            return
        log.info("[Partition %s-%d broker=%d] ISR updated from %s to %s", key[0], key[1], self.node_id, st.isr,
                 accepted.isr)
        st.isr = list(accepted.isr)
        self._maybe_advance_hw(key, part)
        part.wake()

    # -- follower side ------------------------------------------------------------------------------
    def _become_follower(self, key: Key, part: Partition, new_epoch: bool) -> None:
        self.trackers.pop(key, None)
        part.is_leader = False
        part.on_leader_append = None
        leader = part.state.leader
        if not new_epoch and self.following.get(key) == leader:
            return
        self._stop_fetching(key)
        if leader < 0:
            return
        fetcher = self.fetchers.get(leader)
        if fetcher is None:
            fetcher = ReplicaFetcher(self, leader)
            self.fetchers[leader] = fetcher
        fetcher.add(key, part, part.state.leader_epoch)
        self.following[key] = leader
        log.info("[ReplicaManager broker=%d] Follower of %s-%d: leader %d at epoch %d", self.node_id, key[0],
                 key[1], leader, part.state.leader_epoch)

    def _stop_fetching(self, key: Key) -> None:
        leader = self.following.pop(key, None)
        if leader is None:
            return
        fetcher = self.fetchers.get(leader)
        if fetcher is not None:
            fetcher.remove(key)
            if not fetcher.partitions:
                self.fetchers.pop(leader)
                self._spawn(fetcher.close())

    def _restart_fetcher(self, leader: int) -> None:
        fetcher = self.fetchers.pop(leader)
        self._spawn(fetcher.close())
        replacement = ReplicaFetcher(self, leader)
        for key, st in fetcher.partitions.items():
            replacement.add(key, st.partition, st.leader_epoch)
        self.fetchers[leader] = replacement

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the fetchers created before the event loop ran (idempotent)."""
        for fetcher in self.fetchers.values():
            fetcher.start()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop yet: nothing is running that needs stopping or telling
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        fetchers, self.fetchers = list(self.fetchers.values()), {}
        for f in fetchers:
            await f.close()
        for t in list(self._tasks):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
