"""Legacy message sets (magic 0/1): validate_entry checks, round trips per codec, kafka-python cross-checks."""

from __future__ import annotations

import struct
import zlib

import pytest

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import legacy
from kafkatools.wire.compression import Compression
from kafkatools.wire.records import RecordInput

LEGACY_CODECS = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4]


def _message_v0(offset: int, key: bytes | None, value: bytes | None) -> bytes:
    """A magic 0 entry assembled by hand from the documented layout (independent of legacy.py)."""
    msg = b"\x00\x00" + (struct.pack(">i", -1) if key is None else struct.pack(">i", len(key)) + key)
    msg += struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value
    return struct.pack(">qiI", offset, len(msg) + 4, zlib.crc32(msg)) + msg


def test_validate_entry_reads_hand_built_v0_message() -> None:
    entry = _message_v0(7, b"key", b"hello")
    head = legacy.validate_entry(entry)
    assert head == legacy.LegacyEntryHeader(7, len(entry), zlib.crc32(entry[16:]), 0, 0, -1, 3, 5)
    assert head.size == 12 + 14 + 3 + 5
    assert head.compression == 0 and not head.log_append_time
    records = list(legacy.iter_entry_records(entry))
    assert [(r.offset, r.timestamp, r.key, r.value, r.crc) for r in records] == [(7, -1, b"key", b"hello", head.crc)]


def test_validate_entry_respects_pos_and_end() -> None:
    blob = _message_v0(0, None, b"a") + _message_v0(1, b"k", None)
    first = legacy.validate_entry(blob)
    second = legacy.validate_entry(blob, first.size)
    assert (second.offset, second.key_size, second.value_size) == (1, 1, -1)
    with pytest.raises(CorruptRecordError, match="remain"):
        legacy.validate_entry(blob, first.size, len(blob) - 1)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b[:-1], "remain"),
        (lambda b: b[:20], "remain"),
        (lambda b: b[:16] + b"\x05" + b[17:], "magic 5"),
        (lambda b: b[:8] + struct.pack(">i", 13) + b[12:], "size 13 < 14"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "corrupt"),
        (lambda b: b[:12] + bytes([b[12] ^ 0x80]) + b[13:], "crc"),
    ],
)
def test_validate_entry_rejects(mutate, match) -> None:  # type: ignore[no-untyped-def]
    entry = _message_v0(3, b"key", b"value")
    with pytest.raises(CorruptRecordError, match=match):
        legacy.validate_entry(mutate(entry))


def test_v1_minimum_size_and_bad_key_length() -> None:
    entry = legacy.encode_entry(0, 1, 0, 5, b"k", b"v")
    assert legacy.validate_entry(entry).timestamp == 5
    short = bytearray(entry[:12 + 14])
    struct.pack_into(">i", short, 8, 14)
    with pytest.raises(CorruptRecordError, match="< 22"):
        legacy.validate_entry(bytes(short))
    bad = bytearray(entry)
    struct.pack_into(">i", bad, 12 + 14, 1000)  # key length past the message
    struct.pack_into(">I", bad, 12, zlib.crc32(bytes(bad[16:])))
    with pytest.raises(CorruptRecordError, match="key length"):
        legacy.validate_entry(bytes(bad))


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", LEGACY_CODECS)
def test_round_trip(magic: int, codec: Compression) -> None:
    items = [(b"k%d" % i, b"v" * i) for i in range(20)] + [(None, None), (b"", b"")]
    stamps = [1000 + i for i in range(len(items))]
    blob = legacy.build_message_set(items, magic=magic, base_offset=100, compression=codec, timestamps=stamps)
    got = []
    pos = 0
    while pos < len(blob):
        head = legacy.validate_entry(blob, pos)
        got += list(legacy.iter_entry_records(blob, pos))
        pos += head.size
    assert [(r.key, r.value) for r in got] == items
    assert [r.offset for r in got] == list(range(100, 100 + len(items)))
    assert [r.timestamp for r in got] == (stamps if magic else [-1] * len(items))


def test_v1_wrapper_relative_offsets_and_log_append_time() -> None:
    recs = [RecordInput(b"a", b"1", 50), RecordInput(b"b", b"2", 70), RecordInput(b"c", b"3", 60)]
    blob = legacy.build_message_set(recs, magic=1, base_offset=10, compression=Compression.GZIP, log_append_time=True)
    head = legacy.validate_entry(blob)
    assert head.offset == 12 and head.size == len(blob)
    assert head.log_append_time and head.timestamp == 70
    assert [(r.offset, r.timestamp) for r in legacy.iter_entry_records(blob)] == [(10, 70), (11, 70), (12, 70)]
    inner = zlib.decompress(blob[head.key_position + 4 :], 47)
    assert [legacy.validate_entry(inner, p).offset for p in (0, 36, 72)] == [0, 1, 2]  # relative inner offsets


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", [Compression.NONE, Compression.GZIP])
def test_kafka_python_builds_we_read(magic: int, codec: Compression) -> None:
    from kafka.record.legacy_records import LegacyRecordBatchBuilder

    builder = LegacyRecordBatchBuilder(magic, int(codec), 1 << 20)
    for i in range(5):
        builder.append(i, 1_600_000_000_000 + i, b"key%d" % i if i else None, b"value%d" % i)
    blob = bytes(builder.build())
    got = []
    pos = 0
    while pos < len(blob):
        got += list(legacy.iter_entry_records(blob, pos))
        pos += legacy.validate_entry(blob, pos).size
    # a producer's compressed wrapper carries offset 0 (the broker assigns the real one): only
    # the spacing of the inner offsets is meaningful then
    first = got[0].offset
    assert [(r.offset - first, r.key, r.value) for r in got] == [(i, b"key%d" % i if i else None, b"value%d" % i)
                                                                for i in range(5)]
    if codec == Compression.NONE or magic == 0:
        assert first == 0
    assert [r.timestamp for r in got] == ([1_600_000_000_000 + i for i in range(5)] if magic else [-1] * 5)


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", [Compression.NONE, Compression.GZIP])
def test_we_build_kafka_python_reads(magic: int, codec: Compression) -> None:
    from kafka.record.memory_records import MemoryRecords

    items = [(b"k%d" % i, b"v%d" % i) for i in range(4)] + [(None, b"tomb")]
    blob = legacy.build_message_set(items, magic=magic, base_offset=20, compression=codec,
                                    timestamps=[5, 6, 7, 8, 9])
    records = MemoryRecords(blob)
    got = []
    while (batch := records.next_batch()) is not None:
        assert batch.validate_crc()
        got += [(r.offset, r.key, r.value, r.timestamp) for r in batch]
    ts = [5, 6, 7, 8, 9] if magic else [None] * 5
    assert got == [(20 + i, k, v, t) for i, ((k, v), t) in enumerate(zip(items, ts, strict=True))]


@pytest.mark.parametrize(("magic", "broken"), [(0, True), (1, False)])
def test_lz4_wrapper_header_checksum_per_magic(magic: int, broken: bool) -> None:
    from kafkatools.wire.compression import xxh32

    blob = legacy.build_message_set([(b"k", b"v" * 100)] * 3, magic=magic, compression=Compression.LZ4)
    head = legacy.validate_entry(blob)
    frame = blob[head.key_position + 4 :]
    assert frame[:4] == b"\x04\x22\x4d\x18"
    assert frame[6] == (xxh32(frame[0:6] if broken else frame[4:6]) >> 8) & 0xFF  # KAFKA-3160 for magic 0
    assert [r.value for r in legacy.iter_entry_records(blob)] == [b"v" * 100] * 3
