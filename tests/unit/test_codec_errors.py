"""Bad input: truncated, corrupted, forged and random frames raise only ProtocolError, fast, with a path.

Invariants (fuzzed with a seeded random.Random over mutations of real frames):
* decode_request either returns or raises ProtocolError (UnsupportedVersionError is one); nothing else;
* a forged length/count larger than the bytes left is refused before anything is allocated;
* encoding an invalid value raises ProtocolError naming the field path.
"""

from __future__ import annotations

import contextlib
import random
import struct
import tracemalloc
import uuid

import pytest

from kafkatools.codec import RequestHeader, UnsupportedVersionError, decode_request, encode_request, messages
from kafkatools.codec.api import API_BY_KEY
from kafkatools.errors import ProtocolError

P = messages.ProduceRequest


def _produce(records: bytes = b"R" * 40) -> P:
    return P(
        acks=-1,
        timeout_ms=1000,
        topic_data=[
            P.TopicProduceData(
                name="t",
                partition_data=[
                    P.PartitionProduceData(index=0, records=records),
                    P.PartitionProduceData(index=1, records=records),
                ],
            )
        ],
    )


def _seed_frames() -> list[bytes]:
    frames = []
    for spec in API_BY_KEY.values():
        for v in {spec.min_version, spec.max_version}:
            header = RequestHeader(spec.key, v, 7, "fuzz-client")
            frames.append(encode_request(header, spec.request())[4:])
    for v in (3, 8, 9, 11):
        frames.append(encode_request(RequestHeader(0, v, 1, "p"), _produce())[4:])
    M = messages.MetadataRequest
    for v in (1, 9, 12):
        req = M(
            topics=[M.MetadataRequestTopic(name="a", topic_id=uuid.uuid4()), M.MetadataRequestTopic(name="b")]
        )
        frames.append(encode_request(RequestHeader(3, v, 2, None), req)[4:])
    return frames


def test_truncated_produce_names_the_field_path() -> None:
    frame = encode_request(RequestHeader(0, 3, 1, "p"), _produce())[4:]
    with pytest.raises(ProtocolError) as info:
        decode_request(frame[:-10])
    err = info.value
    assert (err.api, err.version) == ("ProduceRequest", 3)
    assert err.path == "topic_data[0].partition_data[1].records"


def test_every_truncation_of_every_seed_raises_protocol_error_only() -> None:
    for frame in _seed_frames()[:60]:
        for cut in range(len(frame)):
            with contextlib.suppress(ProtocolError):
                decode_request(frame[:cut])


def test_forged_array_count_fails_fast_without_allocating() -> None:
    # Metadata v1: header, then topics array count
    head = struct.pack(">hhih", 3, 1, 9, -1)
    forged = head + struct.pack(">i", 2**31 - 1) + b"\x00" * 10
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError) as info:
            decode_request(forged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.path == "topics"
    assert "exceeds" in info.value.reason
    assert peak < 1_000_000


def test_forged_compact_lengths_fail_fast() -> None:
    # Metadata v12 (flexible): header v2, then topics as compact array with a 5-byte varint count
    head = struct.pack(">hhih", 3, 12, 9, -1) + b"\x00"
    with pytest.raises(ProtocolError):
        decode_request(head + b"\xff\xff\xff\xff\x0f" + b"\x00" * 10)
    # records length forged past the end
    frame = bytearray(encode_request(RequestHeader(0, 3, 1, "p"), _produce(b"x" * 4))[4:])
    idx = frame.index(b"\x00\x00\x00\x04xxxx")
    frame[idx : idx + 4] = struct.pack(">i", 2**31 - 1)
    with pytest.raises(ProtocolError) as info:
        decode_request(bytes(frame))
    assert info.value.path.endswith("records")


def test_unsupported_version_still_gives_the_header() -> None:
    frame = struct.pack(">hhih", 18, 99, 42, 3) + b"cli" + b"\x00garbage"
    with pytest.raises(UnsupportedVersionError) as info:
        decode_request(frame)
    assert info.value.header == RequestHeader(18, 99, 42, "cli")
    with pytest.raises(UnsupportedVersionError):
        decode_request(struct.pack(">hhih", 999, 0, 1, -1))


def test_encode_invalid_values_name_the_path() -> None:
    bad = _produce()
    bad.topic_data[0].partition_data[1].index = 2**40
    with pytest.raises(ProtocolError) as info:
        bad.encode(3)
    assert info.value.path == "topic_data[0].partition_data[1].index"
    bad = _produce()
    bad.topic_data[0].name = None  # type: ignore[assignment]
    with pytest.raises(ProtocolError) as info:
        bad.encode(9)
    assert info.value.path == "topic_data[0].name"
    with pytest.raises(ProtocolError):
        messages.MetadataRequest(topics=None).encode(0)  # null topics only from v1


def test_fuzz_100k_mutated_and_random_frames() -> None:
    rng = random.Random(20240611)
    seeds = _seed_frames()
    outcomes = {"ok": 0, "error": 0}
    for n in range(100_000):
        frame = bytearray(rng.choice(seeds))
        kind = n % 5
        if kind == 0 and frame:
            for _ in range(rng.randint(1, 4)):
                frame[rng.randrange(len(frame))] = rng.randrange(256)
        elif kind == 1:
            frame = frame[: rng.randrange(len(frame) + 1)]
        elif kind == 2 and len(frame) > 12:
            pos = rng.randrange(8, len(frame) - 4)
            frame[pos : pos + 4] = struct.pack(">i", rng.choice([-2, -1, 2**31 - 1, 2**20, 0x7F7F7F7F]))
        elif kind == 3:
            frame[8:] = rng.randbytes(rng.randrange(64))
        else:
            pos = rng.randrange(len(frame) + 1)
            frame[pos:pos] = rng.randbytes(rng.randint(1, 6))
        try:
            decode_request(bytes(frame))
            outcomes["ok"] += 1
        except ProtocolError as e:
            assert isinstance(e.path, str) and e.api
            outcomes["error"] += 1
    assert outcomes["ok"] + outcomes["error"] == 100_000
    assert outcomes["error"] > 10_000 and outcomes["ok"] > 1_000
