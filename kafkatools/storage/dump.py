"""What ``kafka-dump-log`` prints for each file: Kafka 3.9's ``DumpLogSegments`` lines, as data.

Pure: a file path in, ``Line`` objects out (text for the terminal plus a dict for ``--output json``);
the CLI only writes them.  Problems Kafka reports after all files (index/log mismatches,
non-consecutive offsets, time-index errors) are collected in ``Problems`` and printed at the end.
Unlike Kafka, a corrupt or truncated file never stops the tool: a batch whose CRC fails shows
``isvalid: false``, bytes after the last whole batch are reported as ``Found <n> invalid bytes``,
and records that cannot be decoded are reported on stderr while the dump goes on.

Files by suffix: ``.log`` and KRaft ``.checkpoint`` (log entries, any magic, laid out as
``wire.batch`` and ``wire.legacy`` describe) are dumped here; ``.index``, ``.timeindex``,
``.snapshot`` (producer state) and ``.txnindex`` in ``storage.dump_index``.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Iterator
from typing import Final

from kafkatools.errors import CorruptRecordError, KafkatoolsError
from kafkatools.storage.coordinator_records import F, decode_struct
from kafkatools.storage.dump_index import dump_offset_index, dump_producer_snapshot, dump_time_index, dump_txn_index
from kafkatools.storage.dump_lines import (
    INT_MAX,
    DumpOptions,
    Line,
    Problems,
    RecordParser,
    base_offset,
    batch_records,
    map_log,
    scan_batches,
)
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
from kafkatools.wire.log_entries import Batch
from kafkatools.wire.records import Record

__all__ = ["DumpOptions", "Line", "Problems", "RecordParser", "dump_file", "dump_log", "dump_producer_snapshot"]

KRAFT_SNAPSHOT_SUFFIX: Final = ".checkpoint"
BOOTSTRAP_SNAPSHOT: Final = "bootstrap.checkpoint"


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



# ---- logs ----

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



def _log_header(path: str) -> Line | None:
    name = os.path.basename(path)
    if name.endswith(LOG_SUFFIX):
        base = base_offset(path)
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
    data = map_log(path, options.max_bytes if limited else None)
    valid_bytes = 0
    last_offset = -1
    deep = options.deep_iteration or options.print_data
    for batch in scan_batches(data):
        valid = batch.is_valid
        yield _batch_line(batch, valid)
        valid_bytes = batch.position + batch.size
        if not deep:
            continue
        try:
            records = batch_records(batch)
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
