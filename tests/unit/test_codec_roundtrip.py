"""Every message, every version: values drawn from the schema round-trip through encode/decode.

Invariants: decode(encode(x)) == x, and encode(decode(bytes)) == bytes.  Strategies come from the
same JSON the generator reads (tests may read ../shared; the package never does), so nullable,
compact and tagged fields - including unknown tagged fields, kept for lossless re-encoding - are
drawn only in the versions where the schema allows them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkatools.codec import messages
from kafkatools.codec._schema import Field, Message, load_all
from tests.conftest import SHARED

SCHEMAS = SHARED / "kafka-protocol" / "messages"
if not SCHEMAS.is_dir():
    pytest.fail(f"Kafka message JSON missing: expected {SCHEMAS}", pytrace=False)
MSGS = [m for m in load_all(SCHEMAS) if m.name not in ("RequestHeader", "ResponseHeader")]

INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}


def _scalar(f: Field) -> st.SearchStrategy[Any]:
    t = f.elem
    if t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        return st.integers(lo, hi)
    if t == "bool":
        return st.booleans()
    if t == "float64":
        return st.floats(allow_nan=False)
    if t == "string":
        return st.text(max_size=8)
    if t in ("bytes", "records"):
        return st.binary(max_size=12)
    if t == "uuid":
        return st.uuids()
    raise AssertionError(f"type {t} has no strategy")


def _value(msg: Message, top: type, f: Field, v: int, unknown: bool) -> st.SearchStrategy[Any]:
    elem = _struct(msg, top, f.elem, v, unknown) if f.is_struct else _scalar(f)
    base = st.lists(elem, max_size=3) if f.is_array else elem
    return st.none() | base if v in f.nullable else base


def _struct(msg: Message, top: type, name: str, v: int, unknown: bool = True) -> st.SearchStrategy[Any]:
    """Instances of struct ``name`` valid at version ``v``; ``unknown`` adds unknown tagged fields."""
    fields = msg.fields if name == msg.name else msg.structs[name]
    cls = top if name == msg.name else getattr(top, name)
    kwargs: dict[str, st.SearchStrategy[Any]] = {
        f.py: _value(msg, top, f, v, unknown) for f in fields if v in f.present
    }
    if unknown and v in msg.flexible:
        extra = st.lists(
            st.tuples(st.integers(5000, 5003), st.binary(max_size=4)), max_size=2, unique_by=lambda t: t[0]
        )
        kwargs["_unknown_tagged_fields"] = extra.map(sorted)
    return st.builds(cls, **kwargs)


@pytest.mark.parametrize("msg", MSGS, ids=[m.name for m in MSGS])
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_version_round_trips(msg: Message, data: st.DataObject) -> None:
    cls = messages.by_name(msg.name)
    assert (msg.lo, msg.hi) == (cls.MIN_VERSION, cls.MAX_VERSION)
    for v in sorted(msg.valid):
        value = data.draw(_struct(msg, cls, msg.name, v), label=f"v{v}")
        wire = value.encode(v)
        back = cls.decode(wire, v)
        assert back == value, f"{msg.name} v{v}"
        assert back.encode(v) == wire, f"{msg.name} v{v} re-encode"


def test_defaults_round_trip_everywhere() -> None:
    for name, cls in messages.load_all().items():
        for v in range(cls.MIN_VERSION, cls.MAX_VERSION + 1):
            wire = cls().encode(v)
            assert cls.decode(wire, v) == cls(), f"{name} v{v}"
