"""What ``kafka-dump-log`` prints for each file: Kafka 3.9's ``DumpLogSegments`` lines, as data.

Pure: a file path in, ``Line`` objects out (text for the terminal plus a dict for ``--output json``);
the CLI only writes them.  Problems Kafka reports after all files (index/log mismatches,
non-consecutive offsets, time-index errors) are collected in ``Problems`` and printed at the end.
Unlike Kafka, a corrupt or truncated file never stops the tool: a batch whose CRC fails shows
``isvalid: false``, bytes after the last whole batch are reported as ``Found <n> invalid bytes``,
and records that cannot be decoded are reported on stderr while the dump goes on.

Files by suffix: ``.log`` and KRaft ``.checkpoint`` (log entries, any magic), ``.index``,
``.timeindex``, ``.snapshot`` (producer state), ``.txnindex``.  Log entries and indexes are laid out
as ``wire.batch``, ``wire.legacy`` and ``storage.index`` describe; the other two files::

    .snapshot   version int16 (1) | crc uint32 (CRC-32C of the rest) | count int32 |
                count x (producerId int64, producerEpoch int16, lastSequence int32, lastOffset int64,
                         offsetDelta int32, timestamp int64, coordinatorEpoch int32,
                         currentTxnFirstOffset int64)                        -- ProducerStateManager
    .txnindex   34-byte entries: version int16, producerId int64, firstOffset int64,
                lastOffset int64, lastStableOffset int64                     -- TransactionIndex
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from crc32c import crc32c

from kafkatools.errors import CorruptRecordError, KafkatoolsError
from kafkatools.storage.coordinator_records import F, decode_struct
from kafkatools.storage.names import (
    INDEX_SUFFIX,
    LOG_SUFFIX,
    SNAPSHOT_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
)
from kafkatools.wire import batch as wb
from kafkatools.wire import control, legacy
from kafkatools.wire.control import ControlType
from kafkatools.wire.log_entries import Batch, iter_batches
from kafkatools.wire.records import Record

KRAFT_SNAPSHOT_SUFFIX: Final = ".checkpoint"
BOOTSTRAP_SNAPSHOT: Final = "bootstrap.checkpoint"
INT_MAX: Final = 2**31 - 1
_SNAPSHOT_ENTRY: Final = struct.Struct(">qhiqiqiq")
_TXN_ENTRY: Final = struct.Struct(">hqqqq")

Buf = bytes | memoryview
RecordParser = Callable[[bytes | None, bytes | None], tuple[str | None, str | None]]


class Line(NamedTuple):
    """One output line: ``text`` as Kafka prints it, ``data`` for JSON, ``err`` for stderr."""

    text: str
    data: dict[str, object]
    err: bool = False


@dataclass(frozen=True, slots=True)
class DumpOptions:
    print_data: bool = False
    deep_iteration: bool = False
    skip_record_metadata: bool = False
    verify_index_only: bool = False
    index_sanity_only: bool = False
    max_message_size: int = 5 * 1024 * 1024
    max_bytes: int = INT_MAX
    parser: RecordParser | None = None  # None: StringDecoder for key and value


@dataclass
class Problems:
    """What Kafka prints to stderr after every file was dumped, plus our own failures (exit 1)."""

    index_mismatches: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    non_consecutive: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_mismatches: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_out_of_order: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_not_found: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    failures: int = 0

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, pairs in self.time_mismatches.items():
            out.append(f"Found timestamp mismatch in :{name}")
            out += [f"  Index timestamp: {a}, log timestamp: {b}" for a, b in pairs]
        for name, pairs in self.time_out_of_order.items():
            out.append(f"Found out of order timestamp in :{name}")
            out += [f"  Index timestamp: {a}, Previously indexed timestamp: {b}" for a, b in pairs]
        for pairs in self.time_not_found.values():
            out.append("The following indexed offsets are not found in the log.")
            out += [f"Indexed offset: {a}, found log offset: {b}" for a, b in pairs]
        # Kafka prepends to these two lists, so they come out newest first.
        for name, pairs in self.index_mismatches.items():
            out.append(f"Mismatches in :{name}")
            out += [f"  Index offset: {a}, log offset: {b}" for a, b in reversed(pairs)]
        for name, pairs in self.non_consecutive.items():
            out.append(f"Non-consecutive offsets in {name}")
            out += [f"  {a} is followed by {b}" for a, b in reversed(pairs)]
        return out


MMAP_THRESHOLD = 16 * 1024 * 1024


def _read(path: str, limit: int | None = None) -> bytes:
    with open(path, "rb") as f:
        return f.read() if limit is None else f.read(limit)


def _map_log(path: str, limit: int | None = None) -> Buf:
    """A segment's bytes; big segments (up to 1 GiB) are mapped, not read, so the dump stays small in memory.

    The mapping is never closed explicitly: batches keep views into it, and it goes with the last one.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0 or size < MMAP_THRESHOLD or (limit is not None and limit < MMAP_THRESHOLD):
            return f.read() if limit is None else f.read(limit)
        view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    return view if limit is None else view[:limit]


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def dump_file(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    """Every line Kafka prints for ``path`` (``Dumping <path>`` first); never raises for file contents."""
    yield Line(f"Dumping {path}", {"kind": "file", "path": path})
    name = os.path.basename(path)
    suffix = _suffix(name)
    dumpers: dict[str, Callable[[str, DumpOptions, Problems], Iterator[Line]]] = {
        LOG_SUFFIX: dump_log, KRAFT_SNAPSHOT_SUFFIX: dump_log, INDEX_SUFFIX: dump_offset_index,
        TIME_INDEX_SUFFIX: dump_time_index, SNAPSHOT_SUFFIX: dump_producer_snapshot, TXN_INDEX_SUFFIX: dump_txn_index,
    }
    dumper = dumpers.get(suffix)
    if dumper is None:
        yield Line(f"Ignoring unknown file {path}", {"kind": "ignored", "path": path}, err=True)
        return
    try:
        yield from dumper(path, options, problems)
    except (OSError, KafkatoolsError, ValueError) as e:
        problems.failures += 1
        message = f"{path}: {e.strerror}" if isinstance(e, OSError) and e.strerror else f"{path}: {e}"
        yield Line(message, {"kind": "error", "path": path, "message": message}, err=True)


# ---- indexes -------------------------------------------------------------------------------------------


def _base_offset(path: str) -> int:
    head = os.path.basename(path).split(".", 1)[0]
    if not head.isdigit():
        raise ValueError(f"the file name does not start with a segment base offset: {os.path.basename(path)}")
    return int(head)


def _sibling(path: str, suffix: str) -> str:
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, name.split(".", 1)[0] + suffix)


def _log_bytes(path: str) -> Buf:
    log = _sibling(path, LOG_SUFFIX)
    return _map_log(log) if os.path.exists(log) else b""


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
    base = _base_offset(path)
    data = _read(path)
    if len(data) < 8:
        yield Line(f"{path} is empty.", {"kind": "empty", "path": path})
        return
    if options.index_sanity_only:
        yield from _sanity_lines(path, offset_index_problem(data, base, path), problems)
        return
    log = _log_bytes(path)
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
    base = _base_offset(path)
    data = _read(path)
    if len(data) < 12:
        yield Line(f"{path} is empty.", {"kind": "empty", "path": path})
        return
    if options.index_sanity_only:
        yield from _sanity_lines(path, time_index_problem(data, base, path), problems)
        return
    index_path = _sibling(path, INDEX_SUFFIX)
    index = _read(index_path) if os.path.exists(index_path) else b""
    index_entries = [(base + r, p) for r, p in struct.iter_unpack(">ii", index[: len(index) - len(index) % 8])]
    log = _log_bytes(path)
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


# ---- producer snapshots and transaction indexes --------------------------------------------------------


def _optional_long(value: int) -> str:
    return "OptionalLong.empty" if value < 0 else f"OptionalLong[{value}]"


def dump_producer_snapshot(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    data = _read(path)
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
    data = _read(path)
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



# ---- logs ----------------------------------------------------------------------------------------------

_CODECS: Final = ("none", "gzip", "snappy", "lz4", "zstd")
_CONTROL_JSON: Final = {
    ControlType.SNAPSHOT_HEADER: ("SnapshotHeader", (F("version", "int16"), F("lastContainedLogTimestamp", "int64"))),
    ControlType.SNAPSHOT_FOOTER: ("SnapshotFooter", (F("version", "int16"),)),
    ControlType.KRAFT_VERSION: ("KRaftVersion", (F("version", "int16"), F("kRaftVersion", "int16"))),
}


def string_parser(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """Kafka's default StringDecoder for key and value: UTF-8, malformed bytes replaced."""
    return (None if key is None else key.decode("utf-8", "replace"),
            None if value is None else value.decode("utf-8", "replace"))


def _scan(data: Buf) -> Iterator[Batch]:
    """The whole batches at the start of ``data``; stops at a partial or impossible entry."""
    batches = iter_batches(data, strict=False)
    while True:
        try:
            batch = next(batches)
        except (StopIteration, CorruptRecordError, struct.error):
            return
        yield batch


def first_batch_last_offset(log: Buf, position: int, max_size: int) -> int:
    """Last offset of the batch starting at ``position`` (read at most ``max_size`` bytes); -1 if none."""
    first = next(_scan(log[position : position + max_size]), None)
    return -1 if first is None else first.last_offset


def index_lookup(entries: list[tuple[int, int]], offset: int) -> int:
    """Position of the greatest index entry <= ``offset`` (0 if none), ignoring a zero tail."""
    position = 0
    for i, (entry_offset, entry_position) in enumerate(entries):
        if (i > 0 and entry_offset == entries[0][0]) or entry_offset > offset:
            break
        position = entry_position
    return position


def _records(batch: Batch) -> list[Record]:
    return list(batch.records(verify_crc=False))


def batch_holding(log: Buf, position: int, offset: int) -> tuple[int, int]:
    """``(last offset, max record timestamp)`` of the first batch from ``position`` ending at or after ``offset``.

    ``(-1, -1)`` when there is none; the timestamp is -1 when the batch's last offset is not ``offset``.
    """
    for batch in _scan(log[position:]):
        if batch.last_offset >= offset:
            if batch.last_offset != offset:
                return batch.last_offset, -1
            try:
                return offset, max((r.timestamp for r in _records(batch)), default=-1)
            except (CorruptRecordError, ValueError):
                return offset, -1
    return -1, -1


def _log_header(path: str) -> Line | None:
    name = os.path.basename(path)
    if name.endswith(LOG_SUFFIX):
        base = _base_offset(path)
        return Line(f"Log starting offset: {base}", {"kind": "log_start", "offset": base})
    if name == BOOTSTRAP_SNAPSHOT:
        return Line("KRaft bootstrap snapshot", {"kind": "bootstrap_snapshot"})
    head = name[: -len(KRAFT_SNAPSHOT_SUFFIX)]
    offset, dash, epoch = head.partition("-")
    if not (dash and offset.isdigit() and epoch.isdigit()):
        raise ValueError(f"not a KRaft snapshot name (<offset>-<epoch>.checkpoint): {name}")
    return Line(f"Snapshot end offset: {int(offset)}, epoch: {int(epoch)}",
                {"kind": "snapshot_id", "endOffset": int(offset), "epoch": int(epoch)})


def _batch_line(batch: Batch, valid: bool) -> Line:
    h = batch.header
    codec = h.compression
    data: dict[str, object] = {"kind": "batch", "magic": batch.magic}
    if isinstance(h, wb.BatchHeader):
        horizon = f"OptionalLong[{h.base_timestamp}]" if h.has_delete_horizon else "OptionalLong.empty"
        head = (f"baseOffset: {h.base_offset} lastOffset: {h.last_offset} count: {h.record_count} baseSequence: "
                f"{h.base_sequence} lastSequence: {h.last_sequence} producerId: {h.producer_id} producerEpoch: "
                f"{h.producer_epoch} partitionLeaderEpoch: {h.partition_leader_epoch} isTransactional: "
                f"{str(h.is_transactional).lower()} isControl: {str(h.is_control).lower()} deleteHorizonMs: {horizon}")
        data.update(baseOffset=h.base_offset, lastOffset=h.last_offset, count=h.record_count,
                    baseSequence=h.base_sequence, lastSequence=h.last_sequence, producerId=h.producer_id,
                    producerEpoch=h.producer_epoch, partitionLeaderEpoch=h.partition_leader_epoch,
                    isTransactional=h.is_transactional, isControl=h.is_control,
                    deleteHorizonMs=h.base_timestamp if h.has_delete_horizon else None)
    else:
        head = f"offset: {batch.last_offset}"
        data["offset"] = batch.last_offset
    codec_name = _CODECS[codec] if codec < len(_CODECS) else f"unknown({codec})"
    tail = (f" position: {batch.position} {batch.timestamp_type}: {batch.max_timestamp} size: {batch.size} "
            f"magic: {batch.magic} compresscodec: {codec_name} crc: {h.crc} isvalid: {str(valid).lower()}")
    data.update(position=batch.position, timestampType=batch.timestamp_type, maxTimestamp=batch.max_timestamp,
                size=batch.size, compresscodec=codec_name, crc=h.crc, isvalid=valid)
    return Line(head + tail, data)


def _legacy_record_valid(batch: Batch, record: Record, batch_valid: bool) -> bool:
    """Whether an inner message of a compressed magic 0/1 wrapper matches its own CRC-32."""
    if batch.header.compression == 0 or batch.log_append_time:
        return batch_valid
    for attributes in (0, legacy.TIMESTAMP_TYPE_MASK):
        raw = legacy.encode_entry(0, batch.magic, attributes, record.timestamp, record.key, record.value)
        if struct.unpack_from(">I", raw, 12)[0] == record.crc:
            return True
    return False


def _control_text(record: Record) -> tuple[str, dict[str, object]]:
    try:
        kind = control.control_type(record.key)
        if kind in (ControlType.ABORT, ControlType.COMMIT):
            marker = control.parse_end_txn_marker(record.key, record.value)
            return (f" endTxnMarker: {marker.kind.name} coordinatorEpoch: {marker.coordinator_epoch}",
                    {"endTxnMarker": marker.kind.name, "coordinatorEpoch": marker.coordinator_epoch})
        if kind in _CONTROL_JSON:
            label, fields = _CONTROL_JSON[ControlType(kind)]
            decoded = decode_struct(record.value or b"", fields, 0, flexible=True)
            return f" {label} {json.dumps(decoded, separators=(',', ':'))}", {label: decoded}
        type_id = control.parse_key(record.key)[1]
        name = kind.name if isinstance(kind, ControlType) else "UNKNOWN"
        return f" controlType: {name}({type_id})", {"controlType": name, "controlTypeId": type_id}
    except CorruptRecordError as e:
        return f" controlType: UNKNOWN ({e})", {"controlType": "UNKNOWN", "error": str(e)}


def _record_line(batch: Batch, record: Record, batch_valid: bool, options: DumpOptions) -> Line:
    text = ""
    prefix = "| "
    data: dict[str, object] = {"kind": "record", "offset": record.offset}
    if not options.skip_record_metadata:
        text = (f"| offset: {record.offset} {batch.timestamp_type}: {record.timestamp} keySize: {record.key_size} "
                f"valueSize: {record.value_size}")
        data.update(timestampType=batch.timestamp_type, timestamp=record.timestamp, keySize=record.key_size,
                    valueSize=record.value_size)
        prefix = " "
        if batch.magic == wb.MAGIC_V2:
            keys = [k for k, _ in record.headers]
            text += f" sequence: {record.sequence} headerKeys: [{','.join(keys)}]"
            data.update(sequence=record.sequence, headerKeys=keys)
        else:
            valid = _legacy_record_valid(batch, record, batch_valid)
            text += f" isValid: {str(valid).lower()} crc: {record.crc}}}"  # 3.9 prints the stray brace
            data.update(isValid=valid, crc=record.crc)
        if batch.is_control:
            more, fields = _control_text(record)
            text += more
            data.update(fields)
    if options.print_data and not batch.is_control:
        try:
            key, payload = (options.parser or string_parser)(record.key, record.value)
        except (CorruptRecordError, ValueError) as e:
            key, payload = None, f"<could not decode: {e}>"
        if key is not None:
            text += f"{prefix}key: {key}"
            data["key"] = key
        if payload is not None:
            text += f" payload: {payload}"
            data["payload"] = payload
    return Line(text, data)


def dump_log(path: str, options: DumpOptions, problems: Problems) -> Iterator[Line]:
    """A ``.log`` segment or KRaft ``.checkpoint``: batch lines, and record lines when iterating deeply."""
    header = _log_header(path)
    if header is not None:
        yield header
    limited = options.max_bytes < INT_MAX
    data = _map_log(path, options.max_bytes if limited else None)
    valid_bytes = 0
    last_offset = -1
    deep = options.deep_iteration or options.print_data
    for batch in _scan(data):
        valid = batch.is_valid
        yield _batch_line(batch, valid)
        valid_bytes = batch.position + batch.size
        if not deep:
            continue
        try:
            records = _records(batch)
        except (CorruptRecordError, ValueError) as e:
            message = f"Could not read the records of the batch at position {batch.position} in {path}: {e}"
            yield Line(message, {"kind": "corrupt_batch", "position": batch.position, "message": message}, err=True)
            continue
        for record in records:
            if last_offset != -1 and record.offset != last_offset + 1:
                problems.non_consecutive.setdefault(os.path.abspath(path), []).append((last_offset, record.offset))
            last_offset = record.offset
            yield _record_line(batch, record, valid, options)
    trailing = len(data) - valid_bytes
    if trailing > 0 and not limited:
        yield Line(f"Found {trailing} invalid bytes at the end of {os.path.basename(path)}",
                   {"kind": "invalid_bytes", "path": path, "count": trailing})
