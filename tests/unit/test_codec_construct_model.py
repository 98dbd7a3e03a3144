"""The construct model (the declarative specification) against the generated codec, every message and version.

Invariants, for values drawn from the schema with ``test_codec_roundtrip``'s strategies (nullable,
compact, known and unknown tagged fields included):

* encode: the model's bytes are identical to the generated codec's;
* decode: both decoders give equal objects from the same bytes, in both directions (bytes written by
  the generated codec, bytes written by the model), interpreted and compiled;
* damaged input (truncated, or one byte changed): both decoders fail, or both return equal objects.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkatools.codec import construct_model as cm
from kafkatools.codec import messages
from kafkatools.codec._schema import Message
from kafkatools.errors import ProtocolError
from tests.unit.test_codec_roundtrip import MSGS, _struct


def _decode_both(msg: Message, wire: bytes, v: int) -> tuple[Any, Any]:
    """Both decoders' results as comparable values: the object re-encoded by the generated codec (damaged
    input may decode to NaN, which == would call different), or the string "error" on ProtocolError."""
    results: list[Any] = []
    for fn in (lambda: messages.by_name(msg.name).decode(wire, v), lambda: cm.decode(msg.name, wire, v)):
        try:
            results.append(fn().encode(v))
        except ProtocolError:
            results.append("error")
    return results[0], results[1]


@pytest.mark.parametrize("msg", MSGS, ids=[m.name for m in MSGS])
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_model_matches_generated_codec(msg: Message, data: st.DataObject) -> None:
    cls = messages.by_name(msg.name)
    for v in sorted(msg.valid):
        value = data.draw(_struct(msg, cls, msg.name, v), label=f"v{v}")
        wire = value.encode(v)
        assert cm.encode(value, v) == wire, f"{msg.name} v{v}: encode differs"
        assert cm.decode(msg.name, wire, v) == cls.decode(wire, v) == value, f"{msg.name} v{v}: decode differs"
        # the other direction: bytes written by the model, read by the generated codec
        assert cls.decode(cm.encode(value, v), v) == value, f"{msg.name} v{v}"
        cut = data.draw(st.integers(0, max(len(wire) - 1, 0)), label="cut")
        flip = data.draw(st.integers(0, 255), label="flip")
        gen, mod = _decode_both(msg, wire[:cut], v)
        assert gen == mod, f"{msg.name} v{v}: truncated at {cut}: generated {gen!r}, model {mod!r}"
        if wire:
            damaged = wire[:cut] + bytes([wire[cut] ^ flip]) + wire[cut + 1 :]
            gen, mod = _decode_both(msg, damaged, v)
            assert gen == mod, f"{msg.name} v{v}: byte {cut} ^ {flip}: generated {gen!r}, model {mod!r}"


@pytest.mark.parametrize("msg", MSGS, ids=[m.name for m in MSGS])
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_interpreted_model_matches(msg: Message, data: st.DataObject) -> None:
    """The model before ``.compile()`` (what ``model()`` returns) agrees too."""
    cls = messages.by_name(msg.name)
    for v in sorted(msg.valid):
        value = data.draw(_struct(msg, cls, msg.name, v), label=f"v{v}")
        wire = value.encode(v)
        assert cm.encode(value, v, compile=False) == wire, f"{msg.name} v{v}"
        assert cm.decode(msg.name, wire, v, compile=False) == value, f"{msg.name} v{v}"


def test_defaults_match_everywhere() -> None:
    for name, cls in messages.load_all().items():
        for v in range(cls.MIN_VERSION, cls.MAX_VERSION + 1):
            wire = cls().encode(v)
            assert cm.encode(cls(), v) == wire, f"{name} v{v}"
            assert cm.decode(name, wire, v) == cls(), f"{name} v{v}"


def _uvar(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def test_tagged_section_known_unknown_order_and_defaults() -> None:
    """ApiVersionsResponse v3: tags 0-3 are known (SupportedFeatures, FinalizedFeaturesEpoch, ...)."""
    cls = messages.ApiVersionsResponse
    body = struct.pack(">h", 0) + _uvar(1) + struct.pack(">i", 7)  # error_code, api_keys = [], throttle
    epoch = struct.pack(">q", 42)
    # unknown tag 9 first, then known tag 1 with two spare bytes after its int64, then unknown tag 5
    tags = _uvar(3) + _uvar(9) + _uvar(2) + b"xy" + _uvar(1) + _uvar(10) + epoch + b"!!" + _uvar(5) + _uvar(0)
    wire = body + tags
    gen, mod = cls.decode(wire, 3), cm.decode("ApiVersionsResponse", wire, 3)
    assert gen == mod
    assert mod.finalized_features_epoch == 42
    assert mod._unknown_tagged_fields == [(9, b"xy"), (5, b"")]
    # re-encoding sorts by tag, writes the known value at its own size, keeps the default ones out
    assert cm.encode(mod, 3) == cls.encode(gen, 3)
    again = cm.encode(mod, 3)
    assert again.endswith(_uvar(3) + _uvar(1) + _uvar(8) + epoch + _uvar(5) + _uvar(0) + _uvar(9) + _uvar(2) + b"xy")
    assert cm.encode(cls(throttle_time_ms=7), 3).endswith(b"\x00")  # all tagged values default: empty section


def test_nullable_and_compact_cases() -> None:
    md = messages.MetadataRequest
    for v in (1, 9, 12):
        for value in (md(topics=None), md(topics=[]), md(topics=[md.MetadataRequestTopic(name="t")])):
            if v >= 10 and value.topics:
                value.topics[0].topic_id = uuid.uuid4()
            assert cm.encode(value, v) == value.encode(v), f"v{v} {value}"
            assert cm.decode("MetadataRequest", value.encode(v), v) == value
    assert cm.encode(md(topics=None), 9)[0] == 0  # compact null array: uvarint 0
    assert cm.encode(md(topics=None), 1)[:4] == b"\xff\xff\xff\xff"
    with pytest.raises(ProtocolError):
        cm.encode(md(topics=None), 0)  # topics not nullable at v0
    with pytest.raises(ProtocolError):
        cm.decode("MetadataRequest", b"\xff\xff\xff\xff", 0)


def test_model_is_a_construct_per_version() -> None:
    assert cm.model("ProduceRequest", 9) is cm.model("ProduceRequest", 9)
    names = [sc.name for sc in cm.model("ProduceRequest", 9).subcons]
    assert names == ["transactional_id", "acks", "timeout_ms", "topic_data", "_tagged_fields"]
    assert [sc.name for sc in cm.model("ProduceRequest", 2).subcons] == ["acks", "timeout_ms", "topic_data"]
    with pytest.raises(ProtocolError):
        cm.model("ProduceRequest", 99)
