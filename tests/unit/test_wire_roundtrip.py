"""Properties of the record formats.

Invariants:
1. build -> iterate is the identity on (offset, timestamp, key, value, headers) for every codec and
   magic 0/1/2 (magic 0 drops timestamps, magic 0/1 have no headers, zstd needs magic 2), and what
   we build passes ``validate_batch`` / ``validate_entry``.
2. Zigzag varints round-trip every int64 and use Kafka's byte counts.
3. Fuzz: any mutation or truncation of a valid blob, run through iter_batches and every batch's
   records (with and without the CRC check, and after re-sealing the CRC so the parsers behind it
   are reached), raises nothing but CorruptRecordError.
"""

from __future__ import annotations

import random
import struct
import zlib

import pytest
from crc32c import crc32c
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire import legacy
from kafkatools.wire.log_entries import iter_batches
from kafkatools.wire.records import Compression, RecordInput, build_batch, build_control_batch
from kafkatools.wire.varint import decode_varint, encode_varint

INT64 = st.integers(-(2**63), 2**63 - 1)
maybe_bytes = st.none() | st.binary(max_size=300)
headers = st.lists(st.tuples(st.text(max_size=10), maybe_bytes), max_size=3)
record = st.builds(RecordInput, maybe_bytes, maybe_bytes, st.integers(0, 2**48), headers)


@settings(max_examples=300, deadline=None)
@given(st.lists(record, min_size=1, max_size=20), st.sampled_from(list(Compression)), st.sampled_from([0, 1, 2]),
       st.integers(0, 2**40))
def test_build_then_iterate_is_identity(recs: list[RecordInput], codec: Compression, magic: int, base: int) -> None:
    if magic == 2:
        blob = build_batch(recs, base_offset=base, compression=codec)
        assert wb.validate_batch(blob).size == len(blob)
        expected = [(base + i, r.timestamp, r.key, r.value, list(r.headers)) for i, r in enumerate(recs)]
    else:
        if codec == Compression.ZSTD:
            codec = Compression.LZ4
        recs = [RecordInput(r.key, r.value, r.timestamp) for r in recs]
        blob = legacy.build_message_set(recs, magic=magic, base_offset=base, compression=codec)
        pos = 0
        while pos < len(blob):
            pos += legacy.validate_entry(blob, pos).size
        expected = [(base + i, r.timestamp if magic else -1, r.key, r.value, []) for i, r in enumerate(recs)]
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for b in iter_batches(blob) for r in b.records()]
    assert got == expected
    assert all(b.is_valid and b.compression == codec for b in iter_batches(blob))


@given(INT64)
def test_varint_round_trip(n: int) -> None:
    enc = encode_varint(n)
    assert decode_varint(enc + b"tail", 0) == (n, len(enc))
    assert len(enc) == max(1, ((((n << 1) ^ (n >> 63)) & (2**64 - 1)).bit_length() + 6) // 7)


@pytest.mark.parametrize(("n", "raw"), [
    (0, b"\x00"), (-1, b"\x01"), (1, b"\x02"), (-2, b"\x03"), (300, b"\xd8\x04"),
    (-(2**31), b"\xff\xff\xff\xff\x0f"), (2**63 - 1, b"\xfe" + b"\xff" * 8 + b"\x01"),
])
def test_varint_known_bytes(n: int, raw: bytes) -> None:
    assert encode_varint(n) == raw and decode_varint(raw, 0) == (n, len(raw))


@pytest.mark.parametrize(("raw", "limit"), [(b"\x80\x80", 10), (b"\xff" * 6, 5), (b"\xff" * 11, 10), (b"", 5)])
def test_varint_rejects(raw: bytes, limit: int) -> None:
    with pytest.raises(CorruptRecordError, match="varint"):
        decode_varint(raw, 0, limit)


def _reseal(blob: bytearray) -> None:
    """Recompute the CRC of every entry whose size still fits, so mutations reach the parsers."""
    pos = 0
    while len(blob) - pos >= 17:
        size = struct.unpack_from(">i", blob, pos + 8)[0] + 12
        if size < 26 or pos + size > len(blob):
            return
        if blob[pos + 16] == 2 and size >= 61:
            struct.pack_into(">I", blob, pos + 17, crc32c(bytes(blob[pos + 21 : pos + size])))
        elif blob[pos + 16] in (0, 1):
            struct.pack_into(">I", blob, pos + 12, zlib.crc32(bytes(blob[pos + 16 : pos + size])))
        pos += size


def _corpus() -> list[bytes]:
    recs = [RecordInput(b"key%d" % i if i % 3 else None, b"value-%d" % i * (i % 4), 1000 + i, [("h", b"x")] * (i % 2))
            for i in range(6)]
    out = [build_batch(recs, base_offset=10, compression=c) for c in Compression]
    out += [legacy.build_message_set(recs, magic=m, compression=c) for m in (0, 1)
            for c in (Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4)]
    out.append(build_control_batch("COMMIT", producer_id=1, producer_epoch=0, coordinator_epoch=0))
    out.append(out[0] + out[6] + out[-1])
    return out


def _consume(blob: bytes) -> None:
    for verify in (True, False):
        try:
            for b in iter_batches(blob, max_size=1 << 20):
                _ = (b.is_valid, b.last_offset, b.max_timestamp, b.timestamp_type, b.compression)
                for _r in b.records(verify_crc=verify):
                    pass
        except CorruptRecordError:
            pass


def _mutate(rng: random.Random, seed: bytes) -> bytearray:
    blob = bytearray(seed)
    kind = rng.randrange(5)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 4)):
            blob[rng.randrange(len(blob))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        del blob[rng.randrange(len(blob)) :]
    elif kind == 2:  # random bytes at a random place
        p = rng.randrange(len(blob))
        blob[p : p + 4] = rng.randbytes(rng.randint(1, 4))
    elif kind == 3:  # extreme values over the fields that matter (sizes, counts, lengths)
        p = rng.choice([8, 57, 61, 62, 63, 64, 26, 30, rng.randrange(len(blob))])
        blob[p : p + 1] = bytes([rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF])])
    else:  # insert junk
        p = rng.randrange(len(blob))
        blob[p:p] = rng.randbytes(rng.randint(1, 8))
    return blob


def test_fuzz_only_corrupt_record_error() -> None:
    rng = random.Random(20240611)
    corpus = _corpus()
    for seed in corpus:
        _consume(seed)  # the seeds themselves are fine
        for b in iter_batches(seed):
            assert b.is_valid
    for i in range(20_000):
        blob = _mutate(rng, rng.choice(corpus))
        if i % 2:
            _reseal(blob)
        try:
            _consume(bytes(blob))
        except Exception as exc:  # pragma: no cover - the assertion message carries the input
            raise AssertionError(f"case {i}: {type(exc).__name__}: {exc} on {bytes(blob).hex()}") from exc
