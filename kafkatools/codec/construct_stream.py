"""Stream helpers shared by the construct classes and the code ``.compile()`` emits for them.

The compiled message modules call these as ``_cm.<name>(io, ...)`` (``IMPORT`` is the line they put
at the top), so the interpreted and the compiled parsers run the very same length, varint and
tagged-field checks: a truncated or oversized field fails the same way in both.
"""

from __future__ import annotations

import io
import struct
import uuid

import construct as c

IMPORT = "from kafkatools.codec import construct_stream as _cm"
ZERO_UUID = uuid.UUID(int=0)
Stream = io.BytesIO
I16 = struct.Struct(">h")
I32 = struct.Struct(">i")


def rd_exact(s: Stream, n: int) -> bytes:
    data = s.read(n)
    if len(data) != n:
        raise c.StreamError(f"wanted {n} bytes, {len(data)} remain")
    return data


def _remaining(s: Stream) -> int:
    # not s.getbuffer(): on a BytesIO sharing the caller's bytes that forces a copy of all of them
    pos = s.tell()
    end: int = s.seek(0, io.SEEK_END)
    s.seek(pos)
    return end - pos


def rd_uvar(s: Stream) -> int:
    value = shift = 0
    while True:
        b = s.read(1)
        if not b:
            raise c.StreamError("truncated varint")
        value |= (b[0] & 0x7F) << shift
        if b[0] < 0x80:
            return value
        shift += 7
        if shift > 28:
            raise c.IntegerError("varint longer than 5 bytes")


def wr_uvar(s: Stream, n: int) -> None:
    if not 0 <= n <= 0xFFFFFFFF:
        raise c.IntegerError(f"value {n} does not fit an unsigned varint")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    s.write(out)


def rd_size(s: Stream, compact: bool, fmt: struct.Struct, nullable: bool, what: str) -> int:
    """A length or count prefix; -1 means null (only when nullable)."""
    n = rd_uvar(s) - 1 if compact else fmt.unpack(rd_exact(s, fmt.size))[0]
    if n < 0 and (n != -1 or not nullable):
        raise c.StreamError(f"invalid {what} length {n}" if n != -1 else f"null {what} where not nullable")
    if n > _remaining(s):
        raise c.StreamError(f"{what} length {n} exceeds the {_remaining(s)} bytes remaining")
    return n


def wr_size(s: Stream, n: int | None, compact: bool, fmt: struct.Struct, nullable: bool) -> None:
    if n is None and not nullable:
        raise c.StreamError("None where the field is not nullable")
    m = -1 if n is None else n
    if compact:
        wr_uvar(s, m + 1)
    else:
        s.write(fmt.pack(m))


def rd_string(s: Stream, compact: bool, nullable: bool) -> str | None:
    n = rd_size(s, compact, I16, nullable, "string")
    return None if n < 0 else rd_exact(s, n).decode("utf-8")


def wr_string(s: Stream, v: str | None, compact: bool, nullable: bool) -> None:
    data = None if v is None else v.encode("utf-8")
    if data is not None and not compact and len(data) > 0x7FFF:
        raise c.StringError("string longer than 32767 bytes")
    wr_size(s, None if data is None else len(data), compact, I16, nullable)
    if data is not None:
        s.write(data)


def rd_blob(s: Stream, compact: bool, nullable: bool) -> bytes | None:
    n = rd_size(s, compact, I32, nullable, "bytes")
    return None if n < 0 else rd_exact(s, n)


def wr_blob(s: Stream, v: bytes | None, compact: bool, nullable: bool) -> None:
    wr_size(s, None if v is None else len(v), compact, I32, nullable)
    if v is not None:
        s.write(v)


def rd_tags(s: Stream) -> list[tuple[int, bytes]]:
    n = rd_uvar(s)
    if n * 2 > _remaining(s):
        raise c.StreamError(f"tagged field count {n} exceeds the bytes remaining")
    out = []
    for _ in range(n):
        tag = rd_uvar(s)
        out.append((tag, rd_exact(s, rd_uvar(s))))
    return out


def wr_tags(s: Stream, known: list[tuple[int, bytes]], unknown: list[tuple[int, bytes]] | None) -> None:
    fields = known
    if unknown:
        fields = [*known, *unknown]
        fields.sort(key=lambda t: t[0])
    wr_uvar(s, len(fields))
    for tag, data in fields:
        wr_uvar(s, tag)
        wr_uvar(s, len(data))
        s.write(data)


def rd_marker(s: Stream) -> int:
    return int(rd_exact(s, 1)[0] < 0x80)  # int8 -1 (0xff, any negative) = null
