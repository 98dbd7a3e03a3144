"""Legacy message sets (magic 0 and 1): validate, read and write, compressed wrappers included.

Old segments (Kafka 0.8-0.10.2) and old clients' Produce requests carry these; the broker only
validates them, tools such as dump-log read them.  Mirrors Kafka's ``LegacyRecord`` and
``AbstractLegacyRecordBatch``.

Layout of one log entry (big-endian)::

    offset  int64                      absolute offset (wrapper: offset of its last inner message)
    size    int32                      bytes of the message that follows
    crc     uint32                     CRC-32 (zlib/IEEE) of magic..end of message
    magic   int8                       0 or 1
    attrs   int8                       bits 0-2 codec, bit 3 timestamp type (magic 1 only)
    ts      int64                      magic 1 only
    keyLen  int32 (-1 = null), key
    valLen  int32 (-1 = null), value

A compressed "wrapper" message's value is the compressed bytes of a sequence of inner entries
(same layout, same magic, never themselves compressed).  Inner offsets are absolute for magic 0;
for magic 1 they are relative (0..n-1) and absolute = wrapperOffset - lastInnerRelative + inner.
A magic 1 wrapper's timestamp is the max inner timestamp, or the append time when its
timestamp-type bit says LogAppendTime (which then overrides every inner timestamp).
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Final, NamedTuple

from kafkatools.errors import CorruptRecordError
from kafkatools.wire.compression import DEFAULT_MAX_DECOMPRESSED, Compression, compress, decompress
from kafkatools.wire.records import Record, RecordInput

LOG_OVERHEAD: Final = 12
MIN_MESSAGE_V0: Final = 14  # crc 4 + magic 1 + attrs 1 + keyLen 4 + valLen 4
MIN_MESSAGE_V1: Final = 22  # + timestamp 8
TIMESTAMP_TYPE_MASK: Final = 0x08
COMPRESSION_MASK: Final = 0x07

_PREFIX: Final = struct.Struct(">qiIbb")  # offset, size, crc, magic, attributes
_PREFIX_SIZE: Final = 18
_I64: Final = struct.Struct(">q")
_I32: Final = struct.Struct(">i")
_HEAD_V0: Final = struct.Struct(">qiIbbi")  # offset, size, crc, magic, attrs, keyLen
_HEAD_V1: Final = struct.Struct(">qiIbbqi")  # offset, size, crc, magic, attrs, timestamp, keyLen

Buf = bytes | bytearray | memoryview


class LegacyEntryHeader(NamedTuple):
    """One magic 0/1 entry's fixed fields.  ``size`` is the whole entry, its 12-byte prefix included."""

    offset: int
    size: int
    crc: int
    magic: int
    attributes: int
    timestamp: int  # -1 for magic 0
    key_size: int  # -1 = null key
    value_size: int  # -1 = null value

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def log_append_time(self) -> bool:
        return self.magic > 0 and bool(self.attributes & TIMESTAMP_TYPE_MASK)

    @property
    def key_position(self) -> int:
        """Offset of the key bytes relative to the start of the entry."""
        return LOG_OVERHEAD + (MIN_MESSAGE_V1 - 4 if self.magic else MIN_MESSAGE_V0 - 4)


def read_entry(buf: Buf, pos: int = 0, end: int | None = None, *, check_lengths: bool = True) -> LegacyEntryHeader:
    """Decode one magic 0/1 entry's header, checking its structure but not its CRC.

    With ``check_lengths=False`` key/value lengths that do not fit are reported as -1 instead of
    raising (dump-log still shows the entry of a corrupt message).
    """
    limit = len(buf) if end is None else min(end, len(buf))
    if limit - pos < LOG_OVERHEAD + MIN_MESSAGE_V0:
        raise CorruptRecordError(f"legacy message at position {pos}: only {max(limit - pos, 0)} bytes remain")
    offset, msg_size, crc, magic, attributes = _PREFIX.unpack_from(buf, pos)
    if magic not in (0, 1):
        raise CorruptRecordError(f"legacy message at position {pos} has magic {magic}, expected 0 or 1")
    minimum = MIN_MESSAGE_V1 if magic else MIN_MESSAGE_V0
    if msg_size < minimum:
        raise CorruptRecordError(
            f"legacy message at position {pos} declares size {msg_size} < {minimum} (magic {magic} minimum)"
        )
    stop = pos + LOG_OVERHEAD + msg_size
    if stop > limit:
        raise CorruptRecordError(
            f"legacy message at position {pos} declares {msg_size + LOG_OVERHEAD} bytes but only {limit - pos} remain"
        )
    if magic:
        timestamp, key_size = _HEAD_V1.unpack_from(buf, pos)[5:]
        kpos = pos + LOG_OVERHEAD + MIN_MESSAGE_V1 - 4
    else:
        timestamp, key_size = -1, _HEAD_V0.unpack_from(buf, pos)[5]
        kpos = pos + LOG_OVERHEAD + MIN_MESSAGE_V0 - 4
    value_size = -1
    if key_size < -1 or kpos + max(key_size, 0) + 4 > stop:
        if check_lengths:
            raise CorruptRecordError(f"legacy message at position {pos} has an invalid key length {key_size}")
        key_size = -1
    else:
        vpos = kpos + max(key_size, 0)
        value_size = _I32.unpack_from(buf, vpos)[0]
        if value_size < -1 or vpos + 4 + max(value_size, 0) != stop:
            if check_lengths:
                raise CorruptRecordError(
                    f"legacy message at position {pos} has value length {value_size},"
                    f" which does not match its size {msg_size}"
                )
            value_size = -1
    return LegacyEntryHeader(offset, msg_size + LOG_OVERHEAD, crc, magic, attributes, timestamp, key_size, value_size)


def compute_crc(buf: Buf, pos: int, size: int) -> int:
    """CRC-32 of the entry's magic..end, as stored in its crc field."""
    return zlib.crc32(memoryview(buf)[pos + 16 : pos + size])


def validate_entry(buf: Buf, pos: int = 0, end: int | None = None) -> LegacyEntryHeader:
    """Check one magic 0/1 entry at ``pos`` (bounds, magic, sizes, CRC-32) and return its header.

    Every failure is a CorruptRecordError naming the check and the position; nothing else escapes.
    """
    head = read_entry(buf, pos, end)
    computed = compute_crc(buf, pos, head.size)
    if computed != head.crc:
        raise CorruptRecordError(
            f"legacy message at position {pos} is corrupt (stored crc = {head.crc}, computed crc = {computed})"
        )
    return head


def _key_value(buf: Buf, pos: int, head: LegacyEntryHeader) -> tuple[bytes | None, bytes | None]:
    kpos = pos + head.key_position
    key = None if head.key_size < 0 else bytes(buf[kpos : kpos + head.key_size])
    vpos = kpos + max(head.key_size, 0) + 4
    value = None if head.value_size < 0 else bytes(buf[vpos : vpos + head.value_size])
    return key, value


def iter_entry_records(
    buf: Buf, pos: int = 0, end: int | None = None, *, verify_crc: bool = True,
    max_size: int = DEFAULT_MAX_DECOMPRESSED,
) -> Iterator[Record]:
    """Records of one entry: itself when uncompressed, else its decompressed inner messages.

    Record.timestamp is -1 for magic 0; Record.crc carries each message's own CRC (for dump-log).
    ``verify_crc`` covers the entry's CRC and its inner messages' CRCs.
    """
    head = validate_entry(buf, pos, end) if verify_crc else read_entry(buf, pos, end)
    key, value = _key_value(buf, pos, head)
    if head.compression == 0:
        yield Record(head.offset, head.timestamp, key, value, [], -1, head.crc)
        return
    if value is None:
        raise CorruptRecordError(f"compressed legacy message at position {pos} has a null value")
    try:
        codec = Compression(head.compression)
    except ValueError:
        raise CorruptRecordError(f"legacy message at position {pos} has unknown codec {head.compression}") from None
    if codec == Compression.ZSTD:
        raise CorruptRecordError(f"legacy message at position {pos} uses zstd, which needs magic 2")
    inner_blob = decompress(codec, value, max_size, magic=head.magic)
    inner: list[tuple[LegacyEntryHeader, int]] = []
    ipos = 0
    while ipos < len(inner_blob):
        ih = validate_entry(inner_blob, ipos) if verify_crc else read_entry(inner_blob, ipos)
        if ih.magic != head.magic:
            raise CorruptRecordError(f"inner message magic {ih.magic} differs from wrapper magic {head.magic}")
        if ih.compression:
            raise CorruptRecordError(f"compressed legacy message at position {pos} nests another compressed one")
        inner.append((ih, ipos))
        ipos += ih.size
    if not inner:
        raise CorruptRecordError(f"compressed legacy message at position {pos} holds no messages")
    shift = head.offset - inner[-1][0].offset if head.magic else 0
    for ih, ipos in inner:
        ts = head.timestamp if head.log_append_time else ih.timestamp
        k, v = _key_value(inner_blob, ipos, ih)
        yield Record(ih.offset + shift, ts, k, v, [], -1, ih.crc)


def encode_entry(offset: int, magic: int, attributes: int, timestamp: int, key: bytes | None,
                 value: bytes | None) -> bytes:
    """One entry (12-byte prefix + message) with its CRC computed."""
    klen = -1 if key is None else len(key)
    vlen = -1 if value is None else len(value)
    if magic:
        body = struct.pack(">bbqi", magic, attributes, timestamp, klen)
    else:
        body = struct.pack(">bbi", magic, attributes, klen)
    parts = [body]
    if key is not None:
        parts.append(key)
    parts.append(_I32.pack(vlen))
    if value is not None:
        parts.append(value)
    msg = b"".join(parts)
    return struct.pack(">qiI", offset, len(msg) + 4, zlib.crc32(msg)) + msg


def build_message_set(
    records: Sequence[tuple[bytes | None, bytes | None] | RecordInput],
    *,
    magic: int,
    base_offset: int = 0,
    compression: Compression = Compression.NONE,
    timestamps: Sequence[int] | None = None,
    log_append_time: bool = False,
) -> bytes:
    """A magic 0/1 message set: one entry per record, or one wrapper entry when compressed.

    Timestamps are ignored for magic 0.  With ``log_append_time`` (magic 1) the wrapper carries the
    LogAppendTime bit and the max timestamp, as a broker would stamp it.
    """
    if magic not in (0, 1):
        raise ValueError(f"legacy message sets have magic 0 or 1, not {magic}")
    if compression == Compression.ZSTD:
        raise ValueError("zstd needs magic 2")
    now = int(time.time() * 1000)
    items: list[tuple[bytes | None, bytes | None, int]] = []
    for i, rec in enumerate(records):
        if isinstance(rec, RecordInput):
            key, value, ts = rec.key, rec.value, rec.timestamp
        else:
            key, value = rec
            ts = None
        if timestamps is not None:
            ts = timestamps[i]
        items.append((key, value, (now if ts is None else ts) if magic else -1))
    ts_attr = TIMESTAMP_TYPE_MASK if (magic and log_append_time) else 0
    if compression == Compression.NONE:
        return b"".join(encode_entry(base_offset + i, magic, ts_attr, ts, k, v) for i, (k, v, ts) in enumerate(items))
    if not items:
        raise ValueError("a compressed message set needs at least one record")
    inner = b"".join(
        encode_entry(i if magic else base_offset + i, magic, 0, ts, k, v) for i, (k, v, ts) in enumerate(items)
    )
    wrapper_ts = max(ts for _, _, ts in items) if magic else -1
    return encode_entry(base_offset + len(items) - 1, magic, int(compression) | ts_attr, wrapper_ts, None,
                        compress(compression, inner, magic=magic))
