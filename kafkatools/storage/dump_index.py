"""``kafka-dump-log`` for everything but logs: ``.index``, ``.timeindex``, ``.snapshot``, ``.txnindex``.

Index entries are checked against the segment's log the way Kafka's DumpLogSegments does (the
mismatches go into ``Problems``, printed after all files); ``--index-sanity-check`` runs Kafka's
load-time ``sanityCheck`` instead.  The two non-index layouts::

    .snapshot   version int16 (1) | crc uint32 (CRC-32C of the rest) | count int32 |
                count x (producerId int64, producerEpoch int16, lastSequence int32, lastOffset int64,
                         offsetDelta int32, timestamp int64, coordinatorEpoch int32,
                         currentTxnFirstOffset int64)                        -- ProducerStateManager
    .txnindex   34-byte entries: version int16, producerId int64, firstOffset int64,
                lastOffset int64, lastStableOffset int64                     -- TransactionIndex
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Final

from crc32c import crc32c

from kafkatools.storage.dump_lines import (
    DumpOptions,
    Line,
    Problems,
    base_offset,
    batch_holding,
    first_batch_last_offset,
    index_lookup,
    log_bytes,
    read_file,
    sibling,
)
from kafkatools.storage.names import INDEX_SUFFIX

_SNAPSHOT_ENTRY: Final = struct.Struct(">qhiqiqiq")
_TXN_ENTRY: Final = struct.Struct(">hqqqq")


def offset_index_problem(data: bytes, base: int, path: str) -> str | None:
    """Kafka's ``OffsetIndex.sanityCheck`` (the broker's historical load-time check) on the file's bytes."""
    entries = len(data) // 8
    if entries:
        last = base + struct.unpack_from(">i", data, (entries - 1) * 8)[0]
        if last < base:
            return (f"Corrupt index found, index file ({os.path.abspath(path)}) has non-zero size but the last "
                    f"offset is {last} which is less than the base offset {base}")
    if len(data) % 8:
        return (f"Index file {os.path.abspath(path)} is corrupt, found {len(data)} bytes which is neither "
                f"positive nor a multiple of 8")
    return None


def time_index_problem(data: bytes, base: int, path: str) -> str | None:
    """Kafka's ``TimeIndex.sanityCheck`` on the file's bytes."""
    entries = len(data) // 12
    where = os.path.abspath(path)
    if entries:
        first_ts = struct.unpack_from(">q", data, 0)[0]
        last_ts, last_rel = struct.unpack_from(">qi", data, (entries - 1) * 12)
        if last_ts < first_ts:
            return (f"Corrupt time index found, time index file ({where}) has non-zero size but the last timestamp "
                    f"is {last_ts} which is less than the first timestamp {first_ts}")
        if base + last_rel < base:
            return (f"Corrupt time index found, time index file ({where}) has non-zero size but the last offset "
                    f"is {base + last_rel} which is less than the first offset {base}")
    if len(data) % 12:
        return (f"Time index file {where} is corrupt, found {len(data)} bytes which is neither positive nor "
                f"a multiple of 12")
    return None


def _sanity_lines(path: str, problem: str | None, problems: Problems) -> Iterator[Line]:
    if problem is None:
        yield Line(f"{path} passed sanity check.", {"kind": "sanity", "path": path, "passed": True})
    else:
        problems.failures += 1
        yield Line(f"{path} failed sanity check: {problem}",
                   {"kind": "sanity", "path": path, "passed": False, "problem": problem}, err=True)


def dump_offset_index(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    base = base_offset(path)
    data = read_file(path)
    if len(data) < 8:
        yield Line(f"{path} is empty.", {"kind": "empty", "path": path})
        return
    if options.index_sanity_only:
        yield from _sanity_lines(path, offset_index_problem(data, base, path), problems)
        return
    log = log_bytes(path)
    for i, (rel, position) in enumerate(struct.iter_unpack(">ii", data[: len(data) - len(data) % 8])):
        offset = base + rel
        if i > 0 and offset == base:  # the zero tail of a preallocated (crash-left) index
            return
        found = first_batch_last_offset(log, position, options.max_message_size)
        if found != offset:
            problems.index_mismatches.setdefault(os.path.abspath(path), []).append((offset, found))
        if not options.verify_index_only:
            yield Line(f"offset: {offset} position: {position}", {"kind": "index", "offset": offset,
                                                                   "position": position})


def dump_time_index(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    base = base_offset(path)
    data = read_file(path)
    if len(data) < 12:
        yield Line(f"{path} is empty.", {"kind": "empty", "path": path})
        return
    if options.index_sanity_only:
        yield from _sanity_lines(path, time_index_problem(data, base, path), problems)
        return
    index_path = sibling(path, INDEX_SUFFIX)
    index = read_file(index_path) if os.path.exists(index_path) else b""
    index_entries = [(base + r, p) for r, p in struct.iter_unpack(">ii", index[: len(index) - len(index) % 8])]
    log = log_bytes(path)
    where = os.path.abspath(path)
    previous = -1
    for i, (timestamp, rel) in enumerate(struct.iter_unpack(">qi", data[: len(data) - len(data) % 12])):
        offset = base + rel
        if i > 0 and offset == base:
            return
        position = index_lookup(index_entries, offset)
        batch_last, max_ts = batch_holding(log, position, offset)
        if batch_last != offset:
            problems.time_not_found.setdefault(where, []).append((offset, batch_last))
        else:
            if max_ts != timestamp:
                problems.time_mismatches.setdefault(where, []).append((timestamp, max_ts))
            if previous >= timestamp:
                problems.time_out_of_order.setdefault(where, []).append((timestamp, previous))
        if not options.verify_index_only:
            yield Line(f"timestamp: {timestamp} offset: {offset}", {"kind": "timeindex", "timestamp": timestamp,
                                                                     "offset": offset})
        previous = timestamp


def _optional_long(value: int) -> str:
    return "OptionalLong.empty" if value < 0 else f"OptionalLong[{value}]"


def dump_producer_snapshot(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    data = read_file(path)
    problem = None
    if len(data) < 10:
        problem = f"Snapshot {path} is truncated: {len(data)} bytes"
    else:
        version, crc, count = struct.unpack_from(">hIi", data)
        computed = crc32c(data[6:])
        if version != 1:
            problem = f"Snapshot contains an unknown file version {version}"
        elif crc != computed:
            problem = f"Snapshot is corrupt (CRC is no longer valid). Stored crc: {crc}. Computed crc: {computed}"
        elif count < 0 or 10 + count * _SNAPSHOT_ENTRY.size != len(data):
            problem = f"Snapshot {path} declares {count} producers but holds {len(data) - 10} bytes of entries"
    if problem is not None:
        yield Line(problem, {"kind": "error", "path": path, "message": problem}, err=True)
        return
    for pid, epoch, last_seq, last_offset, delta, ts, coord_epoch, txn_first in _SNAPSHOT_ENTRY.iter_unpack(data[10:]):
        first_seq = last_seq - delta
        text = (f"producerId: {pid} producerEpoch: {epoch} coordinatorEpoch: {coord_epoch} currentTxnFirstOffset: "
                f"{_optional_long(txn_first)} lastTimestamp: {ts} firstSequence: {first_seq} lastSequence: "
                f"{last_seq} lastOffset: {last_offset} offsetDelta: {delta} timestamp: {ts}")
        yield Line(text, {"kind": "producer", "producerId": pid, "producerEpoch": epoch,
                          "coordinatorEpoch": coord_epoch,
                          "currentTxnFirstOffset": None if txn_first < 0 else txn_first,
                          "lastTimestamp": ts, "firstSequence": first_seq, "lastSequence": last_seq,
                          "lastOffset": last_offset, "offsetDelta": delta, "timestamp": ts})


def dump_txn_index(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    data = read_file(path)
    whole = len(data) - len(data) % _TXN_ENTRY.size
    for version, pid, first, last, lso in _TXN_ENTRY.iter_unpack(data[:whole]):
        if version != 0:
            message = f"Unexpected aborted transaction version {version} in {path}"
            yield Line(message, {"kind": "error", "path": path, "message": message}, err=True)
            return
        yield Line(f"version: {version} producerId: {pid} firstOffset: {first} lastOffset: {last} "
                   f"lastStableOffset: {lso}", {"kind": "aborted_txn", "version": version, "producerId": pid,
                                                "firstOffset": first, "lastOffset": last, "lastStableOffset": lso})
    if whole != len(data):
        message = f"Found {len(data) - whole} invalid bytes at the end of {os.path.basename(path)}"
        yield Line(message, {"kind": "invalid_bytes", "path": path, "count": len(data) - whole}, err=True)

