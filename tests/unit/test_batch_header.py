"""The v2 batch header primitives against a real batch written by a Kafka broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch


@pytest.fixture()
def real_batch(kafka_fixtures: Path) -> bytes:
    path = (
        kafka_fixtures
        / "023aafc3112/core/data/kafka-13980083082189751010/test-topic-0/00000000000000000000.log"
    )
    data = path.read_bytes()
    assert len(data) == 83
    return data


def test_header_of_real_batch(real_batch: bytes) -> None:
    h = batch.validate_batch(real_batch)
    assert (h.base_offset, h.last_offset, h.record_count, h.size) == (0, 1, 2, 83)
    assert h.crc == 2895120616
    assert h.partition_leader_epoch == 1
    assert h.max_timestamp == 11 and h.compression == 0
    assert not h.is_transactional and not h.is_control
    assert h.last_sequence == -1


def test_patching_outside_crc_keeps_batch_valid(real_batch: bytes) -> None:
    buf = bytearray(real_batch)
    batch.patch_base_offset(buf, 0, 1_000_000)
    batch.patch_partition_leader_epoch(buf, 0, 7)
    h = batch.validate_batch(buf)
    assert h.base_offset == 1_000_000 and h.last_offset == 1_000_001 and h.partition_leader_epoch == 7


def test_log_append_time_patch_recomputes_crc(real_batch: bytes) -> None:
    buf = bytearray(real_batch)
    batch.patch_log_append_time(buf, 0, len(buf), 123456789)
    h = batch.validate_batch(buf)
    assert h.log_append_time and h.max_timestamp == 123456789


@pytest.mark.parametrize("index", [21, 30, 61, 82])
def test_flipped_byte_inside_crc_is_rejected(real_batch: bytes, index: int) -> None:
    buf = bytearray(real_batch)
    buf[index] ^= 0x5A
    with pytest.raises(CorruptRecordError, match="corrupt"):
        batch.validate_batch(buf)


def test_truncation_and_bad_magic(real_batch: bytes) -> None:
    for cut in (0, 10, 60, 61, 82):
        with pytest.raises(CorruptRecordError):
            batch.validate_batch(real_batch[:cut])
    buf = bytearray(real_batch)
    buf[16] = 1
    with pytest.raises(CorruptRecordError, match="magic"):
        batch.validate_batch(buf)


def test_iter_entries_splits_and_rejects_partial(real_batch: bytes) -> None:
    two = real_batch + real_batch
    assert batch.iter_entries(two) == [(0, 83), (83, 83)]
    with pytest.raises(CorruptRecordError):
        batch.iter_entries(two[:-1])
