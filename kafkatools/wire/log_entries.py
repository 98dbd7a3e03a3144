"""The log entries of a records blob, as Kafka's log reader walks them: v2 batches and legacy messages.

A blob (a segment file, a fetch response's records) may mix magic 0, 1 and 2 entries; each starts
with ``offset int64, size int32`` and has its magic at byte 16 (layouts: ``wire.batch`` for v2,
``wire.legacy`` for 0/1).  ``iter_batches`` finds the entries without decoding them; ``Batch``
decodes one on demand.  Mirrors Kafka's ``FileLogInputStream`` / ``RecordBatch`` views.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire.compression import DEFAULT_MAX_DECOMPRESSED, Compression
from kafkatools.wire.records import Buf, Record, iter_records

if TYPE_CHECKING:
    from kafkatools.wire.legacy import LegacyEntryHeader

__all__ = ["Batch", "iter_batches"]


@dataclass(slots=True, eq=False)
class Batch:
    """One log entry of a records blob: a v2 batch, or a legacy (magic 0/1) message or wrapper.

    Holds the blob and the entry's position; nothing is decoded or checked until asked, so
    dump-log can show a batch whose CRC is wrong (``is_valid`` False) and still list its records.
    """

    data: Buf
    position: int
    size: int
    magic: int
    header: wb.BatchHeader | LegacyEntryHeader
    max_size: int = DEFAULT_MAX_DECOMPRESSED

    @property
    def crc(self) -> int:
        return self.header.crc

    def compute_crc(self) -> int:
        if isinstance(self.header, wb.BatchHeader):
            return wb.compute_crc(self.data, self.position, self.size)
        from kafkatools.wire import legacy

        return legacy.compute_crc(self.data, self.position, self.size)

    @property
    def is_valid(self) -> bool:
        return self.compute_crc() == self.header.crc

    @property
    def compression(self) -> Compression:
        codec = self.header.compression
        return Compression(codec) if codec <= Compression.ZSTD else Compression.NONE

    @property
    def log_append_time(self) -> bool:
        return self.header.log_append_time

    @property
    def timestamp_type(self) -> str:
        """Kafka's TimestampType name: NoTimestampType (magic 0), CreateTime or LogAppendTime."""
        if self.magic == 0:
            return "NoTimestampType"
        return "LogAppendTime" if self.header.log_append_time else "CreateTime"

    @property
    def max_timestamp(self) -> int:
        h = self.header
        return h.max_timestamp if isinstance(h, wb.BatchHeader) else h.timestamp

    @property
    def last_offset(self) -> int:
        h = self.header
        return h.last_offset if isinstance(h, wb.BatchHeader) else h.offset

    @property
    def base_offset(self) -> int:
        """First offset; for a compressed legacy wrapper this decompresses it (its header has only the last)."""
        h = self.header
        if isinstance(h, wb.BatchHeader):
            return h.base_offset
        if h.compression == 0:
            return h.offset
        first = next(iter(self.records(verify_crc=False)), None)
        return h.offset if first is None else first.offset

    @property
    def is_control(self) -> bool:
        return isinstance(self.header, wb.BatchHeader) and self.header.is_control

    @property
    def is_transactional(self) -> bool:
        return isinstance(self.header, wb.BatchHeader) and self.header.is_transactional

    def raw(self) -> bytes:
        return bytes(self.data[self.position : self.position + self.size])

    def records(self, *, verify_crc: bool = True) -> Iterator[Record]:
        """The entry's records (decompressed); CorruptRecordError on malformed data or, if asked, a bad CRC."""
        if self.magic == wb.MAGIC_V2:
            return iter_records(self.data, self.position, verify_crc=verify_crc, max_size=self.max_size)
        from kafkatools.wire import legacy

        return legacy.iter_entry_records(self.data, self.position, self.position + self.size,
                                         verify_crc=verify_crc, max_size=self.max_size)


def iter_batches(blob: Buf, *, strict: bool = True, max_size: int = DEFAULT_MAX_DECOMPRESSED) -> Iterator[Batch]:
    """Every log entry of ``blob`` (magic 0, 1 and 2 may be mixed), without checking CRCs.

    An entry whose size field is impossible (below the 14-byte legacy minimum, below the v2 header,
    or an unknown magic) is a CorruptRecordError.  A truncated last entry is one too when
    ``strict``; otherwise iteration stops before it, as Kafka's log reader does, and the caller
    can compare the end of the last batch with ``len(blob)`` (dump-log's "invalid bytes").
    """
    from kafkatools.wire import legacy

    n = len(blob)
    pos = 0
    while pos < n:
        if n - pos < wb.MAGIC_OFFSET + 1:
            if strict:
                raise CorruptRecordError(f"{n - pos} trailing bytes at position {pos} are not a whole entry")
            return
        size = wb.entry_size_at(blob, pos)
        if size < wb.LOG_OVERHEAD + legacy.MIN_MESSAGE_V0:
            raise CorruptRecordError(f"entry at position {pos} declares size {size - wb.LOG_OVERHEAD} < 14")
        if pos + size > n:
            if strict:
                raise CorruptRecordError(f"entry at position {pos} declares {size} bytes, {n - pos} remain")
            return
        magic = wb.magic_at(blob, pos)
        header: wb.BatchHeader | LegacyEntryHeader
        if magic == wb.MAGIC_V2:
            if size < wb.HEADER_SIZE:
                raise CorruptRecordError(f"record batch at position {pos} declares size {size} < 61")
            header = wb.read_header(blob, pos)
        elif magic in (0, 1):
            header = legacy.read_entry(blob, pos, pos + size, check_lengths=False)
        else:
            raise CorruptRecordError(f"entry at position {pos} has unknown magic {magic}")
        yield Batch(blob, pos, size, magic, header, max_size)
        pos += size
