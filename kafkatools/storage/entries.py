"""Shallow facts about the log entries stored in a segment, read without decoding records.

A log entry is a v2 RecordBatch (magic 2) or a legacy message (magic 0/1) — both start with
``offset int64, size int32`` and keep their magic at byte 16 (see ``wire.batch``)::

    v2       base offset @0, partitionLeaderEpoch @12, lastOffsetDelta @23, maxTimestamp @35
    v0/v1    offset @0 (for a compressed wrapper: the last inner offset), v1 timestamp @18

``record_timestamps`` goes one level deeper for ListOffsets-by-timestamp: it walks the records of
an uncompressed v2 batch (zigzag varints) to find each record's offset and timestamp.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from kafkatools.wire import batch as wb

MIN_HEADER: Final = 17  # offset, size, 4 more bytes, magic: enough to know an entry's size and magic
_HEAD: Final = struct.Struct(">qiib")
_I32: Final = struct.Struct(">i")
_I64: Final = struct.Struct(">q")


class EntryInfo(NamedTuple):
    """Where one log entry sits in its segment, and its offsets and timestamp."""

    position: int
    size: int
    base_offset: int
    last_offset: int
    magic: int
    max_timestamp: int
    leader_epoch: int

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1


def entry_info(buf: bytes | bytearray | memoryview, off: int, position: int) -> EntryInfo | None:
    """Decode the entry header at ``buf[off:]`` (``position`` = its place in the file); None if incomplete."""
    avail = len(buf) - off
    if avail < MIN_HEADER:
        return None
    base, length, epoch, magic = _HEAD.unpack_from(buf, off)
    size = length + wb.LOG_OVERHEAD
    if magic == wb.MAGIC_V2:
        if avail < 43:
            return None
        delta = _I32.unpack_from(buf, off + 23)[0]
        return EntryInfo(position, size, base, base + delta, magic, _I64.unpack_from(buf, off + 35)[0], epoch)
    ts = -1
    if magic == 1:
        if avail < 26:
            return None
        ts = _I64.unpack_from(buf, off + 18)[0]
    return EntryInfo(position, size, base, base, magic, ts, -1)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = 0
    raw = 0
    while True:
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def record_timestamps(entry: bytes) -> list[tuple[int, int]] | None:
    """``[(offset, timestamp)]`` of every record in one stored entry; None when records are compressed.

    LogAppendTime batches report the batch's max timestamp for every record, as Kafka does.
    """
    info = entry_info(entry, 0, 0)
    if info is None:
        return None
    if info.magic != wb.MAGIC_V2:
        compressed = entry[17] & 0x07 if len(entry) > 17 else 0
        return None if compressed else [(info.last_offset, info.max_timestamp)]
    header = wb.read_header(entry)
    if header.log_append_time:
        return [(header.base_offset + d, header.max_timestamp) for d in range(header.last_offset_delta + 1)]
    if header.compression:
        return None
    out: list[tuple[int, int]] = []
    pos = wb.HEADER_SIZE
    try:
        for _ in range(header.record_count):
            length, body = _varint(entry, pos)
            ts_delta, p = _varint(entry, body + 1)
            offset_delta, _ = _varint(entry, p)
            out.append((header.base_offset + offset_delta, header.base_timestamp + ts_delta))
            pos = body + length
    except (IndexError, ValueError):
        return None
    return out
