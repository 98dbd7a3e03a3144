"""Behaviour of the partition log: index rule, rolls, reads, timestamps, retention, truncation, flush."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from kafkatools import errors
from kafkatools.storage.config import LogConfig, from_broker_properties
from kafkatools.storage.errors import InvalidOffsetError
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition
from tests.unit.test_storage_batches import build_batch

TP = TopicPartition("t", 0)


class NoSyncFS(FileSystem):
    """fsync is irrelevant to these checks and slow on some disks."""

    def __init__(self) -> None:
        self.fsyncs = 0

    def fsync(self, f: object) -> None:  # type: ignore[override]
        self.fsyncs += 1

    def fsync_dir(self, path: str) -> None:
        pass


class Clock:
    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def batch(n: int = 1, size: int = 10, ts: int = 1000) -> bytes:
    return build_batch([(None, bytes(size), ts + i) for i in range(n)])


def open_log(path: Path, config: LogConfig, clock: Clock | None = None, **kw: object) -> PartitionLog:
    return PartitionLog(str(path), TP, config, fs=NoSyncFS(), clock=clock or Clock(), **kw)  # type: ignore[arg-type]


def check_indexes(log: PartitionLog) -> None:
    """Every offset/time index entry points inside the log at an entry holding an offset <= its own."""
    for seg in log.segments:
        by_position = {i.position: i for i in seg.scan()}
        for off, pos in zip(seg.offset_index.keys, seg.offset_index.values, strict=True):
            assert pos < seg.size, (seg.base_offset, off, pos, seg.size)
            assert pos in by_position and by_position[pos].base_offset <= off < seg.next_offset
        for ts, off in zip(seg.time_index.keys, seg.time_index.values, strict=True):
            assert seg.base_offset <= off < seg.next_offset
            assert ts <= seg.max_timestamp


def test_index_entry_rule_is_kafkas(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(index_interval_bytes=100))
    b = batch(size=20)  # 88 bytes each
    assert len(b) == 88
    positions = []
    for _ in range(6):
        positions.append(log.active_segment.size)
        log.append(b)
    seg = log.active_segment
    # entry when bytes since the last entry EXCEED 100, checked before the append: appends 0..5 at
    # 0,88,176,...; since-last = 88 (no), 176 (yes, at append 2), 88 (no), 176 (yes, append 4)
    assert list(zip(seg.offset_index.keys, seg.offset_index.values, strict=True)) == [
        (2, positions[2]), (4, positions[4])]
    # same timestamp everywhere: one time entry, for the first batch that reached it
    assert list(zip(seg.time_index.keys, seg.time_index.values, strict=True)) == [(1000, 0)]
    check_indexes(log)


def test_multi_batch_append_maps_last_offset_to_start_position(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(index_interval_bytes=10))
    log.append(batch(2))
    first = log.append(batch(3) + batch(2))
    assert first == 2 and log.log_end_offset == 7
    seg = log.active_segment
    assert list(zip(seg.offset_index.keys, seg.offset_index.values, strict=True)) == [(6, len(batch(2)))]
    check_indexes(log)


def test_append_patches_offsets_and_epoch_and_reads_back(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig())
    assert log.append(batch(3), leader_epoch=5) == 0
    assert log.append(bytearray(batch(1)), leader_epoch=7) == 3
    sl = log.read(3, 10_000)
    assert sl is not None
    data = sl.read_bytes()
    assert struct.unpack_from(">qiib", data) [0] == 3 and struct.unpack_from(">i", data, 12)[0] == 7
    assert log.end_offset_for_epoch(5) == (5, 3)
    assert log.end_offset_for_epoch(7) == (7, 4)
    assert log.end_offset_for_epoch(6) == (5, 3)
    assert log.end_offset_for_epoch(8) == (-1, -1)
    assert (tmp_path / "t-0/leader-epoch-checkpoint").read_bytes() == b"0\n2\n5 0\n7 3\n"


def test_read_bounds(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig())
    sizes = [len(batch(1, 100)), len(batch(1, 300)), len(batch(1, 50))]
    for s in (100, 300, 50):
        log.append(batch(1, s))
    first = log.read(0, 10)
    assert first is not None and (first.position, len(first)) == (0, sizes[0])  # first batch always whole
    assert log.read(0, 10, min_one_batch=False) is not None
    assert len(log.read(0, 10, min_one_batch=False)) == 10  # type: ignore[arg-type]  # Kafka: partial bytes
    sl = log.read(1, 1_000_000, max_offset=2)
    assert sl is not None and (sl.position, len(sl)) == (sizes[0], sizes[1])
    assert log.read(2, 100, max_offset=2) is None
    assert log.read(3, 100) is None
    with pytest.raises(errors.KafkaError) as e:
        log.read(4, 100)
    assert e.value.error == errors.OFFSET_OUT_OF_RANGE


def test_roll_on_segment_bytes_and_reads_across_segments(tmp_path: Path) -> None:
    b = batch(2, 40)
    log = open_log(tmp_path / "t-0", LogConfig(segment_bytes=3 * len(b)))
    for _ in range(10):
        log.append(b)
    assert [s.base_offset for s in log.segments] == [0, 6, 12, 18]
    names = sorted(p.name for p in (tmp_path / "t-0").iterdir() if p.suffix == ".log")
    assert names[1] == "00000000000000000006.log"
    assert (tmp_path / "t-0/00000000000000000000.index").stat().st_size == 0  # trimmed on roll
    assert (tmp_path / "t-0/00000000000000000018.index").stat().st_size == 10485760  # active: preallocated
    assert (tmp_path / "t-0/00000000000000000018.timeindex").stat().st_size == 10485756
    assert log.recovery_point == 18  # roll flushes the old segment
    for off in range(20):
        sl = log.read(off, 1)
        assert sl is not None and len(sl) == len(b)
        assert struct.unpack_from(">q", sl.read_bytes())[0] == off - off % 2


def test_roll_on_segment_ms_full_index_and_offset_overflow(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path / "a-0", LogConfig(segment_ms=100), clock)
    log.append(batch(ts=1000))
    log.append(batch(ts=1100))
    assert len(log.segments) == 1
    log.append(batch(ts=1101))  # 101 ms after the first record of the segment
    assert [s.base_offset for s in log.segments] == [0, 2]

    log = open_log(tmp_path / "b-0", LogConfig(segment_index_bytes=16, index_interval_bytes=1), clock)
    for _ in range(5):
        log.append(batch())
    # 16 bytes = 2 offset-index slots but 1 time-index slot: the time index fills first (Kafka rolls on either)
    assert [s.base_offset for s in log.segments] == [0, 2, 4]

    log = open_log(tmp_path / "c-0", LogConfig(), clock)
    log.append(batch())
    log.append_as_follower(build_batch([(None, b"x", 1)], base_offset=2**31 + 5))
    assert [s.base_offset for s in log.segments] == [0, 2**31 + 5]


def test_offset_for_timestamp_and_max_timestamp(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(index_interval_bytes=1, segment_bytes=400))
    for i in range(20):
        log.append(build_batch([(None, b"v", 100 + 10 * i), (None, b"w", 105 + 10 * i)]))
    assert len(log.segments) > 2
    assert log.offset_for_timestamp(0) == (0, 100)
    assert log.offset_for_timestamp(101) == (1, 105)
    assert log.offset_for_timestamp(106) == (2, 110)
    assert log.offset_for_timestamp(295) == (39, 295)
    assert log.offset_for_timestamp(296) is None
    assert log.max_timestamp_and_offset() == (295, 39)
    log.high_watermark = 40
    log.advance_log_start_offset(7)
    assert log.offset_for_timestamp(0) == (7, 135)


def test_follower_append_keeps_offsets_and_rejects_going_back(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig())
    last = log.append_as_follower(build_batch([(None, b"a", 1)] * 3, base_offset=0, leader_epoch=2)
                                  + build_batch([(None, b"b", 2)], base_offset=10, leader_epoch=3))
    assert last == 10 and log.log_end_offset == 11
    assert log.end_offset_for_epoch(2) == (2, 10)
    with pytest.raises(InvalidOffsetError):
        log.append_as_follower(build_batch([(None, b"c", 3)], base_offset=10))
    sl = log.read(5, 1)
    assert sl is not None and struct.unpack_from(">q", sl.read_bytes())[0] == 10


def test_retention_by_time_and_size_never_deletes_active(tmp_path: Path) -> None:
    b = batch(1, 50, ts=0)
    log = open_log(tmp_path / "t-0", LogConfig(segment_bytes=2 * len(b), retention_ms=1000))
    for i in range(8):
        log.append(build_batch([(None, bytes(50), i * 1000)]))
    assert len(log.segments) == 4
    assert log.apply_retention(now_ms=10_000) == 0  # nothing below the high watermark yet
    log.high_watermark = log.log_end_offset
    assert log.apply_retention(now_ms=7_500) == 3  # segments ending 1000/3000/5000 are > 1000 ms old
    assert [s.base_offset for s in log.segments] == [6] and log.log_start_offset == 6
    assert log.apply_retention(now_ms=100_000) == 0  # the active segment stays
    log2 = open_log(tmp_path / "u-0", LogConfig(segment_bytes=2 * len(b), retention_bytes=3 * len(b)))
    for _ in range(8):
        log2.append(b)
    log2.high_watermark = 8
    assert log2.apply_retention(now_ms=0) == 2
    assert log2.size_in_bytes == 4 * len(b) and log2.log_start_offset == 4


def test_delete_records_advances_start_and_drops_whole_segments(tmp_path: Path) -> None:
    b = batch(2)
    log = open_log(tmp_path / "t-0", LogConfig(segment_bytes=2 * len(b)))
    for _ in range(5):
        log.append(b)
    log.high_watermark = 10
    assert [s.base_offset for s in log.segments] == [0, 4, 8]
    assert log.advance_log_start_offset(5)
    assert log.log_start_offset == 5 and [s.base_offset for s in log.segments] == [4, 8]
    with pytest.raises(errors.KafkaError):
        log.read(4, 100)
    sl = log.read(5, 1)
    assert sl is not None and struct.unpack_from(">q", sl.read_bytes())[0] == 4
    assert not log.advance_log_start_offset(3)


def test_truncate_to_drops_later_segments_and_trims_indexes(tmp_path: Path) -> None:
    b = batch(1, 30)
    log = open_log(tmp_path / "t-0", LogConfig(segment_bytes=4 * len(b), index_interval_bytes=1))
    for e in range(12):
        log.append(b, leader_epoch=e // 4)
    log.high_watermark = 12
    assert log.truncate_to(6)
    assert log.log_end_offset == 6 and [s.base_offset for s in log.segments] == [0, 4]
    assert log.high_watermark == 6 and log.end_offset_for_epoch(1) == (1, 6)
    assert log.end_offset_for_epoch(2) == (-1, -1)
    check_indexes(log)
    assert log.append(b) == 6
    assert not log.truncate_to(100)
    assert log.truncate_to(4)
    assert log.log_end_offset == 4 and log.active_segment.size == 0
    check_indexes(log)


def test_flush_messages_policy_and_flush_ms(tmp_path: Path) -> None:
    clock = Clock()
    log = open_log(tmp_path / "t-0", LogConfig(flush_messages=3, flush_ms=500), clock)
    log.append(batch(2))
    assert log.recovery_point == 0
    log.append(batch(1))
    assert log.recovery_point == 3
    log.append(batch(1))
    assert not log.flush_if_due(clock.now + 100)
    assert log.flush_if_due(clock.now + 600) and log.recovery_point == 4


def test_clean_reopen_keeps_indexes_and_offsets(tmp_path: Path) -> None:
    b = batch(3, 60)
    config = LogConfig(segment_bytes=5 * len(b), index_interval_bytes=100)
    log = open_log(tmp_path / "t-0", config)
    for _ in range(12):
        log.append(b)
    before = [(list(s.offset_index.keys), list(s.time_index.keys)) for s in log.segments]
    log.close()
    log = open_log(tmp_path / "t-0", config, recovery_point=36, clean_shutdown=True)
    assert log.log_end_offset == 36
    assert [(list(s.offset_index.keys), list(s.time_index.keys)) for s in log.segments] == before
    assert not any(s.needs_recovery for s in log.segments)
    check_indexes(log)


def test_missing_index_is_rebuilt_even_after_clean_shutdown(tmp_path: Path) -> None:
    config = LogConfig(index_interval_bytes=50)
    log = open_log(tmp_path / "t-0", config)
    for _ in range(6):
        log.append(batch(1, 40))
    expected = list(log.active_segment.offset_index.keys)
    log.close()
    (tmp_path / "t-0/00000000000000000000.index").unlink()
    log = open_log(tmp_path / "t-0", config, clean_shutdown=True, recovery_point=6)
    assert list(log.active_segment.offset_index.keys) == expected


def test_config_from_broker_properties() -> None:
    c = from_broker_properties({"log.retention.hours": "1", "log.segment.bytes": "1000", "num.partitions": "3"})
    assert (c.retention_ms, c.segment_bytes, c.index_interval_bytes) == (3_600_000, 1000, 4096)
    assert c.with_overrides({"message.timestamp.type": "LogAppendTime"}).message_timestamp_type == "LogAppendTime"
