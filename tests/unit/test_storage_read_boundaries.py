"""Fetch reads stop at a batch boundary: no trailing piece of a batch the client would throw away."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

from kafkatools.storage.config import LogConfig
from tests.unit.test_storage_log import batch, open_log


def test_reads_end_on_the_last_whole_batch_that_fits(tmp_path: Path) -> None:
    rng = random.Random(7)
    log = open_log(tmp_path / "t-0", LogConfig(index_interval_bytes=700))
    sizes = [len(b) for b in (batch(rng.randint(1, 4), rng.randint(1, 900)) for _ in range(60))]
    rng2 = random.Random(7)
    for _ in sizes:  # the same batches again, appended this time
        log.append(batch(rng2.randint(1, 4), rng2.randint(1, 900)))
    starts = [0, *itertools.accumulate(sizes)]  # batch boundaries (positions), the last = segment size
    offsets = [0]
    for seg_info in log.segments[0].scan():
        offsets.append(seg_info.last_offset + 1)
    assert len(offsets) == len(starts)
    for first in (0, 5, 31):
        for max_bytes in (1, 50, 333, 700, 1000, 2500, 4096, 10_000, 10**6):
            sl = log.read(offsets[first], max_bytes)
            assert sl is not None and sl.position == starts[first]
            end = sl.position + len(sl)
            assert end in starts, (first, max_bytes, end)
            # every whole batch that fits is there; the first one even when it alone is too big
            fitting = [s for s in starts if starts[first] < s <= starts[first] + max_bytes]
            assert end == (fitting[-1] if fitting else starts[first + 1])


def test_a_read_bounded_by_the_high_watermark_or_without_min_one_batch_is_unchanged(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig())
    sizes = [len(batch(1, s)) for s in (100, 300, 50)]
    for s in (100, 300, 50):
        log.append(batch(1, s))
    assert len(log.read(0, 10, min_one_batch=False)) == 10  # type: ignore[arg-type]  # Kafka: partial bytes
    sl = log.read(0, sizes[0] + sizes[1] + 10, max_offset=2)
    assert sl is not None and len(sl) == sizes[0] + sizes[1]
    sl = log.read(0, sizes[0] + 10)
    assert sl is not None and len(sl) == sizes[0]


def test_a_slice_outlives_its_segment_file(tmp_path: Path) -> None:
    """Retention or compaction may close and unlink a segment while a Fetch still has to send its slice;
    the slice keeps its own descriptor, so it still reads its bytes even when the old number is reused."""
    log = open_log(tmp_path / "t-0", LogConfig())
    log.append(batch(3, 100))
    sl = log.read(0, 10_000)
    assert sl is not None
    expected = sl.read_bytes()
    log.delete_files()
    reused = os.open(tmp_path / "other", os.O_RDWR | os.O_CREAT)  # likely takes the freed number
    try:
        os.pwrite(reused, b"x" * len(expected), 0)
        assert sl.read_bytes() == expected
        assert os.pread(sl.fileno(), len(expected), sl.position) == expected
    finally:
        os.close(reused)
