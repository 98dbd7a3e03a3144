"""Kafka's primitive types as ``construct`` classes (the table in ``construct_model``'s docstring).

Each class parses and builds interpreted, and emits source for ``.compile()`` that calls the same
helpers in ``construct_stream``; nested structs are inlined so a compiled message never falls back
to interpreting a custom instance.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import construct as c

from kafkatools.codec.construct_stream import (
    I32,
    Stream,
    rd_blob,
    rd_exact,
    rd_marker,
    rd_size,
    rd_string,
    rd_tags,
    rd_uvar,
    wr_blob,
    wr_size,
    wr_string,
    wr_tags,
    wr_uvar,
)
from kafkatools.codec.construct_stream import IMPORT as _IMPORT


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
        n = rd_size(stream, self.compact, I32, self.nullable, "array")
        return None if n < 0 else [self.subcon._parsereport(stream, context, path) for _ in range(n)]

    def _build(self, obj: list[Any] | None, stream: Stream, context: Any, path: str) -> Any:
        wr_size(stream, None if obj is None else len(obj), self.compact, I32, self.nullable)
        for e in obj or ():
            self.subcon._build(e, stream, context, path)
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(_IMPORT)
        fname = f"parse_karray_{code.allocateId()}"
        code.append(f"""
            def {fname}(io, this):
                n = _cm.rd_size(io, {self.compact}, _cm.I32, {self.nullable}, "array")
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
                _cm.wr_size(io, None if objs is None else len(objs), {self.compact}, _cm.I32, {self.nullable})
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
