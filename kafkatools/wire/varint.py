"""Zigzag varints, the integer encoding inside RecordBatch v2 records.

Kafka's ``ByteUtils.writeVarint``/``writeVarlong`` (protobuf ``sint32``/``sint64``): the signed
value is zigzag-mapped to unsigned (0, -1, 1, -2 … -> 0, 1, 2, 3 …) and written 7 bits per byte,
least significant group first, high bit set on every byte but the last::

    zigzag(n) = (n << 1) ^ (n >> 63)
    300 -> zigzag 600 -> 0xD8 0x04

A varint (int32) takes at most 5 bytes, a varlong (int64) at most 10; longer encodings are
corrupt.  Not to be confused with the protocol's *unsigned* varints (compact lengths), which live
in the codec.

Why a table: building a batch writes 4-6 varints per record and nearly all of them (offset
deltas, key/value lengths of records up to 8 KiB, header counts) fit in two bytes, so the
encodings of -8192..8191 are precomputed once and looked up.
"""

from __future__ import annotations

from typing import Final

from kafkatools.errors import CorruptRecordError

Buf = bytes | bytearray | memoryview

_TABLE_HALF: Final = 1 << 13  # values in [-8192, 8192) encode in at most 2 bytes


def zigzag(n: int) -> int:
    """Signed -> unsigned zigzag mapping (valid for any int64)."""
    return (n << 1) ^ (n >> 63)


def unzigzag(u: int) -> int:
    return (u >> 1) ^ -(u & 1)


def _encode_slow(n: int) -> bytes:
    u = ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


_TABLE: Final[list[bytes]] = [_encode_slow(n) for n in range(-_TABLE_HALF, _TABLE_HALF)]


def encode_varint(n: int) -> bytes:
    """Zigzag varint/varlong bytes of ``n`` (``-2**63 <= n < 2**63``)."""
    if -_TABLE_HALF <= n < _TABLE_HALF:
        return _TABLE[n + _TABLE_HALF]
    return _encode_slow(n)


def varint_size(n: int) -> int:
    """Number of bytes ``encode_varint(n)`` takes."""
    u = ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF
    size = 1
    while u >= 0x80:
        u >>= 7
        size += 1
    return size


def decode_varint(buf: Buf, pos: int, max_bytes: int = 10) -> tuple[int, int]:
    """Decode the zigzag varint at ``pos``: ``(value, next position)``.

    ``max_bytes`` is 5 for a varint (int32) and 10 for a varlong; a longer encoding or one that
    runs off the end of ``buf`` raises CorruptRecordError.
    """
    n = len(buf)
    u = 0
    shift = 0
    start = pos
    while True:
        if pos >= n:
            raise CorruptRecordError(f"varint at position {start} runs past the end of the data")
        b = buf[pos]
        pos += 1
        u |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if pos - start >= max_bytes:
            raise CorruptRecordError(f"varint at position {start} is longer than {max_bytes} bytes")
    return (u >> 1) ^ -(u & 1), pos
