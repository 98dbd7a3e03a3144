"""RecordBatch v2 header: read, validate and patch a batch without decoding its records.

This is the broker's hot path: a produced batch is checked here (size, magic, CRC-32C) and
then appended as opaque bytes with only the fields outside the CRC rewritten (base offset,
partition leader epoch).  Mirrors Kafka's ``DefaultRecordBatch``.

Layout (big-endian), 61-byte header::

    offset size field
     0      8   baseOffset            int64
     8      4   batchLength           int32   bytes after this field (total - 12)
    12      4   partitionLeaderEpoch  int32   not covered by the CRC
    16      1   magic                 int8    2
    17      4   crc                   uint32  CRC-32C of bytes 21..end
    21      2   attributes            int16   bits 0-2 codec, 3 timestamp type, 4 transactional,
                                              5 control, 6 has delete horizon
    23      4   lastOffsetDelta       int32
    27      8   baseTimestamp         int64
    35      8   maxTimestamp          int64
    43      8   producerId            int64
    51      2   producerEpoch         int16
    53      4   baseSequence          int32
    57      4   recordCount           int32
    61      …   records (compressed as one stream when a codec is set)

Legacy entries (magic 0/1) share the first 17 bytes' shape: ``offset int64, size int32``, then
a message whose byte 16 (relative to the entry) is its magic, so magic can be sniffed at 16.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from crc32c import crc32c

from kafkatools.errors import CorruptRecordError

HEADER: Final = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE: Final = 61
LOG_OVERHEAD: Final = 12  # baseOffset + batchLength: the bytes not counted by batchLength
CRC_START: Final = 21
MAGIC_OFFSET: Final = 16
MAGIC_V2: Final = 2

_I64: Final = struct.Struct(">q")
_I32: Final = struct.Struct(">i")
_OFFSET_AND_SIZE: Final = struct.Struct(">qi")

# attributes bits
COMPRESSION_MASK: Final = 0x07
TIMESTAMP_TYPE_MASK: Final = 0x08
TRANSACTIONAL_MASK: Final = 0x10
CONTROL_MASK: Final = 0x20
DELETE_HORIZON_MASK: Final = 0x40

NO_TIMESTAMP: Final = -1
NO_PRODUCER_ID: Final = -1
NO_PRODUCER_EPOCH: Final = -1
NO_SEQUENCE: Final = -1
NO_PARTITION_LEADER_EPOCH: Final = -1


class BatchHeader(NamedTuple):
    """The 61-byte v2 header, decoded.  ``size`` is the whole batch in bytes (batchLength + 12)."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_MASK)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_MASK)

    @property
    def has_delete_horizon(self) -> bool:
        return bool(self.attributes & DELETE_HORIZON_MASK)

    @property
    def last_sequence(self) -> int:
        """baseSequence + lastOffsetDelta, wrapping past Int32.MAX to 0 as Kafka does."""
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) % 0x80000000


def read_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Decode the v2 header at ``pos``; raises CorruptRecordError if fewer than 61 bytes remain."""
    if len(buf) - pos < HEADER_SIZE:
        raise CorruptRecordError(f"record batch header truncated at position {pos}")
    return BatchHeader._make(HEADER.unpack_from(buf, pos))


def entry_size_at(buf: bytes | bytearray | memoryview, pos: int = 0) -> int:
    """Total bytes of the log entry (batch or legacy message) starting at ``pos``, from its size field."""
    size: int = _I32.unpack_from(buf, pos + 8)[0]
    return size + LOG_OVERHEAD


def magic_at(buf: bytes | bytearray | memoryview, pos: int = 0) -> int:
    return buf[pos + MAGIC_OFFSET]


def compute_crc(buf: bytes | bytearray | memoryview, pos: int, size: int) -> int:
    """CRC-32C of the batch's bytes 21..end, as stored in its crc field."""
    value: int = crc32c(memoryview(buf)[pos + CRC_START : pos + size])
    return value


def validate_batch(buf: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None) -> BatchHeader:
    """Check one v2 batch at ``pos`` (length, magic, CRC, counts) and return its header.

    ``end`` bounds the batch (default: end of ``buf``).  Every failure is a CorruptRecordError
    whose message says which check failed; nothing else escapes.
    """
    limit = len(buf) if end is None else end
    if limit - pos < HEADER_SIZE:
        raise CorruptRecordError(f"record batch at position {pos} is shorter than the 61-byte header")
    header = BatchHeader._make(HEADER.unpack_from(buf, pos))
    if header.magic != MAGIC_V2:
        raise CorruptRecordError(f"record batch at position {pos} has magic {header.magic}, expected 2")
    size = header.size
    if size < HEADER_SIZE:
        raise CorruptRecordError(f"record batch at position {pos} declares size {size} < 61")
    if pos + size > limit:
        raise CorruptRecordError(
            f"record batch at position {pos} declares {size} bytes but only {limit - pos} remain"
        )
    if header.last_offset_delta < 0 or header.record_count < 0:
        raise CorruptRecordError(f"record batch at position {pos} has a negative count or offset delta")
    crc = compute_crc(buf, pos, size)
    if crc != header.crc:
        raise CorruptRecordError(
            f"record batch at position {pos} is corrupt (stored crc = {header.crc}, computed crc = {crc})"
        )
    return header


def iter_entries(buf: bytes | bytearray | memoryview) -> list[tuple[int, int]]:
    """Split a records blob into ``(position, size)`` of each log entry, checking only sizes.

    Raises CorruptRecordError on a size field that is too small or runs past the end, so a
    truncated trailing entry in a Produce request is rejected rather than silently dropped.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    n = len(buf)
    while pos < n:
        if n - pos < LOG_OVERHEAD + 5:
            raise CorruptRecordError(f"{n - pos} trailing bytes at position {pos} are not a whole entry")
        size = _I32.unpack_from(buf, pos + 8)[0] + LOG_OVERHEAD
        if size < LOG_OVERHEAD + 14 or pos + size > n:
            raise CorruptRecordError(f"entry at position {pos} declares size {size}, {n - pos} bytes remain")
        out.append((pos, size))
        pos += size
    return out


def patch_base_offset(buf: bytearray | memoryview, pos: int, base_offset: int) -> None:
    """Rewrite the base offset in place (outside the CRC, so the batch stays valid)."""
    _I64.pack_into(buf, pos, base_offset)


def patch_partition_leader_epoch(buf: bytearray | memoryview, pos: int, epoch: int) -> None:
    """Rewrite the partition leader epoch in place (outside the CRC)."""
    _I32.pack_into(buf, pos + 12, epoch)


def patch_log_append_time(buf: bytearray | memoryview, pos: int, size: int, timestamp: int) -> None:
    """Stamp LogAppendTime: set the timestamp-type bit and maxTimestamp, then recompute the CRC.

    Only used when a topic has ``message.timestamp.type=LogAppendTime``; the attribute and the
    max timestamp are inside the CRC, so unlike the base offset this costs a CRC pass.
    """
    attributes = struct.unpack_from(">h", buf, pos + 21)[0] | TIMESTAMP_TYPE_MASK
    struct.pack_into(">h", buf, pos + 21, attributes)
    _I64.pack_into(buf, pos + 35, timestamp)
    struct.pack_into(">I", buf, pos + 17, compute_crc(buf, pos, size))


def offset_and_size(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """``(offset, size)`` fields at the start of a log entry (any magic)."""
    offset, size = _OFFSET_AND_SIZE.unpack_from(buf, pos)
    return offset, size + LOG_OVERHEAD
