"""Crash recovery (d.13) against its invariants: recovery never raises, keeps exactly the valid
prefix of what was appended, and leaves no index entry pointing past the log or at the wrong entry."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from kafkatools.storage.config import LogConfig
from kafkatools.storage.log import PartitionLog
from kafkatools.wire import batch as wb
from tests.unit.test_storage_batches import build_batch
from tests.unit.test_storage_log import TP, Clock, NoSyncFS, check_indexes

CONFIG = LogConfig(segment_bytes=1500, index_interval_bytes=150, segment_index_bytes=4096)
# bytes of each batch that Kafka cannot check (outside the CRC and without a size/magic meaning)
UNCHECKED = set(range(0, 8)) | set(range(12, 16))


def write_log(directory: Path, n_batches: int = 40, seed: int = 1) -> list[bytes]:
    """A log of several segments, closed as after a crash; returns the stored batches in order."""
    rnd = random.Random(seed)
    log = PartitionLog(str(directory), TP, CONFIG, fs=NoSyncFS(), clock=Clock())
    for i in range(n_batches):
        records = [(b"k%d" % i, rnd.randbytes(rnd.randint(0, 120)), 1000 + i) for _ in range(rnd.randint(1, 4))]
        log.append(build_batch(records), leader_epoch=i // 10)
    assert len(log.segments) >= 3
    stored = []
    for seg in log.segments:
        stored.extend(seg.read_entry(info) for info in seg.scan())
    log.close_unclean()
    return stored


def recovered(directory: Path) -> tuple[PartitionLog, list[bytes]]:
    log = PartitionLog(str(directory), TP, CONFIG, fs=NoSyncFS(), clock=Clock(), recovery_point=0,
                       clean_shutdown=False)
    batches = []
    for seg in log.segments:
        batches.extend(seg.read_entry(info) for info in seg.scan())
    return log, batches


def assert_sound(log: PartitionLog, batches: list[bytes]) -> None:
    check_indexes(log)
    expected_next = 0
    for seg in log.segments:
        assert sum(i.size for i in seg.scan()) == seg.size  # no trailing garbage
    for b in batches:
        h = wb.validate_batch(b)
        assert h.base_offset >= expected_next
        expected_next = h.last_offset + 1
    assert log.log_end_offset == (expected_next if batches else log.segments[-1].base_offset)
    # what was rebuilt survives a clean close/reopen byte for byte
    entries = [(list(s.offset_index.keys), list(s.time_index.keys)) for s in log.segments]
    log.close()
    again = PartitionLog(log.directory, TP, CONFIG, fs=NoSyncFS(), clock=Clock(), clean_shutdown=True,
                         recovery_point=log.log_end_offset)
    assert [(list(s.offset_index.keys), list(s.time_index.keys)) for s in again.segments] == entries
    again.close()


def test_cut_last_segment_at_every_byte_of_its_last_batch(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine" / "t-0"
    stored = write_log(pristine)
    last_log = sorted(pristine.glob("*.log"))[-1]
    size = last_log.stat().st_size
    last = stored[-1]
    for cut in range(size - len(last), size):
        work = tmp_path / f"w{cut}" / "t-0"
        shutil.copytree(pristine, work)
        with open(work / last_log.name, "r+b") as f:
            f.truncate(cut)
        log, batches = recovered(work)
        assert batches == stored[:-1], cut
        assert_sound(log, batches)
        shutil.rmtree(work.parent)


@pytest.mark.parametrize("seed", range(30))
def test_flipped_checked_bytes_keep_exactly_the_prefix_before_them(tmp_path: Path, seed: int) -> None:
    pristine = tmp_path / "pristine" / "t-0"
    stored = write_log(pristine, seed=seed)
    rnd = random.Random(seed)
    # the global byte layout: (segment file, position in file, batch number)
    layout: list[tuple[Path, int, int]] = []
    n = 0
    for path in sorted(pristine.glob("*.log")):
        pos = 0
        data = path.read_bytes()
        while pos < len(data):
            size = wb.entry_size_at(data, pos)
            layout.extend((path, pos + k, n) for k in range(size) if k not in UNCHECKED)
            pos += size
            n += 1
    flips = rnd.sample(layout, rnd.randint(1, 3))
    for path, pos, _ in flips:
        with open(path, "r+b") as f:
            f.seek(pos)
            byte = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([byte ^ rnd.randint(1, 255)]))
    first_bad = min(batch_no for _, _, batch_no in flips)
    log, batches = recovered(pristine)
    assert batches == stored[:first_bad]
    assert_sound(log, batches)


@pytest.mark.parametrize("seed", range(15))
def test_flips_anywhere_never_raise_and_leave_a_sound_log(tmp_path: Path, seed: int) -> None:
    pristine = tmp_path / "pristine" / "t-0"
    write_log(pristine, seed=100 + seed)
    rnd = random.Random(seed)
    files = sorted(pristine.glob("*.log"))
    for _ in range(rnd.randint(1, 4)):
        path = rnd.choice(files)
        data = bytearray(path.read_bytes())
        if data:
            data[rnd.randrange(len(data))] ^= rnd.randint(1, 255)
            path.write_bytes(bytes(data))
    log, batches = recovered(pristine)
    assert_sound(log, batches)


def test_torn_index_files_and_garbage_tail_after_crash(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    stored = write_log(d)
    for index in d.glob("*.index"):
        index.write_bytes(b"\x00" * 4096)  # preallocated and never written, as Kafka leaves them
    with open(sorted(d.glob("*.log"))[-1], "ab") as f:
        f.write(b"\x00" * 10)
    log, batches = recovered(d)
    assert batches == stored
    assert_sound(log, batches)


@pytest.mark.parametrize("magic", [0, 1, 3, 255])
def test_a_batch_whose_magic_changed_ends_the_valid_prefix(tmp_path: Path, magic: int) -> None:
    d = tmp_path / "t-0"
    stored = write_log(d)
    path = sorted(d.glob("*.log"))[1]
    data = bytearray(path.read_bytes())
    second = wb.entry_size_at(data, 0)
    data[second + wb.MAGIC_OFFSET] = magic
    path.write_bytes(bytes(data))
    first_in_segment = stored.index(bytes(data[:second]))
    log, batches = recovered(d)
    assert batches == stored[: first_in_segment + 1]
    assert_sound(log, batches)
