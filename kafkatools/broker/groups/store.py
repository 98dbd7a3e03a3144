"""The ``__consumer_offsets`` topic as the group coordinator's durable store.

Writes: each commit or group change becomes one RecordBatch v2 appended to the partition that
owns the group (``partition_for``), so ``kafka-dump-log --offsets-decoder`` shows exactly what
Kafka would.  Reads: when this broker becomes leader of a partition (ownership.py) its log is
replayed in offset order, later records overriding earlier ones and tombstones deleting — the same
result a compacted topic converges to.

Transactional offsets (TxnOffsetCommit, Kafka's ``storeOffsets`` with a producer id) are written
at once as a *transactional* batch carrying the producer's id and epoch (base sequence 0, as
Kafka's coordinator writes them); the transaction coordinator later appends a COMMIT or ABORT
control batch to the same partition.  Replay keeps such offsets pending per producer id until
that marker: COMMIT makes them the group's offsets, ABORT drops them, no marker yet leaves them
pending (invisible to OffsetFetch, UNSTABLE_OFFSET_COMMIT with require_stable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from kafkatools import errors
from kafkatools.broker.groups import records as rec
from kafkatools.broker.groups.coordinator import PendingWrite, partition_for
from kafkatools.broker.groups.group import CommittedOffset, Group, Member
from kafkatools.broker.groups.states import GroupState
from kafkatools.wire import batch as wb
from kafkatools.wire import control
from kafkatools.wire.records import RecordInput, build_batch, iter_records

log = logging.getLogger("kafkatools.broker.groups")
OFFSETS_TOPIC = "__consumer_offsets"


class OffsetsTopicStore:
    """Appends coordinator records to ``__consumer_offsets`` partitions through ``append``.

    ``partitions()``: the topic's partition count (the group -> partition rule must use the real
    topic's count, as FindCoordinator does).  ``append`` returns a ``PendingWrite`` while the batch
    still waits for the ISR, None when it is already committed."""

    def __init__(self, partitions: Callable[[], int], append: Callable[[int, bytes], PendingWrite | None]) -> None:
        self.partitions = partitions
        self._append = append

    def _write(self, group_id: str, entries: list[tuple[bytes, bytes | None]], *, producer_id: int = -1,
               producer_epoch: int = -1) -> PendingWrite | None:
        if not entries:
            return None
        now = int(time.time() * 1000)
        txn = producer_id >= 0
        batch = build_batch([RecordInput(k, v, now) for k, v in entries], producer_id=producer_id,
                            producer_epoch=producer_epoch, base_sequence=0 if txn else -1, is_transactional=txn)
        return self._append(partition_for(group_id, self.partitions()), batch)

    @staticmethod
    def _offset_entries(group_id: str, offsets: dict[tuple[str, int], CommittedOffset]) -> list[tuple[bytes, bytes]]:
        return [(rec.offset_key(group_id, t, p),
                 rec.offset_value(rec.OffsetValue(o.offset, o.leader_epoch, o.metadata, o.commit_timestamp)))
                for (t, p), o in offsets.items()]

    def write_offsets(self, group_id: str, offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        return self._write(group_id, list(self._offset_entries(group_id, offsets)))

    def write_txn_offsets(self, group_id: str, producer_id: int, producer_epoch: int,
                          offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        """TxnOffsetCommit: the offsets in a transactional batch of the producer (settled by its marker)."""
        return self._write(group_id, list(self._offset_entries(group_id, offsets)), producer_id=producer_id,
                           producer_epoch=producer_epoch)

    def write_group(self, group: Group) -> PendingWrite | None:
        protocol = group.protocol_name
        members = tuple(
            rec.MemberValue(m.member_id, m.group_instance_id, m.client_id, m.client_host, m.rebalance_timeout_ms,
                            m.session_timeout_ms, m.metadata_for(protocol) if protocol else b"", m.assignment)
            for m in group.members.values())
        value = rec.GroupValue(group.protocol_type or "", group.generation, protocol, group.leader_id,
                               int(time.time() * 1000), members)
        return self._write(group.group_id, [(rec.group_key(group.group_id), rec.group_value(value))])

    def delete_offsets(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None:
        return self._write(group_id, [(rec.offset_key(group_id, t, p), None) for t, p in partitions])

    def delete_group(self, group_id: str, partitions: Iterable[tuple[str, int]]) -> PendingWrite | None:
        entries: list[tuple[bytes, bytes | None]] = [(rec.offset_key(group_id, t, p), None) for t, p in partitions]
        entries.append((rec.group_key(group_id), None))
        return self._write(group_id, entries)


class _Replay:
    """The state a replay of ``__consumer_offsets`` batches builds up (``load_groups``)."""

    def __init__(self) -> None:
        self.offsets: dict[str, dict[tuple[str, int], CommittedOffset]] = {}
        self.metadata: dict[str, rec.GroupValue | None] = {}
        # producer id -> group -> offsets of its open transaction, in log order
        self.pending: dict[int, dict[str, dict[tuple[str, int], CommittedOffset]]] = {}

    def batch(self, blob: Any) -> None:
        h = wb.read_header(blob, 0)
        txn_pid = h.producer_id if h.magic == wb.MAGIC_V2 and h.is_transactional else -1
        if h.is_control:
            if txn_pid >= 0:
                self.marker(txn_pid, blob)
            return
        for r in iter_records(blob):
            if r.key is None:
                continue
            key = rec.decode_key(r.key)
            if isinstance(key, rec.OffsetKey):
                per = (self.offsets.setdefault(key.group, {}) if txn_pid < 0
                       else self.pending.setdefault(txn_pid, {}).setdefault(key.group, {}))
                if r.value is None:
                    per.pop((key.topic, key.partition), None)
                else:
                    v = rec.decode_offset_value(r.value)
                    per[(key.topic, key.partition)] = CommittedOffset(v.offset, v.leader_epoch, v.metadata,
                                                                       v.commit_timestamp, v.expire_timestamp)
            else:
                self.metadata[key.group] = None if r.value is None else rec.decode_group_value(r.value)

    def marker(self, producer_id: int, blob: Any) -> None:
        """COMMIT: the producer's pending offsets become the groups' offsets; ABORT: they are dropped."""
        first = next(iter(iter_records(blob)), None)
        kind = control.parse_key(first.key)[1] if first is not None else -1
        settled = self.pending.pop(producer_id, {})
        if kind == control.ControlType.COMMIT:
            for gid, offsets in settled.items():
                self.offsets.setdefault(gid, {}).update(offsets)

    def groups(self) -> dict[str, Group]:
        pending_groups = {gid for per in self.pending.values() for gid in per}
        known = set(self.offsets) | pending_groups | {g for g, v in self.metadata.items() if v is not None}
        groups: dict[str, Group] = {}
        for gid in known:
            value = self.metadata.get(gid)
            group = Group(gid)
            if value is not None:
                group.generation = value.generation
                group.protocol_type = value.protocol_type or None
            group.offsets = self.offsets.get(gid, {})
            group.pending_txn = {pid: dict(per[gid]) for pid, per in self.pending.items() if per.get(gid)}
            group.state = GroupState.EMPTY
            groups[gid] = group
        return groups


def load_groups(batches: Iterable[Any]) -> dict[str, Group]:
    """Replay ``__consumer_offsets`` record batches (raw bytes, in offset order) into groups.

    Loaded groups with members come back Empty-but-known: members must rejoin after a restart,
    exactly as with Kafka's coordinator failover (their generation is kept so offsets stay valid).
    Transactional offsets count once their COMMIT marker is replayed; without a marker yet they
    come back pending (the transaction coordinator's recovery will write it).
    """
    replay = _Replay()
    bad = 0
    for blob in batches:
        try:
            replay.batch(blob)
        except errors.CorruptRecordError as e:
            bad += 1
            log.warning("Skipping an unreadable __consumer_offsets batch: %s", e)
    if bad:
        log.warning("%d __consumer_offsets batches could not be read", bad)
    return replay.groups()


__all__ = ["OFFSETS_TOPIC", "Member", "OffsetsTopicStore", "load_groups"]
