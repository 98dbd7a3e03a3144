"""Offsets committed inside a transaction (TxnOffsetCommit): logged at once, visible only after COMMIT.

Kafka's group coordinator does not hold a transaction's offsets in memory until the end: it
appends them to the group's ``__consumer_offsets`` partition straight away as a transactional
batch of the producer (``storeOffsets`` with a producer id), keeps them as the group's *pending*
offsets of that producer, and settles them when the transaction coordinator's COMMIT or ABORT
marker lands on that partition (``scheduleHandleTxnCompletion``).  That makes a committed
transaction's offsets durable before EndTxn returns: a crash anywhere after PrepareCommit leaves
the offsets in the log, and the coordinator's recovery writes the marker that makes them count
(store.load_groups replays the same rule).

Pending offsets are invisible to OffsetFetch; with ``require_stable`` (v7+) a partition that has
some answers UNSTABLE_OFFSET_COMMIT so a read_committed consumer waits for the outcome.

Validation is Kafka's for transactional commits: a Dead group -> COORDINATOR_NOT_AVAILABLE; a
generation < 0 on an Empty group is a "simple" commit; otherwise a named member must belong to the
group (UNKNOWN_MEMBER_ID) and a given generation must be the current one (ILLEGAL_GENERATION).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.groups.group import CommittedOffset, Group
from kafkatools.broker.groups.states import GroupState

if TYPE_CHECKING:
    from kafkatools.broker.groups.coordinator import GroupCoordinator

E = errors.BY_NAME
Key = tuple[str, int]


class TransactionalOffsets:
    def __init__(self, coordinator: GroupCoordinator) -> None:
        self.coordinator = coordinator

    def _problem(self, group: Group, generation: int, member_id: str) -> errors.ErrorCode | None:
        if group.in_state(GroupState.DEAD):
            return E["COORDINATOR_NOT_AVAILABLE"]
        if generation < 0 and group.in_state(GroupState.EMPTY):
            return None
        if member_id and member_id not in group.members:
            return E["UNKNOWN_MEMBER_ID"]
        if generation >= 0 and generation != group.generation:
            return E["ILLEGAL_GENERATION"]
        return None

    async def commit(self, group_id: str, producer_id: int, producer_epoch: int, generation: int, member_id: str,
                     offsets: list[tuple[str, int, int, int, str | None]]) -> dict[Key, errors.ErrorCode]:
        """``offsets``: (topic, partition, offset, leader epoch, metadata) -> error per partition.

        The offsets are in the log (replicated to the ISR) before they become pending; a failed
        write changes nothing."""
        from kafkatools.broker.groups.coordinator import commit_error, settle

        c = self.coordinator
        keys = [(t, p) for t, p, *_ in offsets]
        if not group_id:
            return dict.fromkeys(keys, E["INVALID_GROUP_ID"])
        group = c.groups.get(group_id)
        if group is None:
            group = c.groups[group_id] = Group(group_id)
        top = self._problem(group, generation, member_id)
        if top is not None:
            return dict.fromkeys(keys, top)
        out, accepted = c.screen_offsets(offsets)
        if not accepted:
            return out
        try:
            pending = c.store.write_txn_offsets(group_id, producer_id, producer_epoch, accepted)
        except errors.KafkaError as e:  # NOT_COORDINATOR, NOT_ENOUGH_REPLICAS, INVALID_PRODUCER_EPOCH (fenced)
            return dict.fromkeys(keys, commit_error(e.error))
        failed = await settle(pending)
        if failed is not None:
            out.update(dict.fromkeys(accepted, commit_error(failed)))
            return out
        group.pending_txn.setdefault(producer_id, {}).update(accepted)
        return out

    def complete(self, producer_id: int, commit: bool, owns: Callable[[str], bool] = lambda _gid: True) -> int:
        """The producer's COMMIT/ABORT marker was written to an offsets partition: settle the pending
        offsets of the groups ``owns`` says live there.  Returns how many groups changed."""
        changed = 0
        for group in list(self.coordinator.groups.values()):
            if producer_id not in group.pending_txn or not owns(group.group_id):
                continue
            settled = group.pending_txn.pop(producer_id)
            if commit:
                group.offsets.update(settled)
            changed += 1
        return changed

    def unstable(self, group_id: str, keys: Iterable[Key]) -> set[Key]:
        """Those of ``keys`` with offsets of an unfinished transaction (OffsetFetch require_stable)."""
        group = self.coordinator.groups.get(group_id)
        if group is None or not group.pending_txn:
            return set()
        pending = {k for per in group.pending_txn.values() for k in per}
        return {k for k in keys if k in pending}

    def pending(self, group_id: str) -> dict[Key, CommittedOffset]:
        """Every pending offset of the group (newest producer's wins), for tools and tests."""
        group = self.coordinator.groups.get(group_id)
        out: dict[Key, CommittedOffset] = {}
        for per in (group.pending_txn.values() if group is not None else ()):
            out.update(per)
        return out
