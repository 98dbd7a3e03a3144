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
from typing import Final

from crc32c import crc32c

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire import control
from kafkatools.wire.compression import DEFAULT_MAX_DECOMPRESSED, Compression, compress, decompress
from kafkatools.wire.control import ControlType
from kafkatools.wire.varint import decode_varint, encode_varint

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "Compression",
    "ControlType",
    "Header",
    "Record",
    "RecordInput",
    "build_batch",
    "build_control_batch",
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
