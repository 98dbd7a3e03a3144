"""Runtime primitives for the generated message codecs (Kafka's ``Readable``/``Writable`` helpers).

The generated modules in ``_generated/`` are straight-line Python: each struct gets one decode and one
encode function that reads/writes its fields with precompiled :mod:`struct` objects and the helpers
below.  Everything that can fail raises :class:`Fail`; each generated struct function adds its field
name to ``Fail.path`` on the way out, and :func:`run_decode`/:func:`run_encode` turn it into the one
public error, :class:`kafkatools.errors.ProtocolError`.

Encodings (Kafka 3.9, ``org.apache.kafka.common.protocol.types``)::

    classic  string  int16 n, n UTF-8 bytes          (-1 = null)
             bytes   int32 n, n bytes                 (-1 = null)   records: same, kept as raw bytes
             array   int32 n, n elements              (-1 = null)
    compact  string/bytes/records/array: uvarint n+1, then the payload   (0 = null)
    uvarint  unsigned LEB128, 7 bits a byte, low group first
    tagged   uvarint count, then per field: uvarint tag, uvarint size, size bytes (tags ascending)
    uuid     16 bytes; nullable struct: int8 -1 = null, 1 = present

Forged lengths: every length or count is checked against the bytes that remain *before* anything is
allocated, so a count of 2**31 with ten bytes left fails at once (Kafka's ``ByteBufferAccessor`` does
the same check).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar

from kafkatools.errors import ProtocolError

T = TypeVar("T")

Buffer = bytes | bytearray | memoryview

I8: Final = struct.Struct(">b")
I16: Final = struct.Struct(">h")
I32: Final = struct.Struct(">i")
I64: Final = struct.Struct(">q")
U16: Final = struct.Struct(">H")
U32: Final = struct.Struct(">I")
F64: Final = struct.Struct(">d")
BOOL: Final = struct.Struct(">?")
ZERO_UUID: Final = uuid.UUID(int=0)


class Fail(Exception):
    """Internal decode/encode failure; ``path`` collects field names from the inside out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def push(self, field: str, index: int) -> None:
        if index >= 0:
            self.path.append(f"{field}[{index}]")
        elif field:
            self.path.append(field)


def wrap(exc: Exception, field: str, index: int) -> Fail:
    """An unexpected low-level error (struct.error, UnicodeDecodeError, ...) as a Fail at ``field``."""
    fail = Fail(f"{type(exc).__name__}: {exc}")
    fail.push(field, index)
    return fail


class _Missing:
    """Sentinel type for 'argument not given' so that mutable defaults are built per instance."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<default>"


MISSING: Any = _Missing()


class SizedChunk(Protocol):
    """What ``encode_response_chunks`` accepts for a records field besides bytes: e.g. a file slice."""

    def __len__(self) -> int: ...


class Out(bytearray):
    """Encode buffer; ``splits`` lists (position, object) for records emitted as separate chunks."""

    __slots__ = ("splits",)

    def __init__(self, chunked: bool = False) -> None:
        super().__init__()
        self.splits: list[tuple[int, object]] | None = [] if chunked else None


# ---------------------------------------------------------------- reading


def rd_uvar(b: memoryview, p: int) -> tuple[int, int]:
    value = 0
    shift = 0
    end = len(b)
    while True:
        if p >= end:
            raise Fail("truncated varint")
        byte = b[p]
        p += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, p
        shift += 7
        if shift > 28:
            raise Fail("varint longer than 5 bytes")


def _take(b: memoryview, p: int, n: int) -> int:
    end = p + n
    if end > len(b):
        raise Fail(f"length {n} exceeds the {len(b) - p} bytes remaining")
    return end


def rd_str(b: memoryview, p: int) -> tuple[str, int]:
    (n,) = I16.unpack_from(b, p)
    if n < 0:
        raise Fail("null string where not nullable")
    end = _take(b, p + 2, n)
    return str(b[p + 2 : end], "utf-8"), end


def rd_nstr(b: memoryview, p: int) -> tuple[str | None, int]:
    (n,) = I16.unpack_from(b, p)
    if n < 0:
        if n != -1:
            raise Fail(f"negative string length {n}")
        return None, p + 2
    end = _take(b, p + 2, n)
    return str(b[p + 2 : end], "utf-8"), end


def rd_cstr(b: memoryview, p: int) -> tuple[str, int]:
    n, p = rd_uvar(b, p)
    if n == 0:
        raise Fail("null string where not nullable")
    end = _take(b, p, n - 1)
    return str(b[p:end], "utf-8"), end


def rd_ncstr(b: memoryview, p: int) -> tuple[str | None, int]:
    n, p = rd_uvar(b, p)
    if n == 0:
        return None, p
    end = _take(b, p, n - 1)
    return str(b[p:end], "utf-8"), end


def rd_nbytes_view(b: memoryview, p: int) -> tuple[memoryview | None, int]:
    (n,) = I32.unpack_from(b, p)
    if n < 0:
        if n != -1:
            raise Fail(f"negative bytes length {n}")
        return None, p + 4
    end = _take(b, p + 4, n)
    return b[p + 4 : end], end


def rd_ncbytes_view(b: memoryview, p: int) -> tuple[memoryview | None, int]:
    n, p = rd_uvar(b, p)
    if n == 0:
        return None, p
    end = _take(b, p, n - 1)
    return b[p:end], end


def rd_bytes(b: memoryview, p: int) -> tuple[bytes, int]:
    view, p = rd_nbytes_view(b, p)
    if view is None:
        raise Fail("null bytes where not nullable")
    return bytes(view), p


def rd_nbytes(b: memoryview, p: int) -> tuple[bytes | None, int]:
    view, p = rd_nbytes_view(b, p)
    return (None if view is None else bytes(view)), p


def rd_cbytes(b: memoryview, p: int) -> tuple[bytes, int]:
    view, p = rd_ncbytes_view(b, p)
    if view is None:
        raise Fail("null bytes where not nullable")
    return bytes(view), p


def rd_ncbytes(b: memoryview, p: int) -> tuple[bytes | None, int]:
    view, p = rd_ncbytes_view(b, p)
    return (None if view is None else bytes(view)), p


def rd_uuid(b: memoryview, p: int) -> tuple[uuid.UUID, int]:
    end = _take(b, p, 16)
    return uuid.UUID(bytes=bytes(b[p:end])), end


def rd_alen(b: memoryview, p: int, nullable: bool) -> tuple[int, int]:
    """Classic array count; -1 (null) is returned as -1 when nullable."""
    (n,) = I32.unpack_from(b, p)
    p += 4
    if n < 0:
        if n == -1 and nullable:
            return -1, p
        raise Fail(f"invalid array length {n}")
    if n > len(b) - p:
        raise Fail(f"array length {n} exceeds the {len(b) - p} bytes remaining")
    return n, p


def rd_calen(b: memoryview, p: int, nullable: bool) -> tuple[int, int]:
    """Compact array count (uvarint n+1); null is returned as -1 when nullable."""
    n, p = rd_uvar(b, p)
    if n == 0:
        if nullable:
            return -1, p
        raise Fail("null array where not nullable")
    n -= 1
    if n > len(b) - p:
        raise Fail(f"array length {n} exceeds the {len(b) - p} bytes remaining")
    return n, p


def rd_fixed_array(b: memoryview, p: int, n: int, code: str, size: int) -> tuple[list[Any], int]:
    end = _take(b, p, n * size)
    return list(struct.unpack_from(f">{n}{code}", b, p)), end


def rd_tag_header(b: memoryview, p: int) -> tuple[int, int, int]:
    """One tagged field's (tag, start, end)."""
    tag, p = rd_uvar(b, p)
    size, p = rd_uvar(b, p)
    return tag, p, _take(b, p, size)


def rd_tag_count(b: memoryview, p: int) -> tuple[int, int]:
    n, p = rd_uvar(b, p)
    if n * 2 > len(b) - p:
        raise Fail(f"tagged field count {n} exceeds the bytes remaining")
    return n, p


# ---------------------------------------------------------------- writing


def w_uvar(out: bytearray, n: int) -> None:
    if n < 0 or n > 0xFFFFFFFF:
        raise Fail(f"value {n} does not fit an unsigned varint")
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _utf8(s: str | None) -> bytes:
    if s is None:
        raise Fail("None where the field is not nullable")
    if not isinstance(s, str):
        raise Fail(f"expected str, got {type(s).__name__}")
    return s.encode("utf-8")


def w_str(out: bytearray, s: str | None) -> None:
    data = _utf8(s)
    if len(data) > 0x7FFF:
        raise Fail("string longer than 32767 bytes")
    out += I16.pack(len(data))
    out += data


def w_nstr(out: bytearray, s: str | None) -> None:
    if s is None:
        out += b"\xff\xff"
    else:
        w_str(out, s)


def w_cstr(out: bytearray, s: str | None) -> None:
    data = _utf8(s)
    w_uvar(out, len(data) + 1)
    out += data


def w_ncstr(out: bytearray, s: str | None) -> None:
    if s is None:
        out.append(0)
    else:
        w_cstr(out, s)


def _blob(v: object) -> bytes | bytearray | memoryview:
    if isinstance(v, bytes | bytearray | memoryview):
        return v
    if v is None:
        raise Fail("None where the field is not nullable")
    raise Fail(f"expected bytes, got {type(v).__name__}")


def w_bytes(out: bytearray, v: object) -> None:
    data = _blob(v)
    out += I32.pack(len(data))
    out += data


def w_nbytes(out: bytearray, v: object) -> None:
    if v is None:
        out += b"\xff\xff\xff\xff"
    else:
        w_bytes(out, v)


def w_cbytes(out: bytearray, v: object) -> None:
    data = _blob(v)
    w_uvar(out, len(data) + 1)
    out += data


def w_ncbytes(out: bytearray, v: object) -> None:
    if v is None:
        out.append(0)
    else:
        w_cbytes(out, v)


def w_records(out: bytearray, v: object, compact: bool, nullable: bool) -> None:
    """Raw record bytes; with a chunked Out, a non-bytes value with ``__len__`` (e.g. a file slice) is
    emitted as its own chunk after its length prefix."""
    if v is None and not nullable:
        raise Fail("None where the field is not nullable")
    if v is None or isinstance(v, bytes | bytearray | memoryview):
        if compact:
            w_ncbytes(out, v)
        else:
            w_nbytes(out, v)
        return
    splits = getattr(out, "splits", None)
    if splits is None or not hasattr(v, "__len__"):
        raise Fail(f"records must be bytes, bytearray or memoryview, got {type(v).__name__}")
    size = len(v)
    if compact:
        w_uvar(out, size + 1)
    else:
        out += I32.pack(size)
    splits.append((len(out), v))


def w_uuid(out: bytearray, u: uuid.UUID) -> None:
    if not isinstance(u, uuid.UUID):
        raise Fail(f"expected uuid.UUID, got {type(u).__name__}")
    out += u.bytes


def w_alen(out: bytearray, items: list[Any] | None, nullable: bool) -> None:
    if items is None:
        if not nullable:
            raise Fail("None where the array is not nullable")
        out += b"\xff\xff\xff\xff"
    else:
        out += I32.pack(len(items))


def w_calen(out: bytearray, items: list[Any] | None, nullable: bool) -> None:
    if items is None:
        if not nullable:
            raise Fail("None where the array is not nullable")
        out.append(0)
    else:
        w_uvar(out, len(items) + 1)


def w_fixed_array(out: bytearray, items: list[Any], code: str) -> None:
    out += struct.pack(f">{len(items)}{code}", *items)


def w_tagged(
    out: bytearray, known: list[tuple[int, bytes | bytearray]], unknown: list[tuple[int, bytes]]
) -> None:
    """The tagged-field section: known fields already encoded, merged with kept unknown ones."""
    fields: list[tuple[int, bytes | bytearray]] = known
    if unknown:
        fields = [*known, *unknown]
        fields.sort(key=_tag_of)
    w_uvar(out, len(fields))
    for tag, data in fields:
        w_uvar(out, tag)
        w_uvar(out, len(data))
        out += data


def _tag_of(item: tuple[int, bytes | bytearray]) -> int:
    return item[0]


# ---------------------------------------------------------------- entry points


def run_decode(
    fn: Callable[[memoryview, int, int], tuple[T, int]],
    name: str,
    data: Buffer,
    version: int,
    lo: int,
    hi: int,
    pos: int = 0,
) -> tuple[T, int]:
    """Decode one message from ``pos``; every failure becomes ProtocolError(name, version, path, reason)."""
    if not lo <= version <= hi:
        raise ProtocolError(name, version, "", f"unsupported version (valid {lo}-{hi})")
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    try:
        return fn(view, pos, version)
    except Fail as e:
        raise ProtocolError(name, version, ".".join(reversed(e.path)), e.reason) from None
    except Exception as e:  # defensive: the generated code wraps everything, this is the last net
        raise ProtocolError(name, version, "", f"{type(e).__name__}: {e}") from None


def run_encode(
    fn: Callable[[T, bytearray, int], None],
    obj: T,
    name: str,
    version: int,
    lo: int,
    hi: int,
    out: bytearray | None = None,
) -> bytearray:
    if not lo <= version <= hi:
        raise ProtocolError(name, version, "", f"unsupported version (valid {lo}-{hi})")
    buf = bytearray() if out is None else out
    try:
        fn(obj, buf, version)
    except Fail as e:
        raise ProtocolError(name, version, ".".join(reversed(e.path)), e.reason) from None
    return buf
