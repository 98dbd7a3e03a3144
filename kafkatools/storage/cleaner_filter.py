"""The log cleaner's per-batch work: which records of a v2 batch survive compaction (Kafka's
``MemoryRecords.filterTo`` with the ``LogCleaner`` retention rule).

A record survives when it has a key, no later record of that key was seen in the dirty range
(``offset >= map[key]``, or the key is not in the map), and it is not a tombstone past its delete
horizon.  Batch layout (``wire.batch``)::

    baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
    attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
    producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records

Tombstones (KIP-534, Kafka >= 3.0): the first clean of a batch holding a tombstone writes the
batch again with attribute bit 6 set and ``baseTimestamp = now + delete.retention.ms`` (the delete
horizon); a later clean at or past that horizon drops its tombstones.  Record timestamps stay
right because each record's timestamp delta is recomputed against the new base timestamp.

A batch whose records all survive (and needs no horizon) is copied byte for byte.  Otherwise it is
rebuilt with the same base offset, lastOffsetDelta (so the producer's last sequence survives),
producer id/epoch, base sequence, leader epoch and codec; the survivors' record bytes are kept and
only their length and timestamp-delta varints are rewritten.  A batch left empty is dropped unless
it is its producer's last batch: then a header-only batch stays (Kafka keeps the producer state).
Control batches, transactional batches and legacy (magic 0/1) entries are copied unchanged: the
cleaner does not track aborted transactions, so it neither maps nor drops transactional records
(less compaction than Kafka, never a lost committed value).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final, NamedTuple

from crc32c import crc32c

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire.compression import Compression, compress, decompress
from kafkatools.wire.varint import decode_varint, encode_varint

_FIRST: Final = struct.Struct(">qiibI")  # baseOffset, batchLength, partitionLeaderEpoch, magic, crc
_REST: Final = struct.Struct(">hiqqqhii")  # attributes .. recordCount


class RecordSpan(NamedTuple):
    """One record inside a (decompressed) records stream, with what the cleaner decides on."""

    offset: int
    timestamp: int
    key: bytes | None
    has_value: bool
    tail: bytes  # the record's bytes from its offsetDelta varint to its end, kept as they are


def record_spans(header: wb.BatchHeader, data: bytes) -> list[RecordSpan]:
    """Split a v2 records stream into records without decoding headers (CorruptRecordError if malformed)."""
    out: list[RecordSpan] = []
    pos = 0
    try:
        for _ in range(header.record_count):
            length, body = decode_varint(data, pos, 5)
            end = body + length
            if length < 6 or end > len(data):
                raise CorruptRecordError(f"record of length {length} runs past its batch {header.base_offset}")
            ts_delta, p = decode_varint(data, body + 1, 10)
            tail_start = p
            offset_delta, p = decode_varint(data, p, 5)
            klen, p = decode_varint(data, p, 5)
            key = None if klen < 0 else data[p : p + klen]
            p += max(klen, 0)
            vlen, p = decode_varint(data, p, 5)
            out.append(RecordSpan(header.base_offset + offset_delta, header.base_timestamp + ts_delta, key,
                                  vlen >= 0, data[tail_start:end]))
            pos = end
    except IndexError:
        raise CorruptRecordError(f"records of batch {header.base_offset} are truncated") from None
    return out


def batch_records(entry: bytes) -> tuple[wb.BatchHeader, list[RecordSpan]]:
    header = wb.read_header(entry)
    body = entry[wb.HEADER_SIZE : header.size]
    data = body if header.compression == Compression.NONE else decompress(header.compression, body)
    return header, record_spans(header, data)


def _assemble(header: wb.BatchHeader, attributes: int, base_ts: int, max_ts: int, count: int, payload: bytes) -> bytes:
    rest = _REST.pack(attributes, header.last_offset_delta, base_ts, max_ts, header.producer_id,
                      header.producer_epoch, header.base_sequence, count)
    crc = crc32c(payload, crc32c(rest))
    first = _FIRST.pack(header.base_offset, wb.HEADER_SIZE - wb.LOG_OVERHEAD + len(payload),
                        header.partition_leader_epoch, wb.MAGIC_V2, crc)
    return first + rest + payload


def empty_batch(header: wb.BatchHeader) -> bytes:
    """Header-only batch keeping offsets and producer fields (Kafka's ``writeEmptyHeader``)."""
    attributes = header.attributes & (wb.TIMESTAMP_TYPE_MASK | wb.TRANSACTIONAL_MASK | wb.CONTROL_MASK)
    return _assemble(header, attributes, header.max_timestamp, header.max_timestamp, 0, b"")


def _rebuild(header: wb.BatchHeader, kept: list[RecordSpan], horizon: int | None) -> bytes:
    base_ts = horizon if horizon is not None else kept[0].timestamp
    parts: list[bytes] = []
    for rec in kept:
        body = b"\x00" + encode_varint(rec.timestamp - base_ts) + rec.tail
        parts += (encode_varint(len(body)), body)
    payload = b"".join(parts)
    if header.compression != Compression.NONE:
        payload = compress(header.compression, payload)
    max_ts = header.max_timestamp if header.log_append_time else max(r.timestamp for r in kept)
    attributes = header.attributes & ~wb.DELETE_HORIZON_MASK
    if horizon is not None:
        attributes |= wb.DELETE_HORIZON_MASK
    return _assemble(header, attributes, base_ts, max_ts, len(kept), payload)


def clean_entry(entry: bytes, offset_map: Mapping[bytes, int], *, now_ms: int, delete_retention_ms: int,
                retain_empty: bool) -> bytes | None:
    """The entry as compaction leaves it: the same bytes, a rebuilt batch, or None (dropped)."""
    if entry[wb.MAGIC_OFFSET] != wb.MAGIC_V2:
        return entry
    header, records = batch_records(entry)
    if header.is_control or header.is_transactional:
        return entry
    horizon = header.base_timestamp if header.has_delete_horizon else None
    kept = [r for r in records if r.key is not None and r.offset >= offset_map.get(r.key, -1)
            and (r.has_value or horizon is None or now_ms < horizon)]
    needs_horizon = horizon is None and any(not r.has_value for r in kept)
    if len(kept) == len(records) and not needs_horizon:
        return entry
    if not kept:
        return empty_batch(header) if retain_empty else None
    return _rebuild(header, kept, now_ms + delete_retention_ms if needs_horizon else horizon)
