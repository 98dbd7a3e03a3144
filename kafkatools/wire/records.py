"""RecordBatch v2: build a batch from records and iterate the records of one.

The broker never comes here on its produce path (``wire.batch`` validates headers only); this is
for clients, tools (dump-log, console consumer) and tests.  Mirrors Kafka's ``DefaultRecord``,
``DefaultRecordBatch`` and ``MemoryRecordsBuilder``.  Batch header layout: see ``wire.batch``.
Each record, after the header (or inside the decompressed stream when a codec is set)::

    length           varint   bytes after this field
    attributes       int8     unused, 0
    timestampDelta   varlong  timestamp - baseTimestamp
    offsetDelta      varint   offset - baseOffset
    keyLength        varint   -1 = null, then key bytes
    valueLength      varint   -1 = null, then value bytes
    headerCount      varint
      headerKeyLength varint, UTF-8 key;  headerValueLength varint (-1 = null), value bytes

All varints are zigzag (``wire.varint``).  With LogAppendTime every record's timestamp is the
batch's maxTimestamp.  Record sequence = baseSequence + offsetDelta (mod 2^31) when set.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from crc32c import crc32c

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire import control
from kafkatools.wire.compression import DEFAULT_MAX_DECOMPRESSED, Compression, compress, decompress
from kafkatools.wire.control import ControlType
from kafkatools.wire.varint import decode_varint, encode_varint

if TYPE_CHECKING:
    from kafkatools.wire.legacy import LegacyEntryHeader

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "Batch",
    "Compression",
    "ControlType",
    "Header",
    "Record",
    "RecordInput",
    "build_batch",
    "build_control_batch",
    "iter_batches",
    "iter_records",
]

Header = tuple[str, bytes | None]
Buf = bytes | bytearray | memoryview

_FIRST: Final = struct.Struct(">qiibI")  # baseOffset, batchLength, partitionLeaderEpoch, magic, crc
_REST: Final = struct.Struct(">hiqqqhii")  # attributes .. recordCount (the CRC-covered part of the header)
_MIN_RECORD: Final = 6  # attributes + five one-byte varints
_SEQ_MOD: Final = 1 << 31


@dataclass(slots=True)
class Record:
    """One record as read back.  ``crc`` is set only for magic 0/1 messages (each has its own)."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[Header] = field(default_factory=list)
    sequence: int = -1
    crc: int | None = None

    @property
    def key_size(self) -> int:
        return -1 if self.key is None else len(self.key)

    @property
    def value_size(self) -> int:
        return -1 if self.value is None else len(self.value)


@dataclass(frozen=True, slots=True)
class RecordInput:
    """A record to build.  ``timestamp=None`` means "now" (ms) at build time."""

    key: bytes | None
    value: bytes | None
    timestamp: int | None = None
    headers: Sequence[Header] = ()


def _encode_headers(headers: Sequence[Header]) -> bytes:
    if not headers:
        return b"\x00"
    parts = [encode_varint(len(headers))]
    for hkey, hvalue in headers:
        kb = hkey.encode()
        parts += (encode_varint(len(kb)), kb)
        if hvalue is None:
            parts.append(b"\x01")
        else:
            parts += (encode_varint(len(hvalue)), hvalue)
    return b"".join(parts)


def build_batch(
    records: Sequence[tuple[bytes | None, bytes | None] | RecordInput],
    *,
    base_offset: int = 0,
    compression: Compression = Compression.NONE,
    timestamps: Sequence[int] | None = None,
    headers: Sequence[Sequence[Header]] | None = None,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    partition_leader_epoch: int = -1,
    is_transactional: bool = False,
    log_append_time: bool = False,
    is_control: bool = False,
) -> bytes:
    """Encode one v2 batch.  ``records`` are ``(key, value)`` pairs or RecordInput.

    ``timestamps``/``headers`` (one entry per record) override what the records carry; missing
    timestamps are the current time.  With ``log_append_time`` the batch is marked LogAppendTime
    and maxTimestamp is the largest timestamp, as a broker stamps it.
    """
    count = len(records)
    if count == 0:
        raise ValueError("a record batch needs at least one record")
    now = int(time.time() * 1000)
    keys: list[bytes | None] = []
    values: list[bytes | None] = []
    stamps: list[int] = []
    hdrs: list[Sequence[Header]] = []
    for rec in records:
        if isinstance(rec, RecordInput):
            keys.append(rec.key)
            values.append(rec.value)
            stamps.append(now if rec.timestamp is None else rec.timestamp)
            hdrs.append(rec.headers)
        else:
            keys.append(rec[0])
            values.append(rec[1])
            stamps.append(now)
            hdrs.append(())
    if timestamps is not None:
        if len(timestamps) != count:
            raise ValueError(f"{len(timestamps)} timestamps for {count} records")
        stamps = list(timestamps)
    if headers is not None:
        if len(headers) != count:
            raise ValueError(f"{len(headers)} header lists for {count} records")
        hdrs = list(headers)
    base_ts = stamps[0]
    enc = encode_varint
    out: list[bytes] = []
    append = out.append
    for i in range(count):
        key = keys[i]
        value = values[i]
        h = hdrs[i]
        body = b"".join((
            b"\x00",
            enc(stamps[i] - base_ts),
            enc(i),
            b"\x01" if key is None else enc(len(key)),
            b"" if key is None else key,
            b"\x01" if value is None else enc(len(value)),
            b"" if value is None else value,
            _encode_headers(h) if h else b"\x00",
        ))
        append(enc(len(body)))
        append(body)
    payload = b"".join(out)
    if compression != Compression.NONE:
        payload = compress(compression, payload)
    attributes = (int(compression) | (wb.TIMESTAMP_TYPE_MASK if log_append_time else 0)
                  | (wb.TRANSACTIONAL_MASK if is_transactional else 0) | (wb.CONTROL_MASK if is_control else 0))
    rest = _REST.pack(attributes, count - 1, base_ts, max(stamps), producer_id, producer_epoch, base_sequence, count)
    crc = crc32c(payload, crc32c(rest))
    first = _FIRST.pack(base_offset, wb.HEADER_SIZE - wb.LOG_OVERHEAD + len(payload), partition_leader_epoch,
                        wb.MAGIC_V2, crc)
    return b"".join((first, rest, payload))


def iter_records(batch: Buf, pos: int = 0, *, verify_crc: bool = True,
                 max_size: int = DEFAULT_MAX_DECOMPRESSED) -> Iterator[Record]:
    """Records of the one v2 batch at ``pos``, decompressed.  Malformed data: CorruptRecordError only.

    With ``verify_crc=False`` the CRC is not checked (dump-log shows records of invalid batches)
    but every length and count still is.
    """
    if verify_crc:
        header = wb.validate_batch(batch, pos)
    else:
        header = wb.read_header(batch, pos)
        if header.magic != wb.MAGIC_V2:
            raise CorruptRecordError(f"record batch at position {pos} has magic {header.magic}, expected 2")
        if header.size < wb.HEADER_SIZE or pos + header.size > len(batch):
            raise CorruptRecordError(f"record batch at position {pos} declares an impossible size {header.size}")
    body = memoryview(batch)[pos + wb.HEADER_SIZE : pos + header.size]
    codec = header.compression
    if codec == Compression.NONE:
        data = bytes(body)
    elif codec <= Compression.ZSTD:
        data = decompress(codec, body, max_size)
    else:
        raise CorruptRecordError(f"record batch at position {pos} has unknown codec {codec}")
    if header.record_count < 0:
        raise CorruptRecordError(f"record batch at position {pos} has negative record count")
    return _parse(data, header, pos)


def _parse(data: bytes, header: wb.BatchHeader, where: int) -> Iterator[Record]:
    base_offset = header.base_offset
    base_ts = header.base_timestamp
    append_ts = header.max_timestamp if header.log_append_time else None
    base_seq = header.base_sequence
    end = len(data)
    pos = 0
    dv = decode_varint
    try:
        for _ in range(header.record_count):
            b = data[pos]
            if b < 0x80:
                length = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                length, pos = dv(data, pos, 5)
            rec_end = pos + length
            if length < _MIN_RECORD or rec_end > end:
                raise CorruptRecordError(f"record of length {length} runs past its batch at position {where}")
            # hot loop: one-byte varints (small deltas, short keys) are decoded inline
            pos += 1
            b = data[pos]
            if b < 0x80:
                ts_delta = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                ts_delta, pos = dv(data, pos, 10)
            b = data[pos]
            if b < 0x80:
                off_delta = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                off_delta, pos = dv(data, pos, 5)
            b = data[pos]
            if b < 0x80:
                klen = (b >> 1) ^ -(b & 1)
                pos += 1
            else:
                klen, pos = dv(data, pos, 5)
            if klen >= 0:
                key: bytes | None = data[pos : pos + klen]
                pos += klen
            elif klen == -1:
                key = None
            else:
                raise CorruptRecordError(f"record has invalid key length {klen} in batch at position {where}")
            b = data[pos]
            if b < 0x80:
                vlen = (b >> 1) ^ -(b & 1)
                pos += 1
            elif data[pos + 1] < 0x80:
                z = (b & 0x7F) | (data[pos + 1] << 7)
                vlen = (z >> 1) ^ -(z & 1)
                pos += 2
            else:
                vlen, pos = dv(data, pos, 5)
            if vlen >= 0:
                value: bytes | None = data[pos : pos + vlen]
                pos += vlen
            elif vlen == -1:
                value = None
            else:
                raise CorruptRecordError(f"record has invalid value length {vlen} in batch at position {where}")
            if pos >= rec_end:
                raise CorruptRecordError(f"record fields run past the record's length in batch at position {where}")
            if data[pos] == 0:
                headers: list[Header] = []
                pos += 1
            else:
                headers, pos = _parse_headers(data, pos, rec_end, where)
            if pos != rec_end:
                raise CorruptRecordError(
                    f"record declares {length} bytes but its fields take {length + pos - rec_end}"
                    f" in batch at position {where}"
                )
            yield Record(
                base_offset + off_delta,
                base_ts + ts_delta if append_ts is None else append_ts,
                key,
                value,
                headers,
                -1 if base_seq < 0 else (base_seq + off_delta) % _SEQ_MOD,
            )
    except IndexError:
        raise CorruptRecordError(f"records of the batch at position {where} are truncated") from None
    if pos != end:
        raise CorruptRecordError(
            f"batch at position {where} declares {header.record_count} records but {end - pos} bytes remain after them"
        )


def _parse_headers(data: bytes, pos: int, rec_end: int, where: int) -> tuple[list[Header], int]:
    count, pos = decode_varint(data, pos, 5)
    if count < 0 or count > rec_end - pos:
        raise CorruptRecordError(f"record has invalid header count {count} in batch at position {where}")
    headers: list[Header] = []
    for _ in range(count):
        klen, pos = decode_varint(data, pos, 5)
        if klen < 0 or pos + klen > rec_end:
            raise CorruptRecordError(f"record header has invalid key length {klen} in batch at position {where}")
        hkey = data[pos : pos + klen].decode("utf-8", "replace")
        pos += klen
        vlen, pos = decode_varint(data, pos, 5)
        if vlen < -1 or pos + vlen > rec_end:
            raise CorruptRecordError(f"record header has invalid value length {vlen} in batch at position {where}")
        if vlen == -1:
            headers.append((hkey, None))
        else:
            headers.append((hkey, data[pos : pos + vlen]))
            pos += vlen
    return headers, pos


def build_control_batch(
    kind: ControlType | str,
    *,
    producer_id: int,
    producer_epoch: int,
    coordinator_epoch: int,
    base_offset: int = 0,
    timestamp: int | None = None,
    partition_leader_epoch: int = -1,
) -> bytes:
    """A transaction marker batch (COMMIT or ABORT): control + transactional, one record."""
    ctype = ControlType[kind.upper()] if isinstance(kind, str) else ControlType(kind)
    if ctype not in (ControlType.ABORT, ControlType.COMMIT):
        raise ValueError(f"build_control_batch writes transaction markers, not {ctype.name}")
    record = RecordInput(control.encode_key(ctype), control.encode_end_txn_value(coordinator_epoch), timestamp)
    return build_batch([record], base_offset=base_offset, producer_id=producer_id, producer_epoch=producer_epoch,
                       partition_leader_epoch=partition_leader_epoch, is_transactional=True, is_control=True)


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
