"""Every Kafka message and version as a declarative ``construct`` structure: the executable specification.

The generated modules in ``_generated/`` are the hot path; this module is the reference they are
checked against (``tests/unit/test_codec_construct_model.py`` compares the two on every message and
version, both directions).  Both derive from the same schema model (``_schema``); this module reads it
from ``_generated/_schemas.py``, the message definitions the generator embeds (minus Kafka's prose), so
the installed package never needs Kafka's JSON folder.

``model("ProduceRequest", 9)`` is a plain ``construct.Struct`` of the fields present at v9, in wire
order, with every version condition already resolved.  It parses into ``Container``s (struct field
names are the generated attribute names; a flexible version adds ``_tagged_fields``, a Container of
the known tagged fields found plus ``_unknown``, a list of raw ``(tag, bytes)``).  ``decode``/``encode``
convert between those Containers and the generated classes, so results compare with ``==``.

Kafka primitives as construct classes (Kafka 3.9 ``org.apache.kafka.common.protocol.types``)::

    int8..int64, uint16/32, float64   construct's big-endian FormatFields (Int8sb .. Float64b)
    bool           one byte, non-zero = True                                   KBool
    uuid           16 bytes -> uuid.UUID                                       KUuid
    string         int16 n, n UTF-8 bytes (-1 null) | compact: uvarint n+1     KString
    bytes/records  int32 n, n bytes       (-1 null) | compact: uvarint n+1     KBytes (records stay raw)
    array          int32 n, n elements    (-1 null) | compact: uvarint n+1     KArray
    nullable struct int8 -1 = null, 1 = present                                KNullable
    tagged fields  uvarint count, then (uvarint tag, uvarint size, bytes)      KTagged
                   known tags parsed with their field's construct; others kept raw; on build only
                   values that differ from the schema default are written, merged with the raw ones
                   and sorted by tag.
    uvarint        unsigned LEB128, at most 5 bytes                            UVarInt

Every custom class implements ``_emitparse``/``_emitbuild``, so ``.compile()`` turns a whole message
into one generated module with nested structs inlined (without them construct links the custom
instance in and everything under it runs interpreted).  Two of construct's own classes drop their
bounds checks when compiled (``Flag`` and ``Bytes`` emit a bare ``io.read(n)``, so a truncated frame
parses as True / short bytes); the differential fuzz test caught ``Flag``, hence ``KBool``, and
``KUuid``/``KBytes`` read through ``rd_exact``.

Measured with ``benchmarks/codec.py`` (CPython 3.11, 2 shared cores; per call, conversion to/from
the generated classes included)::

                                                generated   construct     construct
                                                            interpreted   compiled
    decode Produce v9 request, one 1 MB batch     3.8 us       405 us        395 us
    decode Metadata v12 request, one topic        3.2 us        17 us        7.8 us
    encode Fetch v12 response, 100 partitions     180 us      1220 us        615 us

Compiling pays 2x where there are many fields and elements, so ``decode``/``encode`` use the compiled
form (``compiled()``; building all 661 message versions takes ~75 ms, compiling them ~0.75 s, ~1 ms
each, cached).  The Produce row is the 1 MB record batch copied out of the ``BytesIO`` into fresh
memory (~30 us when the pages are warm, ~390 us first-touch), which the generated code avoids by
handing out a memoryview; elsewhere the model stays 2-3x slower because construct keeps a context
``Container`` per struct and goes through a stream - the overhead the generator removes by compiling
ahead of time with the version conditions resolved.
"""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import construct as c

from kafkatools.codec import messages
from kafkatools.codec._schema import Field, Message, from_definition
from kafkatools.errors import ProtocolError

__all__ = [
    "KArray",
    "KBool",
    "KBytes",
    "KNullable",
    "KString",
    "KTagged",
    "KUuid",
    "UVarInt",
    "decode",
    "encode",
    "model",
]

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_IMPORT = "from kafkatools.codec import construct_model as _cm"
ZERO_UUID = uuid.UUID(int=0)
Stream = io.BytesIO

# ---------------------------------------------------------------- stream helpers (interpreted and compiled)


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
    n = rd_size(s, compact, _I16, nullable, "string")
    return None if n < 0 else rd_exact(s, n).decode("utf-8")


def wr_string(s: Stream, v: str | None, compact: bool, nullable: bool) -> None:
    data = None if v is None else v.encode("utf-8")
    if data is not None and not compact and len(data) > 0x7FFF:
        raise c.StringError("string longer than 32767 bytes")
    wr_size(s, None if data is None else len(data), compact, _I16, nullable)
    if data is not None:
        s.write(data)


def rd_blob(s: Stream, compact: bool, nullable: bool) -> bytes | None:
    n = rd_size(s, compact, _I32, nullable, "bytes")
    return None if n < 0 else rd_exact(s, n)


def wr_blob(s: Stream, v: bytes | None, compact: bool, nullable: bool) -> None:
    wr_size(s, None if v is None else len(v), compact, _I32, nullable)
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


# ---------------------------------------------------------------- the construct classes


class UVarInt(c.Construct):  # type: ignore[misc]
    def _parse(self, stream: Stream, context: Any, path: str) -> int:
        return rd_uvar(stream)

    def _build(self, obj: int, stream: Stream, context: Any, path: str) -> int:
        wr_uvar(stream, obj)
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        return "_cm.rd_uvar(io)"

    def _emitbuild(self, code: Any) -> str:
        code.append(_IMPORT)
        return "(_cm.wr_uvar(io, obj), obj)[1]"


class _Sized(c.Construct):  # type: ignore[misc]
    """Base of the length-prefixed leaves: ``compact`` = uvarint n+1, else int16/int32 n."""

    reader: Callable[[Stream, bool, bool], Any]
    writer: Callable[[Stream, Any, bool, bool], None]
    rname = wname = ""

    def __init__(self, compact: bool, nullable: bool) -> None:
        super().__init__()
        self.compact = compact
        self.nullable = nullable

    def _parse(self, stream: Stream, context: Any, path: str) -> Any:
        return type(self).reader(stream, self.compact, self.nullable)

    def _build(self, obj: Any, stream: Stream, context: Any, path: str) -> Any:
        type(self).writer(stream, obj, self.compact, self.nullable)
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        return f"_cm.{self.rname}(io, {self.compact}, {self.nullable})"

    def _emitbuild(self, code: Any) -> str:
        code.append(_IMPORT)
        return f"(_cm.{self.wname}(io, obj, {self.compact}, {self.nullable}), obj)[1]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(compact={self.compact}, nullable={self.nullable})"


class KString(_Sized):
    reader, writer, rname, wname = staticmethod(rd_string), staticmethod(wr_string), "rd_string", "wr_string"


class KBytes(_Sized):
    reader, writer, rname, wname = staticmethod(rd_blob), staticmethod(wr_blob), "rd_blob", "wr_blob"


class KUuid(c.Adapter):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(c.Bytes(16))

    def _decode(self, obj: bytes, context: Any, path: str) -> uuid.UUID:
        return uuid.UUID(bytes=obj)

    def _encode(self, obj: uuid.UUID, context: Any, path: str) -> bytes:
        return obj.bytes

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        return "_cm.uuid.UUID(bytes=_cm.rd_exact(io, 16))"

    def _emitbuild(self, code: Any) -> str:
        return "(io.write(obj.bytes), obj)[1]"


class KArray(c.Subconstruct):  # type: ignore[misc]
    """int32 count (or uvarint n+1 when compact), then the elements; null = -1 (0 compact)."""

    def __init__(self, subcon: c.Construct, compact: bool, nullable: bool) -> None:
        super().__init__(subcon)
        self.compact = compact
        self.nullable = nullable

    def _parse(self, stream: Stream, context: Any, path: str) -> list[Any] | None:
        n = rd_size(stream, self.compact, _I32, self.nullable, "array")
        return None if n < 0 else [self.subcon._parsereport(stream, context, path) for _ in range(n)]

    def _build(self, obj: list[Any] | None, stream: Stream, context: Any, path: str) -> Any:
        wr_size(stream, None if obj is None else len(obj), self.compact, _I32, self.nullable)
        for e in obj or ():
            self.subcon._build(e, stream, context, path)
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        fname = f"parse_karray_{code.allocateId()}"
        code.append(f"""
            def {fname}(io, this):
                n = _cm.rd_size(io, {self.compact}, _cm._I32, {self.nullable}, "array")
                if n < 0:
                    return None
                return [{self.subcon._compileparse(code)} for i in range(n)]
        """)
        return f"{fname}(io, this)"

    def _emitbuild(self, code: Any) -> str:
        code.append(_IMPORT)
        fname = f"build_karray_{code.allocateId()}"
        code.append(f"""
            def {fname}(objs, io, this):
                _cm.wr_size(io, None if objs is None else len(objs), {self.compact}, _cm._I32, {self.nullable})
                for obj in objs or ():
                    {self.subcon._compilebuild(code)}
                return objs
        """)
        return f"{fname}(obj, io, this)"


class KNullable(c.Subconstruct):  # type: ignore[misc]
    """A nullable struct: int8 -1 = null, else 1 and the struct."""

    def _parse(self, stream: Stream, context: Any, path: str) -> Any:
        return self.subcon._parsereport(stream, context, path) if rd_marker(stream) else None

    def _build(self, obj: Any, stream: Stream, context: Any, path: str) -> Any:
        stream.write(b"\xff" if obj is None else b"\x01")
        return None if obj is None else self.subcon._build(obj, stream, context, path)

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        return f"(({self.subcon._compileparse(code)}) if _cm.rd_marker(io) else None)"

    def _emitbuild(self, code: Any) -> str:
        sub = self.subcon._compilebuild(code)
        return f"((io.write(b'\\xff'), None)[1] if obj is None else (io.write(b'\\x01'), {sub})[1])"


@dataclass(frozen=True)
class Tagged:
    tag: int
    name: str
    subcon: c.Construct
    default: Any


class KTagged(c.Construct):  # type: ignore[misc]
    """The tagged-field section of a flexible version; parses into a Container (see the module doc).

    A tagged struct value is compared with its default in plain form, i.e. on the fields present at
    this version; the generated code compares whole objects, so the two differ only for a tagged
    struct whose non-default values all sit in fields absent at this version (then nothing is sent
    here, while the generated code sends the struct's default encoding).
    """

    def __init__(self, fields: list[Tagged]) -> None:
        super().__init__()
        self.fields = sorted(fields, key=lambda f: f.tag)
        self.by_tag = {f.tag: f for f in self.fields}

    def _parse(self, stream: Stream, context: Any, path: str) -> c.Container:
        result, unknown = c.Container(), []
        for tag, data in rd_tags(stream):
            f = self.by_tag.get(tag)
            if f is None:
                unknown.append((tag, data))
            else:
                result[f.name] = f.subcon._parsereport(io.BytesIO(data), context, path)
        result["_unknown"] = unknown
        return result

    def _build(self, obj: dict[str, Any], stream: Stream, context: Any, path: str) -> Any:
        known = []
        for f in self.fields:
            value = obj.get(f.name, f.default)
            if value != f.default:
                buf = io.BytesIO()
                f.subcon._build(value, buf, context, path)
                known.append((f.tag, buf.getvalue()))
        wr_tags(stream, known, obj.get("_unknown"))
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        fname = f"parse_ktagged_{code.allocateId()}"
        lines = [
            f"def {fname}(io, this):",
            "    result, unknown = Container(), []",
            "    for tag, data in _cm.rd_tags(io):",
        ]
        for kw, f in zip(["if", *["elif"] * len(self.fields)], self.fields, strict=False):
            lines.append(f"        {kw} tag == {f.tag}:")
            lines.append(
                f"            result[{f.name!r}] = restream(data, lambda io: ({f.subcon._compileparse(code)}))"
            )
        lines += ["        else:" if self.fields else "        if True:", "            unknown.append((tag, data))"]
        lines += ["    result['_unknown'] = unknown", "    return result"]
        code.append("\n".join(lines))
        return f"{fname}(io, this)"

    def _emitbuild(self, code: Any) -> str:
        code.append(_IMPORT)
        code.linkedinstances[id(self)] = self
        fname = f"build_ktagged_{code.allocateId()}"
        lines = [
            f"def {fname}(objdict, io, this):",
            "    known = []",
            f"    fields = linkedinstances[{id(self)}].fields",
        ]
        for i, f in enumerate(self.fields):
            lines += [
                f"    obj = objdict.get({f.name!r}, fields[{i}].default)",
                f"    if obj != fields[{i}].default:",
                "        outer, io = io, BytesIO()",
                f"        {f.subcon._compilebuild(code)}",
                f"        known.append(({f.tag}, io.getvalue()))",
                "        io = outer",
            ]
        lines += ["    _cm.wr_tags(io, known, objdict.get('_unknown'))", "    return objdict"]
        code.append("\n".join(lines))
        return f"{fname}(obj, io, this)"


class KBool(c.Construct):  # type: ignore[misc]
    """One byte, non-zero = True.  Not construct's ``Flag``: compiled, ``Flag`` reads b"" at the end of
    the stream as True instead of failing (its compiler drops the length check)."""

    def _parse(self, stream: Stream, context: Any, path: str) -> bool:
        return rd_exact(stream, 1) != b"\x00"

    def _build(self, obj: bool, stream: Stream, context: Any, path: str) -> bool:
        stream.write(b"\x01" if obj else b"\x00")
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        return "(_cm.rd_exact(io, 1) != b'\\x00')"

    def _emitbuild(self, code: Any) -> str:
        return "(io.write(b'\\x01' if obj else b'\\x00'), obj)[1]"


_FIXED_CONS: dict[str, c.Construct] = {
    "int8": c.Int8sb,
    "int16": c.Int16sb,
    "int32": c.Int32sb,
    "int64": c.Int64sb,
    "uint16": c.Int16ub,
    "uint32": c.Int32ub,
    "float64": c.Float64b,
    "bool": KBool(),
}


# ---------------------------------------------------------------- schema -> constructs


@cache
def schema(message_name: str) -> Message:
    """The parsed definition of one message (the generator's model), from the package's own copy."""
    from kafkatools.codec._generated._schemas import DEFINITIONS

    text = DEFINITIONS.get(message_name)
    if text is None:
        raise KeyError(f"no message definition for {message_name!r}")
    return from_definition(json.loads(text), f"{message_name}.json")


def _fields(msg: Message, struct_name: str) -> list[Field]:
    return msg.fields if struct_name == msg.name else msg.structs[struct_name]


def _scalar(t: str, flex: bool, nullable: bool) -> c.Construct:
    if t in _FIXED_CONS:
        return _FIXED_CONS[t]
    if t == "string":
        return KString(flex, nullable)
    if t in ("bytes", "records"):
        return KBytes(flex, nullable)
    if t == "uuid":
        return KUuid()
    raise ValueError(f"unknown Kafka type {t!r}")


def _field_con(msg: Message, f: Field, v: int) -> c.Construct:
    flex, nullable = v in f.flexible, v in f.nullable
    if f.is_array:
        elem = _struct_con(msg.name, f.elem, v) if f.is_struct else _scalar(f.elem, flex, False)
        return KArray(elem, flex, nullable)
    if f.is_struct:
        sub = _struct_con(msg.name, f.elem, v)
        return KNullable(sub) if nullable else sub
    return _scalar(f.type, flex, nullable)


@cache
def _struct_con(message_name: str, struct_name: str, v: int) -> c.Construct:
    msg = schema(message_name)
    fields = _fields(msg, struct_name)
    subcons = [f.py / _field_con(msg, f, v) for f in fields if v in f.present - f.tagged]
    if v in msg.flexible:
        tagged = [Tagged(f.tag or 0, f.py, _field_con(msg, f, v), _default(msg, f, v)) for f in fields if v in f.tagged]
        subcons.append("_tagged_fields" / KTagged(tagged))
    return c.Struct(*subcons)


def _default(msg: Message, f: Field, v: int) -> Any:
    """The schema default of ``f`` in the model's plain form (what a tagged value is compared with)."""
    d = f.default
    if d == "null":
        return None
    if f.is_array:
        return []
    if f.is_struct:
        fields = _fields(msg, f.elem)
        plain = {g.py: _default(msg, g, v) for g in fields if v in g.present - g.tagged}
        if v in msg.flexible:
            tagged = {g.py: _default(msg, g, v) for g in fields if v in g.tagged}
            plain["_tagged_fields"] = {**tagged, "_unknown": []}
        return plain
    t = f.type
    if t == "string":
        return d or ""
    if t in ("bytes", "records"):
        return b""
    if t == "uuid":
        return ZERO_UUID
    if t == "bool":
        return (d or "false").lower() == "true"
    if t == "float64":
        return float(d or 0)
    return int(d, 0) if d else 0


# ---------------------------------------------------------------- Containers <-> generated classes

Conv = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (to generated object, to plain)


@dataclass
class _Plan:
    cls: Any
    inline: list[tuple[str, Conv | None]]
    tagged: list[tuple[str, Conv | None]]
    flexible: bool

    def to_obj(self, con: dict[str, Any]) -> Any:
        kw = {n: con[n] if cv is None else cv[0](con[n]) for n, cv in self.inline}
        if self.flexible:
            section = con["_tagged_fields"]
            for n, cv in self.tagged:
                if n in section:
                    kw[n] = section[n] if cv is None else cv[0](section[n])
            kw["_unknown_tagged_fields"] = section["_unknown"]
        return self.cls(**kw)

    def to_plain(self, obj: Any) -> dict[str, Any]:
        plain = {n: getattr(obj, n) if cv is None else cv[1](getattr(obj, n)) for n, cv in self.inline}
        if self.flexible:
            section = {n: getattr(obj, n) if cv is None else cv[1](getattr(obj, n)) for n, cv in self.tagged}
            section["_unknown"] = obj._unknown_tagged_fields
            plain["_tagged_fields"] = section
        return plain


def _conv(msg: Message, f: Field, v: int) -> Conv | None:
    if not f.is_struct:
        return None  # scalars and scalar arrays are already what the generated classes hold
    p = _plan(msg.name, f.elem, v)
    if f.is_array:
        return (
            lambda xs: None if xs is None else [p.to_obj(x) for x in xs],
            lambda xs: None if xs is None else [p.to_plain(x) for x in xs],
        )
    return (lambda x: None if x is None else p.to_obj(x), lambda x: None if x is None else p.to_plain(x))


@cache
def _plan(message_name: str, struct_name: str, v: int) -> _Plan:
    msg = schema(message_name)
    top = messages.by_name(message_name)
    cls = top if struct_name == message_name else getattr(top, struct_name)
    fields = _fields(msg, struct_name)
    flexible = v in msg.flexible
    return _Plan(
        cls,
        [(f.py, _conv(msg, f, v)) for f in fields if v in f.present - f.tagged],
        [(f.py, _conv(msg, f, v)) for f in fields if v in f.tagged] if flexible else [],
        flexible,
    )


# ---------------------------------------------------------------- public API


def model(message_name: str, version: int) -> c.Construct:
    """The declarative construct of ``message_name`` at ``version`` (built once, cached)."""
    msg = schema(message_name)
    if version not in msg.valid:
        raise ProtocolError(message_name, version, "", f"unsupported version (valid {msg.lo}-{msg.hi})")
    return _struct_con(message_name, message_name, version)


@cache
def compiled(message_name: str, version: int) -> c.Construct:
    """``model(...).compile()``, cached: what ``decode``/``encode`` run (2-3x faster, see the module doc)."""
    return model(message_name, version).compile()


def _failure(name: str, version: int, exc: Exception) -> ProtocolError:
    path = str(getattr(exc, "path", "") or "")
    return ProtocolError(name, version, path, f"{type(exc).__name__}: {exc}".splitlines()[-1])


def decode(message_name: str, data: bytes | bytearray | memoryview, version: int, *, compile: bool = True) -> Any:
    """Parse ``data`` with the model, as an instance of the generated class ``messages.by_name(name)``."""
    con = compiled(message_name, version) if compile else model(message_name, version)
    try:
        plain = con.parse(data)
    except Exception as exc:
        raise _failure(message_name, version, exc) from None
    return _plan(message_name, message_name, version).to_obj(plain)


def encode(obj: Any, version: int, *, compile: bool = True) -> bytes:
    """Build the wire bytes of a generated message object with the model."""
    name: str = type(obj).NAME
    con = compiled(name, version) if compile else model(name, version)
    plain = _plan(name, name, version).to_plain(obj)
    try:
        data: bytes = con.build(plain)
    except Exception as exc:
        raise _failure(name, version, exc) from None
    return data
