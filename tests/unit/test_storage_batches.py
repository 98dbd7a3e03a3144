"""Tiny batch builders for the storage tests (v2 RecordBatch and legacy v0/v1 messages), checked
against the bytes Kafka wrote in the fixtures so the other storage tests can trust them."""

from __future__ import annotations

import struct
import zlib

from crc32c import crc32c

from kafkatools.wire import batch as wb
from tests.conftest import SHARED

FIXTURES = SHARED / "kafka-fixtures"


def _varint(value: int) -> bytes:
    raw = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        if raw < 0x80:
            out.append(raw)
            return bytes(out)
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7


def _bytes_field(value: bytes | None) -> bytes:
    return _varint(-1) if value is None else _varint(len(value)) + value


def build_batch(records: list[tuple[bytes | None, bytes | None, int]], *, base_offset: int = 0,
                leader_epoch: int = -1, attributes: int = 0, producer_id: int = -1, producer_epoch: int = -1,
                base_sequence: int = -1) -> bytes:
    """An uncompressed v2 batch of ``(key, value, timestamp)`` records."""
    base_ts = records[0][2]
    body = bytearray()
    for delta, (key, value, ts) in enumerate(records):
        rec = b"\x00" + _varint(ts - base_ts) + _varint(delta) + _bytes_field(key) + _bytes_field(value) + _varint(0)
        body += _varint(len(rec)) + rec
    max_ts = max(ts for _, _, ts in records)
    after_crc = struct.pack(">hiqqqhii", attributes, len(records) - 1, base_ts, max_ts, producer_id,
                            producer_epoch, base_sequence, len(records)) + bytes(body)
    crc = crc32c(after_crc)
    head = struct.pack(">qiibI", base_offset, 4 + 1 + 4 + len(after_crc), leader_epoch, 2, crc)
    return head + after_crc


def build_legacy(offset: int, key: bytes | None, value: bytes | None, *, magic: int = 0, timestamp: int = -1) -> bytes:
    """One uncompressed magic 0/1 log entry (CRC-32 over magic..end)."""
    def field(b: bytes | None) -> bytes:
        return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b

    after_crc = bytes([magic, 0]) + (struct.pack(">q", timestamp) if magic == 1 else b"") + field(key) + field(value)
    message = struct.pack(">I", zlib.crc32(after_crc)) + after_crc
    return struct.pack(">qi", offset, len(message)) + message


def test_builder_matches_kafkas_bytes_for_the_fixture_batch() -> None:
    path = FIXTURES / "023aafc3112/core/data/kafka-13980083082189751010/test-topic-0/00000000000000000000.log"
    kafka = path.read_bytes()
    ours = build_batch([(b"k1", b"v1", 10), (b"k2", b"v2", 11)], leader_epoch=1)
    assert ours == kafka
    assert wb.validate_batch(ours).size == 83


def test_builder_matches_null_key_single_record_fixture() -> None:
    path = FIXTURES / "023aafc3112/core/data/kafka-13294002803961715372/test-topic-0/00000000000000000000.log"
    assert build_batch([(None, b"message", -1)], leader_epoch=1) == path.read_bytes()


def test_legacy_builder_has_a_valid_crc() -> None:
    entry = build_legacy(5, b"k", b"value")
    assert wb.offset_and_size(entry) == (5, len(entry))
    assert zlib.crc32(entry[16:]) == struct.unpack_from(">I", entry, 12)[0]
