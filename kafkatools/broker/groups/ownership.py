"""Which groups this broker coordinates: those of the ``__consumer_offsets`` partitions it leads.

Kafka's GroupMetadataManager keeps the groups of exactly the offsets partitions its broker leads:
becoming leader of partition N replays N's log into the cache (``loadGroupsAndOffsets``), losing
it unloads N's groups (``removeGroupsForPartition``), whose waiting members are told
NOT_COORDINATOR so they look the coordinator up again.  A follower's copy of the log is never
served: it may be behind, and any change it made would fork the group's history.

Loading here is synchronous (it runs on the event loop when the role changes), so no request ever
sees a partition half-loaded and COORDINATOR_LOAD_IN_PROGRESS is never needed.  ``check`` also
loads lazily: a partition led without a role change (a standalone broker creating the topic, or
one opened as the single replica at start-up) is loaded on first use, exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from kafkatools import errors
from kafkatools.broker.groups.coordinator import GroupCoordinator, partition_for
from kafkatools.broker.groups.store import load_groups

log = logging.getLogger("kafkatools.broker.groups")


class Ownership:
    """Loads and unloads ``coordinator``'s groups as this broker's offsets-partition leadership moves.

    ``partition_count()``: partitions of ``__consumer_offsets`` (0 while it does not exist);
    ``leads(p)``: whether this broker leads partition ``p`` now; ``read(p)``: the raw batches of
    partition ``p``'s log, in offset order; ``ensure_topic()``: create the topic on first use.
    """

    def __init__(self, coordinator: GroupCoordinator, partition_count: Callable[[], int],
                 leads: Callable[[int], bool], read: Callable[[int], Iterable[bytes]], *,
                 ensure_topic: Callable[[], object] | None = None) -> None:
        self.coordinator = coordinator
        self.partition_count = partition_count
        self.leads = leads
        self.read = read
        self.ensure_topic = ensure_topic
        self.loaded: set[int] = set()
        coordinator.check_coordinator = self.check
        coordinator.sync_ownership = self.refresh

    def partition_of(self, group_id: str) -> int | None:
        n = self.partition_count()
        return partition_for(group_id, n) if n > 0 else None

    # -- role changes ----------------------------------------------------------------------------
    def on_role_change(self, partition: int, leads_now: bool) -> None:
        """``ReplicaManager.on_role_change`` for a ``__consumer_offsets`` partition."""
        if leads_now:
            self.load(partition)
        else:
            self.unload(partition)

    def load(self, partition: int) -> int:
        """Replay ``partition`` into the coordinator (no-op when already loaded); returns groups loaded."""
        if partition in self.loaded:
            return 0
        start = time.monotonic()
        self._drop_groups(partition)  # nothing should be there; never let stale groups mix with the log's
        groups = load_groups(self.read(partition))
        n = self.partition_count()
        for gid, group in groups.items():
            if n > 0 and partition_for(gid, n) == partition:
                self.coordinator.groups[gid] = group
        self.loaded.add(partition)
        log.info("Loaded %d group(s) of __consumer_offsets-%d in %.0f ms", len(groups), partition,
                 (time.monotonic() - start) * 1000)
        return len(groups)

    def unload(self, partition: int) -> int:
        """Forget ``partition``'s groups (this broker no longer leads it); returns groups dropped."""
        was_loaded = partition in self.loaded
        self.loaded.discard(partition)
        dropped = self._drop_groups(partition)  # also any group made before a load (never served)
        if not was_loaded and not dropped:
            return 0
        log.info("Unloaded %d group(s) of __consumer_offsets-%d: no longer its leader", dropped, partition)
        return dropped

    def _drop_groups(self, partition: int) -> int:
        n = self.partition_count()
        if n <= 0:
            return 0
        mine = [gid for gid in self.coordinator.groups if partition_for(gid, n) == partition]
        for gid in mine:
            self.coordinator.membership.unload(self.coordinator.groups.pop(gid))
        return len(mine)

    def refresh(self) -> None:
        """Bring ``loaded`` in line with leadership: load led partitions, unload the others."""
        for p in range(self.partition_count()):
            if self.leads(p):
                self.load(p)
        for p in sorted(self.loaded):
            if not self.leads(p):
                self.unload(p)
        n = self.partition_count()
        strays = [gid for gid in self.coordinator.groups if n <= 0 or partition_for(gid, n) not in self.loaded]
        for gid in strays:  # made outside any led partition (never served): not ours to list
            self.coordinator.membership.unload(self.coordinator.groups.pop(gid))

    # -- request checks ----------------------------------------------------------------------------
    def check(self, group_id: str) -> errors.ErrorCode | None:
        """None when this broker coordinates ``group_id`` (loading its partition if needed), else NOT_COORDINATOR."""
        if self.partition_count() <= 0 and self.ensure_topic is not None:
            self.ensure_topic()  # Kafka creates __consumer_offsets on first use (a standalone broker at once)
        p = self.partition_of(group_id)
        if p is None or not self.leads(p):
            if p is not None and p in self.loaded:  # the role change has not arrived yet
                self.unload(p)
            return errors.NOT_COORDINATOR
        self.load(p)
        return None
