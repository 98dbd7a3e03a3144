"""Kafka's message JSON definitions read into a small model for the generator (generation time only).

The JSON files (``clients/src/main/resources/common/message/*.json`` in Kafka) carry ``//`` comment
lines and trailing ``//`` comments; both are stripped before parsing.  Version specs are ``"N"``,
``"N-M"``, ``"N+"`` or ``"none"``; here they become explicit sets of versions clipped to the
message's ``validVersions``, which keeps every later question ("is this field present and
flexible at v?") a set operation.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXED: dict[str, tuple[str, int]] = {
    "int8": ("b", 1),
    "int16": ("h", 2),
    "int32": ("i", 4),
    "int64": ("q", 8),
    "uint16": ("H", 2),
    "uint32": ("I", 4),
    "float64": ("d", 8),
    "bool": ("?", 1),
}


def strip_comments(text: str) -> str:
    """Drop ``//`` comments (whole lines and trailing ones) outside JSON strings."""
    out = []
    for line in text.splitlines():
        in_str = False
        cut = len(line)
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == "\\" and in_str:
                i += 2
                continue
            if ch == '"':
                in_str = not in_str
            elif not in_str and line.startswith("//", i):
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def snake(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    return s + "_" if keyword.iskeyword(s) else s


def versions(spec: str | None, valid: frozenset[int]) -> frozenset[int]:
    if spec is None or spec == "none":
        return frozenset()
    if spec.endswith("+"):
        lo = int(spec[:-1])
        return frozenset(v for v in valid if v >= lo)
    if "-" in spec:
        a, b = spec.split("-")
        return frozenset(v for v in valid if int(a) <= v <= int(b))
    return frozenset({int(spec)}) & valid


@dataclass
class Field:
    name: str  # JSON name, e.g. TopicData
    py: str  # snake_case attribute name
    type: str  # JSON type, e.g. "[]int32", "string", "TopicData"
    present: frozenset[int]  # versions where the field exists (inline or tagged)
    nullable: frozenset[int]
    tagged: frozenset[int]
    tag: int | None
    default: str | None
    flexible: frozenset[int]  # versions in which this field uses compact encodings

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[]")

    @property
    def elem(self) -> str:
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self) -> bool:
        return self.elem[:1].isupper()


@dataclass
class Message:
    name: str
    kind: str  # request / response / data / header
    api_key: int | None
    valid: frozenset[int]
    flexible: frozenset[int]
    fields: list[Field]
    structs: dict[str, list[Field]] = field(default_factory=dict)  # nested + common, by name
    usage: dict[str, frozenset[int]] = field(default_factory=dict)  # versions each struct is used in
    file: str = ""

    @property
    def lo(self) -> int:
        return min(self.valid)

    @property
    def hi(self) -> int:
        return max(self.valid)


def _fields(raw: list[dict[str, object]], msg: Message, valid: frozenset[int]) -> list[Field]:
    result = []
    for r in raw:
        ftype = str(r["type"])
        flex_spec = r.get("flexibleVersions")
        flexible = msg.flexible if flex_spec is None else versions(str(flex_spec), valid)
        tag = r.get("tag")
        f = Field(
            name=str(r["name"]),
            py=snake(str(r["name"])),
            type=ftype,
            present=versions(str(r["versions"]), valid),
            nullable=versions(r.get("nullableVersions"), valid),  # type: ignore[arg-type]
            tagged=versions(r.get("taggedVersions"), valid),  # type: ignore[arg-type]
            tag=None if tag is None else int(str(tag)),
            default=None if "default" not in r else str(r["default"]),
            flexible=flexible,
        )
        sub = r.get("fields")
        if sub is not None:
            msg.structs[f.elem] = _fields(sub, msg, valid)  # type: ignore[arg-type]
        result.append(f)
    return result


def without_prose(node: object) -> object:
    """The definition minus Kafka's ``about`` texts (prose we must not ship): what the package embeds."""
    if isinstance(node, dict):
        return {k: without_prose(v) for k, v in node.items() if k != "about"}
    if isinstance(node, list):
        return [without_prose(v) for v in node]
    return node


def read_definition(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(strip_comments(path.read_text(encoding="utf-8")))
    return data


def load(path: Path) -> Message:
    return from_definition(read_definition(path), path.name)


def from_definition(data: dict[str, Any], file: str) -> Message:
    """The generator's model of one message, from its JSON definition (parsed, comments stripped)."""
    path = file
    lo_hi = str(data["validVersions"])
    if lo_hi.endswith("+"):
        raise ValueError(f"{path}: open validVersions")
    valid = versions(lo_hi, frozenset(range(100)))
    msg = Message(
        name=str(data["name"]),
        kind=str(data["type"]),
        api_key=data.get("apiKey"),
        valid=valid,
        flexible=versions(str(data["flexibleVersions"]), valid),
        fields=[],
        file=file,
    )
    for common in data.get("commonStructs", []):
        msg.structs[common["name"]] = _fields(common["fields"], msg, valid)
    msg.fields = _fields(data["fields"], msg, valid)
    _mark_usage(msg, msg.fields, valid)
    return msg


def _mark_usage(msg: Message, fields: list[Field], within: frozenset[int]) -> None:
    for f in fields:
        if f.is_struct:
            used = f.present & within
            msg.usage[f.elem] = msg.usage.get(f.elem, frozenset()) | used
            _mark_usage(msg, msg.structs[f.elem], used)


def load_all(directory: Path) -> list[Message]:
    return [load(p) for p in sorted(directory.glob("*.json"))]
