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

The classes live in ``construct_types`` and the stream helpers they share with the compiled code in
``construct_stream``; this module turns the schemas into structs.  Every custom class implements
``_emitparse``/``_emitbuild``, so ``.compile()`` turns a whole message
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

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import construct as c

from kafkatools.codec import messages
from kafkatools.codec._schema import Field, Message, from_definition
from kafkatools.codec.construct_stream import ZERO_UUID
from kafkatools.codec.construct_types import KArray, KBool, KBytes, KNullable, KString, KTagged, KUuid, Tagged, UVarInt
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
