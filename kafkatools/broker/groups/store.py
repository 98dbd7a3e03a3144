"""The ``__consumer_offsets`` topic as the group coordinator's durable store.

Writes: each commit or group change becomes one RecordBatch v2 appended to the partition that
owns the group (``partition_for``), so ``kafka-dump-log --offsets-decoder`` shows exactly what
Kafka would.  Reads: when this broker becomes leader of a partition (ownership.py) its log is
replayed in offset order, later records overriding earlier ones and tombstones deleting — the same
result a compacted topic converges to.
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

    def _write(self, group_id: str, entries: list[tuple[bytes, bytes | None]]) -> PendingWrite | None:
        if not entries:
            return None
        now = int(time.time() * 1000)
        batch = build_batch([RecordInput(k, v, now) for k, v in entries])
        return self._append(partition_for(group_id, self.partitions()), batch)

    def write_offsets(self, group_id: str, offsets: dict[tuple[str, int], CommittedOffset]) -> PendingWrite | None:
        return self._write(group_id, [
            (rec.offset_key(group_id, t, p),
             rec.offset_value(rec.OffsetValue(o.offset, o.leader_epoch, o.metadata, o.commit_timestamp)))
            for (t, p), o in offsets.items()])

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


def load_groups(batches: Iterable[Any]) -> dict[str, Group]:
    """Replay ``__consumer_offsets`` record batches (raw bytes, in offset order) into groups.

    Loaded groups with members come back Empty-but-known: members must rejoin after a restart,
    exactly as with Kafka's coordinator failover (their generation is kept so offsets stay valid).
    """
    offsets: dict[str, dict[tuple[str, int], CommittedOffset]] = {}
    metadata: dict[str, rec.GroupValue | None] = {}
    bad = 0
    for blob in batches:
        try:
            for r in iter_records(blob):
                if r.key is None:
                    continue
                key = rec.decode_key(r.key)
                if isinstance(key, rec.OffsetKey):
                    per = offsets.setdefault(key.group, {})
                    if r.value is None:
                        per.pop((key.topic, key.partition), None)
                    else:
                        v = rec.decode_offset_value(r.value)
                        per[(key.topic, key.partition)] = CommittedOffset(v.offset, v.leader_epoch, v.metadata,
                                                                           v.commit_timestamp, v.expire_timestamp)
                else:
                    metadata[key.group] = None if r.value is None else rec.decode_group_value(r.value)
        except errors.CorruptRecordError as e:
            bad += 1
            log.warning("Skipping an unreadable __consumer_offsets batch: %s", e)
    groups: dict[str, Group] = {}
    for gid in set(offsets) | {g for g, v in metadata.items() if v is not None}:
        value = metadata.get(gid)
        group = Group(gid)
        if value is not None:
            group.generation = value.generation
            group.protocol_type = value.protocol_type or None
        group.offsets = offsets.get(gid, {})
        group.state = GroupState.EMPTY
        groups[gid] = group
    if bad:
        log.warning("%d __consumer_offsets batches could not be read", bad)
    return groups


__all__ = ["OFFSETS_TOPIC", "Member", "OffsetsTopicStore", "load_groups"]
