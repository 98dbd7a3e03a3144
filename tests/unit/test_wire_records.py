"""RecordBatch v2 build/iterate: Kafka-written fixtures, kafka-python cross-checks, control batches,
mixed-magic iteration and the malformed inputs iteration must reject with CorruptRecordError."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from crc32c import crc32c

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire import control, legacy
from kafkatools.wire.log_entries import Batch, iter_batches
from kafkatools.wire.records import (
    Compression,
    ControlType,
    Record,
    RecordInput,
    build_batch,
    build_control_batch,
    iter_records,
)
from kafkatools.wire.varint import encode_varint
from tests.conftest import SHARED

FIXTURES = SHARED / "kafka-fixtures"
K1K2 = FIXTURES / "023aafc3112/core/data/kafka-13980083082189751010/test-topic-0/00000000000000000000.log"
NULL_KEY = FIXTURES / "023aafc3112/core/data/kafka-13294002803961715372/test-topic-0/00000000000000000000.log"
METADATA = FIXTURES / "023aafc3112/core/data/kafka-1168504093769635972/__cluster_metadata-0/00000000000000000000.log"


def _fixture(path: Path) -> bytes:
    if not path.exists():
        pytest.fail(f"Kafka fixture {path} is missing (see ../shared/kafka-fixtures/PROVENANCE.md)")
    return path.read_bytes()


def test_kafka_written_two_record_batch() -> None:
    blob = _fixture(K1K2)
    [b] = list(iter_batches(blob))
    assert (b.position, b.size, b.magic, b.is_valid, b.crc) == (0, 83, 2, True, 2895120616)
    assert (b.base_offset, b.last_offset, b.max_timestamp, b.timestamp_type) == (0, 1, 11, "CreateTime")
    assert isinstance(b.header, wb.BatchHeader) and b.header.partition_leader_epoch == 1
    assert list(b.records()) == [Record(0, 10, b"k1", b"v1", []), Record(1, 11, b"k2", b"v2", [])]


def test_we_build_the_kafka_batch_byte_for_byte() -> None:
    blob = _fixture(K1K2)
    ours = build_batch([(b"k1", b"v1"), (b"k2", b"v2")], timestamps=[10, 11], partition_leader_epoch=1)
    assert ours == blob


def test_kafka_written_null_key_no_timestamp() -> None:
    blob = _fixture(NULL_KEY)
    assert [(r.offset, r.timestamp, r.key, r.value) for r in iter_records(blob)] == [(0, -1, None, b"message")]
    assert build_batch([(None, b"message")], timestamps=[-1], partition_leader_epoch=wb.read_header(blob)
                       .partition_leader_epoch) == blob


def test_kafka_written_kraft_metadata_log() -> None:
    blob = _fixture(METADATA)
    batches = list(iter_batches(blob))
    assert len(batches) == 45 and all(b.is_valid for b in batches)
    assert batches[-1].position + batches[-1].size == len(blob)
    first = batches[0]
    assert first.is_control and not first.is_transactional
    [rec] = list(first.records())
    assert control.control_type(rec.key) == ControlType.LEADER_CHANGE
    offsets = [r.offset for b in batches for r in b.records()]
    assert offsets == list(range(len(offsets))) and len(offsets) == 94
    assert next(r.value for r in batches[1].records()) == b"\x01\x17\x00\x01\x00\x12\x12Bootstrap records"


def test_headers_nulls_and_fields() -> None:
    recs = [
        RecordInput(None, None, 5, [("h1", b"x"), ("h2", None), ("ünï", b"")]),
        RecordInput(b"", b"", 3),
        RecordInput(b"k" * 300, b"v" * 20000, 1 << 40),
    ]
    blob = build_batch(recs, base_offset=1000, producer_id=7, producer_epoch=2, base_sequence=0x7FFFFFFF,
                       is_transactional=True)
    h = wb.validate_batch(blob)
    assert (h.base_offset, h.last_offset_delta, h.record_count, h.base_timestamp, h.max_timestamp) == (
        1000, 2, 3, 5, 1 << 40)
    assert h.is_transactional and not h.is_control and h.producer_id == 7 and h.producer_epoch == 2
    got = list(iter_records(blob))
    assert [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in got] == [
        (1000 + i, r.timestamp, r.key, r.value, list(r.headers)) for i, r in enumerate(recs)
    ]
    assert [r.sequence for r in got] == [0x7FFFFFFF, 0, 1]  # wraps past Int32.MAX as Kafka does
    assert (got[0].key_size, got[0].value_size, got[2].key_size) == (-1, -1, 300)


def test_log_append_time_overrides_record_timestamps() -> None:
    blob = build_batch([(b"a", b"1"), (b"b", b"2")], timestamps=[100, 50], log_append_time=True)
    [b] = list(iter_batches(blob))
    assert b.timestamp_type == "LogAppendTime" and b.max_timestamp == 100
    assert [r.timestamp for r in b.records()] == [100, 100]


def test_build_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_batch([])
    with pytest.raises(ValueError, match="timestamps"):
        build_batch([(b"k", b"v")], timestamps=[1, 2])


@pytest.mark.parametrize("kind", ["COMMIT", "ABORT", ControlType.COMMIT])
def test_control_batch(kind: ControlType | str) -> None:
    blob = build_control_batch(kind, producer_id=4000, producer_epoch=3, coordinator_epoch=9, base_offset=15,
                               timestamp=1_700_000_001_000)
    h = wb.validate_batch(blob)
    assert h.is_control and h.is_transactional and h.record_count == 1 and h.producer_id == 4000
    [rec] = list(iter_records(blob))
    assert (rec.offset, rec.key_size, rec.value_size) == (15, 4, 6)
    marker = control.parse_end_txn_marker(rec.key, rec.value)
    expected = ControlType[kind] if isinstance(kind, str) else kind
    assert (marker.kind, marker.coordinator_epoch, marker.version) == (expected, 9, 0)
    with pytest.raises(ValueError, match="LEADER_CHANGE"):
        build_control_batch("LEADER_CHANGE", producer_id=1, producer_epoch=0, coordinator_epoch=0)


@pytest.mark.parametrize("codec", [Compression.NONE, Compression.GZIP])
def test_kafka_python_builds_we_read(codec: Compression) -> None:
    from kafka.record.default_records import DefaultRecordBatchBuilder

    builder = DefaultRecordBatchBuilder(2, int(codec), False, 77, 1, 10, 1 << 20)
    for i in range(6):
        builder.append(i, 1_700_000_000_000 + i, None if i == 2 else b"k%d" % i, b"v%d" % i * 50,
                       [("hk", b"hv"), ("n", None)] if i % 2 else [])
    blob = bytes(builder.build())
    h = wb.validate_batch(blob)
    assert h.compression == codec and h.producer_id == 77 and h.base_sequence == 10
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers, r.sequence) for r in iter_records(blob)]
    assert got == [(i, 1_700_000_000_000 + i, None if i == 2 else b"k%d" % i, b"v%d" % i * 50,
                    [("hk", b"hv"), ("n", None)] if i % 2 else [], 10 + i) for i in range(6)]


@pytest.mark.parametrize("codec", [Compression.NONE, Compression.GZIP])
def test_we_build_kafka_python_reads(codec: Compression) -> None:
    from kafka.record.default_records import DefaultRecordBatch

    recs = [RecordInput(b"k%d" % i if i else None, b"x" * i, 1000 + i, [("h", b"%d" % i)]) for i in range(8)]
    blob = build_batch(recs, base_offset=40, compression=codec, producer_id=5, producer_epoch=1, base_sequence=3)
    theirs = DefaultRecordBatch(blob)
    assert theirs.validate_crc() and theirs.compression_type == codec and theirs.last_offset == 47
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in theirs]
    assert got == [(40 + i, r.timestamp, r.key, r.value, list(r.headers)) for i, r in enumerate(recs)]


def test_iter_batches_mixed_magic_and_trailing_bytes() -> None:
    v0 = legacy.build_message_set([(b"a", b"0")], magic=0, base_offset=0)
    v1 = legacy.build_message_set([(b"b", b"1"), (b"c", b"2")], magic=1, base_offset=1,
                                  compression=Compression.SNAPPY, timestamps=[7, 8])
    v2 = build_batch([(b"d", b"3")], base_offset=3, timestamps=[9], compression=Compression.LZ4)
    blob = v0 + v1 + v2
    batches = list(iter_batches(blob))
    assert [(b.magic, b.position, b.size, b.is_valid) for b in batches] == [
        (0, 0, len(v0), True), (1, len(v0), len(v1), True), (2, len(v0) + len(v1), len(v2), True)]
    assert [b.timestamp_type for b in batches] == ["NoTimestampType", "CreateTime", "CreateTime"]
    assert [(b.base_offset, b.last_offset) for b in batches] == [(0, 0), (1, 2), (3, 3)]
    assert [(r.offset, r.key, r.timestamp) for b in batches for r in b.records()] == [
        (0, b"a", -1), (1, b"b", 7), (2, b"c", 8), (3, b"d", 9)]
    torn = blob + v2[:30]
    with pytest.raises(CorruptRecordError, match=r"remain|trailing"):
        list(iter_batches(torn))
    assert len(list(iter_batches(torn, strict=False))) == 3
    assert len(list(iter_batches(blob + b"\x00" * 5, strict=False))) == 3


def test_invalid_crc_is_reported_and_records_still_readable_without_check() -> None:
    blob = bytearray(build_batch([(b"k", b"value")], timestamps=[1]))
    blob[-2] ^= 0xFF  # the value's last byte (the very last byte is the header count)
    [b] = list(iter_batches(bytes(blob)))
    assert not b.is_valid
    with pytest.raises(CorruptRecordError, match="crc"):
        list(b.records())
    assert [r.value for r in b.records(verify_crc=False)] == [b"value"[:-1] + bytes([ord("e") ^ 0xFF])]


def _reseal(payload: bytes, count: int, codec: Compression = Compression.NONE) -> bytes:
    """A v2 batch around ``payload`` (already compressed if ``codec``), with a correct CRC."""
    rest = struct.pack(">hiqqqhii", int(codec), max(count - 1, 0), 0, 0, -1, -1, -1, count)
    crc = crc32c(payload, crc32c(rest))
    return struct.pack(">qiibI", 0, 49 + len(payload), -1, 2, crc) + rest + payload


def _record(body: bytes) -> bytes:
    return encode_varint(len(body)) + body


GOOD = b"\x00\x00\x00" + encode_varint(1) + b"k" + encode_varint(1) + b"v" + b"\x00"


@pytest.mark.parametrize(
    ("payload", "count", "match"),
    [
        (_record(GOOD), 2, "truncated"),  # fewer records than declared
        (_record(GOOD) * 2, 1, "remain"),  # more data than declared records
        (encode_varint(200) + GOOD, 1, "runs past"),  # record length past the batch
        (_record(b"\x00\x00\x00" + encode_varint(-2) + encode_varint(1) + b"v\x00"), 1, "key length"),
        (_record(b"\x00\x00\x00" + encode_varint(-1) + encode_varint(-5) + b"\x00\x00"), 1, "value length"),
        (_record(GOOD[:-1] + encode_varint(-1)), 1, "header count"),
        (_record(GOOD[:-1] + b"\x02" + encode_varint(-1)), 1, "header"),
        (_record(GOOD + b"\x00"), 1, "declares"),  # record length longer than its fields
        (_record(b"\x00" + b"\xff" * 11), 1, "varint|runs past"),
        (encode_varint(3) + b"\x00\x00\x00", 1, "runs past|length 3"),
    ],
)
def test_malformed_records_raise_corrupt(payload: bytes, count: int, match: str) -> None:
    blob = _reseal(payload, count)
    with pytest.raises(CorruptRecordError, match=match):
        list(iter_records(blob))


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_undecompressable_payload_raises_corrupt(codec: Compression) -> None:
    blob = _reseal(b"\x82SNAPPY\x00garbage-garbage-garbage" if codec == Compression.SNAPPY else b"not compressed",
                   1, codec)
    with pytest.raises(CorruptRecordError):
        list(iter_records(blob))


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_decompression_bomb_is_capped(codec: Compression) -> None:
    blob = build_batch([(None, b"\x00" * (4 << 20))], compression=codec)
    assert len(blob) < 300_000
    with pytest.raises(CorruptRecordError, match="limit"):
        list(iter_records(blob, max_size=1 << 20))
    assert len(list(iter_records(blob, max_size=8 << 20))) == 1


def test_batch_object_is_a_view() -> None:
    blob = build_batch([(b"k", b"v")], base_offset=5, timestamps=[1])
    b = Batch(blob, 0, len(blob), 2, wb.read_header(blob))
    assert b.raw() == blob and b.compression == Compression.NONE and not b.is_control


def test_empty_2015_segment_has_no_batches() -> None:
    # 904af08e243 (0.8-era broker dir) only holds an empty .log beside its preallocated index
    blob = _fixture(FIXTURES / "904af08e243/core/data/kafka-573957/test-topic-1/00000000000000000000.log")
    assert blob == b"" and list(iter_batches(blob)) == []
