"""Log compaction of one partition log: what survives, offsets, tombstones, codecs, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkatools.storage.cleaner import clean_log, cleanable_range, should_clean
from kafkatools.storage.config import LogConfig
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition
from kafkatools.wire import batch as wb
from kafkatools.wire.log_entries import iter_batches
from kafkatools.wire.records import Compression, build_batch, build_control_batch, iter_records

TP = TopicPartition("t", 0)
NOW = 10_000_000
COMPACT = LogConfig(cleanup_policy="compact", segment_bytes=400, index_interval_bytes=100)


class NoSyncFS(FileSystem):
    def fsync(self, f: object) -> None:  # type: ignore[override]
        pass

    def fsync_dir(self, path: str) -> None:
        pass


def open_log(path: Path, config: LogConfig = COMPACT, **kw: object) -> PartitionLog:
    return PartitionLog(str(path), TP, config, fs=NoSyncFS(), clock=lambda: NOW, **kw)  # type: ignore[arg-type]


def put(log: PartitionLog, *records: tuple[bytes | None, bytes | None], ts: int = NOW - 1000,
        codec: Compression = Compression.NONE, producer_id: int = -1) -> int:
    first = log.append(build_batch(list(records), timestamps=[ts] * len(records), compression=codec,
                                   producer_id=producer_id, producer_epoch=0 if producer_id >= 0 else -1,
                                   base_sequence=0 if producer_id >= 0 else -1))
    log.high_watermark = log.log_end_offset
    return first


def raw_entries(log: PartitionLog) -> list[bytes]:
    return [seg.read_entry(info) for seg in log.segments for info in seg.scan()]


def records(log: PartitionLog) -> list[tuple[int, bytes | None, bytes | None]]:
    """Every record of the log as (offset, key, value), CRCs verified."""
    return [(r.offset, r.key, r.value) for e in raw_entries(log) for r in iter_records(e)]


def check_consistent(log: PartitionLog) -> None:
    offsets = [o for o, _, _ in records(log)]
    assert offsets == sorted(set(offsets)), "offsets must strictly increase"
    bases = [s.base_offset for s in log.segments]
    assert bases == sorted(set(bases))
    for seg in log.segments:
        for info in seg.scan():
            assert seg.base_offset <= info.base_offset and info.last_offset < seg.next_offset
        for off, pos in zip(seg.offset_index.keys, seg.offset_index.values, strict=True):
            hit = [i for i in seg.scan() if i.position == pos]
            assert hit and hit[0].base_offset <= off <= hit[0].last_offset
        assert list(seg.time_index.keys) == sorted(seg.time_index.keys)


def latest(recs: list[tuple[int, bytes | None, bytes | None]]) -> dict[bytes | None, bytes | None]:
    return {k: v for _, k, v in recs}


def test_overwritten_keys_keep_their_latest_record_at_its_offset(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    for i in range(30):
        put(log, (b"k%d" % (i % 3), b"v%d" % i))
    before = records(log)
    assert len(log.segments) > 3
    active_base = log.active_segment.base_offset
    checkpoint = clean_log(log, None, NOW)
    assert checkpoint == active_base
    after = records(log)
    cleaned = [r for r in after if r[0] < active_base]
    # only the last record of each key below the active segment survives, at its original offset
    expected = {}
    for off, k, v in before:
        if off < active_base:
            expected[k] = (off, k, v)
    active = [r for r in before if r[0] >= active_base]
    # the active segment is not mapped (Kafka's rule), so its keys still keep one older record
    assert cleaned == sorted(expected.values()) and len(cleaned) == 3
    assert [r for r in after if r[0] >= active_base] == active
    assert latest(after) == latest(before)
    check_consistent(log)
    assert log.log_end_offset == 30


def test_batch_keeps_base_and_last_offset_delta_and_producer_fields(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=1000))
    put(log, (b"a", b"1"), (b"b", b"1"), (b"c", b"1"), (b"x", b"1"), producer_id=5)  # offsets 0..3
    put(log, (b"c", b"2"), (b"x", b"2"))  # 4, 5: c and x overwritten
    put(log, (b"a", b"3"))  # 6
    log.roll()
    put(log, (b"z", b"active"))
    clean_log(log, None, NOW)
    first = wb.read_header(raw_entries(log)[0])
    assert (first.base_offset, first.last_offset_delta, first.record_count) == (0, 3, 1)
    assert (first.producer_id, first.producer_epoch, first.base_sequence) == (5, 0, 0)
    assert [(o, k) for o, k, _ in records(log)] == [(1, b"b"), (4, b"c"), (5, b"x"), (6, b"a"), (7, b"z")]
    check_consistent(log)


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_compressed_batches_are_filtered_and_recompressed_with_their_codec(tmp_path: Path, codec: Compression) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=2000))
    put(log, (b"a", b"1"), (b"b", b"1"), (b"a", b"2"), (b"c", b"1"), (b"a", b"3"), codec=codec)  # 0..4
    put(log, (b"b", b"2"), codec=codec)  # 5
    unchanged = raw_entries(log)[1]
    log.roll()
    put(log, (b"q", b"x"))
    clean_log(log, None, NOW)
    entries = raw_entries(log)
    header = wb.validate_batch(entries[0])  # CRC recomputed
    assert header.compression == codec and header.last_offset_delta == 4 and header.record_count == 2
    assert [(r.offset, r.key, r.value) for r in iter_records(entries[0])] == [(3, b"c", b"1"), (4, b"a", b"3")]
    assert entries[1] == unchanged  # a batch that loses nothing is copied byte for byte
    check_consistent(log)


def test_tombstones_get_a_delete_horizon_and_go_after_delete_retention(tmp_path: Path) -> None:
    cfg = LogConfig(cleanup_policy="compact", segment_bytes=200, delete_retention_ms=5000,
                    min_cleanable_dirty_ratio=0.01)
    log = open_log(tmp_path / "t-0", cfg)
    put(log, (b"gone", b"v"))
    put(log, (b"gone", None))
    put(log, (b"keep", b"v"))
    log.roll()
    put(log, (b"other", b"v"))
    checkpoint = clean_log(log, None, NOW)
    assert [(k, v) for _, k, v in records(log)] == [(b"gone", None), (b"keep", b"v"), (b"other", b"v")]
    tomb = next(e for e in raw_entries(log) if any(r.value is None for r in iter_records(e)))
    header = wb.read_header(tomb)
    assert header.has_delete_horizon and header.base_timestamp == NOW + 5000
    assert next(iter_records(tomb)).timestamp == NOW - 1000  # record timestamps survive the new base
    for now, expect_tombstone in ((NOW + 4999, True), (NOW + 5000, False)):
        put(log, (b"filler", b"%d" % now))
        log.roll()
        put(log, (b"tail", b"x"))
        checkpoint = clean_log(log, checkpoint, now)
        assert checkpoint is not None
        assert ((b"gone", None) in [(k, v) for _, k, v in records(log)]) is expect_tombstone
    check_consistent(log)


def test_idempotent_producers_last_batch_survives_empty(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=5000))
    put(log, (b"k", b"1"), (b"k", b"2"), producer_id=9)  # 0-1: emptied, not the producer's last batch
    put(log, (b"k", b"3"), (b"j", b"3"), producer_id=9)  # 2-3: the producer's last batch, emptied
    put(log, (b"k", b"4"), (b"j", b"4"))  # 4-5
    log.append(build_control_batch("COMMIT", producer_id=3, producer_epoch=0, coordinator_epoch=0))
    log.high_watermark = log.log_end_offset
    log.roll()
    put(log, (b"z", b"z"))
    control = raw_entries(log)[3]
    clean_log(log, None, NOW)
    headers = [wb.read_header(e) for e in raw_entries(log)]
    assert [(h.base_offset, h.last_offset_delta, h.record_count, h.producer_id) for h in headers] == [
        (2, 1, 0, 9), (4, 1, 2, -1), (6, 0, 1, 3), (7, 0, 1, -1)]
    assert raw_entries(log)[2] == control  # control batches are kept as they are
    assert [b.base_offset for b in iter_batches(b"".join(raw_entries(log)))] == [2, 4, 6, 7]


def test_active_segment_and_high_watermark_bound_the_clean(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    for i in range(24):
        put(log, (b"k", b"%d" % i))
    bases = [s.base_offset for s in log.segments]
    log.high_watermark = bases[2] + 1  # inside the third segment
    untouched = [raw_entries_of(s) for s in log.segments[2:]]
    assert cleanable_range(log, None, NOW).first_uncleanable == bases[2]
    assert clean_log(log, None, NOW) == bases[2]
    assert [raw_entries_of(s) for s in log.segments[-len(untouched):]] == untouched
    kept_below = [o for o, _, _ in records(log) if o < bases[2]]
    assert kept_below == [bases[2] - 1]  # the map covers [0, bases[2]): data at/after the HW is not used


def raw_entries_of(seg: object) -> list[bytes]:
    return [seg.read_entry(i) for i in seg.scan()]  # type: ignore[attr-defined]


def test_min_compaction_lag_keeps_recent_segments_dirty(tmp_path: Path) -> None:
    cfg = LogConfig(cleanup_policy="compact", segment_bytes=200, min_compaction_lag_ms=60_000)
    log = open_log(tmp_path / "t-0", cfg)
    for i in range(4):
        put(log, (b"k", b"old%d" % i), ts=NOW - 120_000)
    recent_base = log.log_end_offset
    log.roll()
    for i in range(4):
        put(log, (b"k", b"new%d" % i), ts=NOW - 1_000)
    rng = cleanable_range(log, None, NOW)
    assert rng.first_uncleanable == recent_base
    clean_log(log, None, NOW)
    offsets = [o for o, _, _ in records(log)]
    assert [o for o in offsets if o < recent_base] == [recent_base - 1]
    assert [o for o in offsets if o >= recent_base] == list(range(recent_base, 8))


def test_dirty_ratio_decides(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=200,
                                               min_cleanable_dirty_ratio=0.5))
    for i in range(12):
        put(log, (b"k%d" % i, b"v"))  # distinct keys: cleaning removes nothing
    checkpoint = clean_log(log, None, NOW)
    assert checkpoint is not None
    put(log, (b"n", b"v"))
    log.roll()
    rng = cleanable_range(log, checkpoint, NOW)
    assert 0 < rng.dirty_ratio < 0.5 and not should_clean(log, rng)
    assert clean_log(log, checkpoint, NOW) is None
    delete_only = open_log(tmp_path / "d-0", LogConfig(segment_bytes=200))
    for i in range(12):
        put(delete_only, (b"k", b"%d" % i))
    assert not should_clean(delete_only, cleanable_range(delete_only, None, NOW))


def test_null_keys_are_dropped(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=200))
    put(log, (None, b"x"), (b"k", b"y"))
    log.roll()
    put(log, (b"a", b"b"))
    clean_log(log, None, NOW)
    assert [(o, k) for o, k, _ in records(log)] == [(1, b"k"), (2, b"a")]
