"""The group coordinator: membership (membership.py) plus committed offsets and group admin.

Offsets follow Kafka's ``doCommitOffsets`` rules: a commit with generation < 0 to an Empty (or
unknown) group is a "simple" commit from a consumer that assigns partitions itself; otherwise the
member and generation must match (UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION), and commits during
CompletingRebalance get REBALANCE_IN_PROGRESS.  Every change goes through ``store`` (the
``__consumer_offsets`` log in the broker, an in-memory twin in unit tests) before it is applied,
so what clients were told is what a restart loads back.

A store write may answer with a ``PendingWrite``: the record is in the leader's log but not yet
replicated to the ISR.  Kafka appends coordinator records with acks=-1 and answers an OffsetCommit
only once the high watermark passes them, so a commit acknowledged to a consumer survives the
coordinator's death; the in-memory offsets change only then (a failed write changes nothing).

Offsets sent inside a transaction (TxnOffsetCommit) are handled by ``txn_offsets`` (txn_offsets.py).

``check_coordinator`` (set by ``Ownership``) says whether this broker coordinates a group at all;
every group API asks ``group_error`` first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from kafkatools import errors
from kafkatools.broker.groups.group import CommittedOffset, Group
from kafkatools.broker.groups.membership import Membership
from kafkatools.broker.groups.states import GroupState
from kafkatools.broker.groups.txn_offsets import TransactionalOffsets

E = errors.BY_NAME
S = GroupState
OFFSET_METADATA_MAX_BYTES = 4096


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode`` (UTF-16 code units), as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(group_id: str, partitions: int) -> int:
    """The ``__consumer_offsets`` partition owning a group: Kafka's ``Utils.abs(hashCode) % n``."""
    return (java_string_hash(group_id) & 0x7FFFFFFF) % partitions


class PendingWrite(Protocol):
    """A coordinator record appended but maybe not yet replicated: ``wait`` -> None once it is durable."""

    async def wait(self) -> errors.ErrorCode | None: ...


class GroupStore(Protocol):
    def write_offsets(self, group_id: str, offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        ...
    def write_txn_offsets(self, group_id: str, producer_id: int, producer_epoch: int,
                          offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None: ...
    def write_group(self, group: Group) -> PendingWrite | None: ...
    def delete_offsets(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None: ...
    def delete_group(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None: ...


# Kafka's mapping of a failed offsets-topic append to what the committer is told (storeOffsets).
_COMMIT_ERRORS = {
    "UNKNOWN_TOPIC_OR_PARTITION": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND": "COORDINATOR_NOT_AVAILABLE",
    "NOT_LEADER_OR_FOLLOWER": "NOT_COORDINATOR",
    "KAFKA_STORAGE_ERROR": "NOT_COORDINATOR",
    "MESSAGE_TOO_LARGE": "INVALID_COMMIT_OFFSET_SIZE",
    "RECORD_LIST_TOO_LARGE": "INVALID_COMMIT_OFFSET_SIZE",
}


def commit_error(error: errors.ErrorCode) -> errors.ErrorCode:
    """The OffsetCommit error for a failed append (REQUEST_TIMED_OUT and others pass through)."""
    return E.get(_COMMIT_ERRORS.get(error.name, error.name), error)


async def settle(pending: PendingWrite | None) -> errors.ErrorCode | None:
    return None if pending is None else await pending.wait()


class MemoryStore:
    """The in-memory twin of the ``__consumer_offsets`` store (unit tests)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, object]] = []

    def write_offsets(self, group_id: str, offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        self.writes.append(("offsets", (group_id, dict(offsets))))
        return None

    def write_txn_offsets(self, group_id: str, producer_id: int, producer_epoch: int,
                          offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        self.writes.append(("txn_offsets", (group_id, producer_id, producer_epoch, dict(offsets))))
        return None

    def write_group(self, group: Group) -> PendingWrite | None:
        self.writes.append(("group", (group.group_id, group.generation, group.state.value)))
        return None

    def delete_offsets(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None:
        self.writes.append(("delete_offsets", (group_id, list(partitions))))
        return None

    def delete_group(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None:
        self.writes.append(("delete_group", (group_id, list(partitions))))
        return None


class GroupCoordinator:
    def __init__(self, store: GroupStore, *, min_session_ms: int = 6000, max_session_ms: int = 1800000,
                 initial_delay_ms: int = 3000, offsets_retention_ms: int = 7 * 24 * 3600 * 1000,
                 partition_exists: Callable[[str, int], bool] = lambda t, p: True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.groups: dict[str, Group] = {}
        self.store = store
        self.offsets_retention_ms = offsets_retention_ms
        self.partition_exists = partition_exists
        self.membership = Membership(self.groups, min_session_ms=min_session_ms, max_session_ms=max_session_ms,
                                     initial_delay_ms=initial_delay_ms, on_group_change=store.write_group,
                                     clock=clock)
        # Set by ``Ownership``: None when this broker coordinates the group, else the error to answer.
        self.check_coordinator: Callable[[str], errors.ErrorCode | None] = lambda _group_id: None
        self.sync_ownership: Callable[[], None] = lambda: None  # load/unload before listing every group
        self.txn_offsets = TransactionalOffsets(self)

    def group_error(self, group_id: str, *, require_id: bool = True) -> errors.ErrorCode | None:
        """Kafka's ``validateGroupStatus``: INVALID_GROUP_ID (an empty id where one is required), then
        NOT_COORDINATOR when another broker leads the group's offsets partition."""
        if require_id and not group_id:
            return E["INVALID_GROUP_ID"]
        return self.check_coordinator(group_id)

    # -- offsets ----------------------------------------------------------------------------------
    async def commit_offsets(
        self, group_id: str, generation: int, member_id: str, instance_id: str | None,
        offsets: list[tuple[str, int, int, int, str | None]],
    ) -> dict[tuple[str, int], errors.ErrorCode]:
        """``offsets``: (topic, partition, offset, leader epoch, metadata) -> error per partition."""
        keys = [(t, p) for t, p, *_ in offsets]
        if not group_id:
            return dict.fromkeys(keys, E["INVALID_GROUP_ID"])
        group = self.groups.get(group_id)
        if group is None:
            if generation >= 0:
                return dict.fromkeys(keys, E["ILLEGAL_GENERATION"])
            group = self.groups[group_id] = Group(group_id)
        top = self._commit_problem(group, generation, member_id, instance_id)
        if top is not None:
            return dict.fromkeys(keys, top)
        out, accepted = self.screen_offsets(offsets)
        if accepted:
            try:
                pending = self.store.write_offsets(group_id, accepted)
            except errors.KafkaError as e:  # NOT_COORDINATOR (partition lost), NOT_ENOUGH_REPLICAS (ISR too small)
                return dict.fromkeys(keys, commit_error(e.error))
            failed = await settle(pending)
            if failed is not None:  # not replicated: the commit did not happen
                out.update(dict.fromkeys(accepted, commit_error(failed)))
                return out
            group.offsets.update(accepted)
        return out

    def screen_offsets(self, offsets: list[tuple[str, int, int, int, str | None]]
                       ) -> tuple[dict[tuple[str, int], errors.ErrorCode], dict[tuple[str, int], CommittedOffset]]:
        """Per-partition checks shared by OffsetCommit and TxnOffsetCommit: (error per partition, the
        offsets that passed, stamped now)."""
        now_ms = int(time.time() * 1000)
        out: dict[tuple[str, int], errors.ErrorCode] = {}
        accepted: dict[tuple[str, int], CommittedOffset] = {}
        for topic, partition, offset, epoch, metadata in offsets:
            key = (topic, partition)
            if metadata is not None and len(metadata.encode()) > OFFSET_METADATA_MAX_BYTES:
                out[key] = E["OFFSET_METADATA_TOO_LARGE"]
            elif not self.partition_exists(topic, partition):
                out[key] = errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                accepted[key] = CommittedOffset(offset, epoch, metadata or "", now_ms)
                out[key] = errors.NONE
        return out, accepted

    def _commit_problem(self, group: Group, generation: int, member_id: str,
                        instance_id: str | None) -> errors.ErrorCode | None:
        if group.in_state(S.DEAD):
            return E["COORDINATOR_NOT_AVAILABLE"]
        if generation < 0 and group.in_state(S.EMPTY):
            return None
        if group.in_state(S.COMPLETING_REBALANCE):
            return E["REBALANCE_IN_PROGRESS"]
        member = group.members.get(member_id)
        if member is None:
            return E["UNKNOWN_MEMBER_ID"]
        if instance_id is not None and group.static_members.get(instance_id) != member_id:
            return E["FENCED_INSTANCE_ID"]
        if generation != group.generation:
            return E["ILLEGAL_GENERATION"]
        return None

    def fetch_offsets(self, group_id: str,
                      partitions: list[tuple[str, int]] | None) -> dict[tuple[str, int], CommittedOffset | None]:
        group = self.groups.get(group_id)
        stored = group.offsets if group is not None else {}
        if partitions is None:
            return dict(sorted(stored.items()))
        return {key: stored.get(key) for key in partitions}

    def delete_offsets(
        self, group_id: str, partitions: list[tuple[str, int]]
    ) -> tuple[errors.ErrorCode, dict[tuple[str, int], errors.ErrorCode]]:
        group = self.groups.get(group_id)
        if group is None or group.in_state(S.DEAD):
            return E["GROUP_ID_NOT_FOUND"], {}
        if group.protocol_type not in (None, "", "consumer") and not group.in_state(S.EMPTY):
            return E["NON_EMPTY_GROUP"], {}
        subscribed = group.subscribed_topics() if not group.in_state(S.EMPTY) else set()
        out: dict[tuple[str, int], errors.ErrorCode] = {}
        gone: list[tuple[str, int]] = []
        for key in partitions:
            if subscribed is None or key[0] in subscribed:
                out[key] = E["GROUP_SUBSCRIBED_TO_TOPIC"]
            else:
                out[key] = errors.NONE
                if key in group.offsets:
                    gone.append(key)
        if gone:
            self.store.delete_offsets(group_id, gone)
            for key in gone:
                del group.offsets[key]
        return errors.NONE, out

    # -- admin ------------------------------------------------------------------------------------
    def list_groups(self, states: set[str] | None = None) -> list[Group]:
        self.sync_ownership()
        wanted = {s.lower() for s in states} if states else None
        return [g for g in sorted(self.groups.values(), key=lambda g: g.group_id)
                if not g.in_state(S.DEAD) and (wanted is None or g.state.value.lower() in wanted)]

    def describe(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def delete_groups(self, group_ids: list[str]) -> dict[str, errors.ErrorCode]:
        out: dict[str, errors.ErrorCode] = {}
        for gid in group_ids:
            group = self.groups.get(gid)
            if group is None or group.in_state(S.DEAD):
                out[gid] = E["GROUP_ID_NOT_FOUND"]
            elif not group.in_state(S.EMPTY):
                out[gid] = E["NON_EMPTY_GROUP"]
            else:
                self.store.delete_group(gid, list(group.offsets))
                group.transition(S.DEAD)
                del self.groups[gid]
                out[gid] = errors.NONE
        return out

    def expire_offsets(self, now_ms: int) -> int:
        """Offset retention (``offsets.retention.minutes``): drop offsets of Empty groups not committed since."""
        dropped = 0
        for group in list(self.groups.values()):
            if not group.in_state(S.EMPTY):
                continue
            old = [k for k, v in group.offsets.items() if now_ms - v.commit_timestamp > self.offsets_retention_ms]
            if old:
                self.store.delete_offsets(group.group_id, old)
                for k in old:
                    del group.offsets[k]
                dropped += len(old)
            if not group.offsets and not group.members and not group.pending_txn:
                self.store.delete_group(group.group_id, [])
                group.transition(S.DEAD)
                del self.groups[group.group_id]
        return dropped
