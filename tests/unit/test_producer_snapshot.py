"""Producer-state snapshot files (d.8): exact bytes, round trips, corruption never fatal, file housekeeping."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from crc32c import crc32c
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkatools.storage import producer_snapshot as snap
from kafkatools.storage.dump import DumpOptions, Problems, dump_producer_snapshot
from kafkatools.storage.fs import FileSystem

EXAMPLE = snap.SnapshotEntry(producer_id=1000, producer_epoch=2, last_sequence=4, last_offset=14, offset_delta=4,
                             timestamp=1_700_000_000_000)

# The entry above, field by field, written out by hand (big-endian).
EXAMPLE_BODY = bytes.fromhex(
    "00000001"            # count = 1
    "00000000000003e8"    # producerId 1000
    "0002"                # producerEpoch 2
    "00000004"            # lastSequence 4
    "000000000000000e"    # lastOffset 14
    "00000004"            # offsetDelta 4
    "0000018bcfe56800"    # timestamp 1700000000000
    "ffffffff"            # coordinatorEpoch -1
    "ffffffffffffffff"    # currentTxnFirstOffset -1 (none)
)


class NoSyncFS(FileSystem):
    def fsync_dir(self, path: str) -> None:
        pass


def test_crc32c_is_castagnoli() -> None:
    # The standard check value of CRC-32C (RFC 3720 appendix B.4): guards against a plain CRC-32 sneaking in.
    assert crc32c(b"123456789") == 0xE3069283


def test_exact_bytes_of_one_entry() -> None:
    assert hex(1_700_000_000_000) == "0x18bcfe56800"
    data = snap.encode_snapshot([EXAMPLE])
    assert len(data) == 10 + 46 == len(EXAMPLE_BODY) + 6
    assert data[:2] == b"\x00\x01"
    assert data[6:] == EXAMPLE_BODY
    assert data[2:6] == struct.pack(">I", crc32c(EXAMPLE_BODY))
    assert snap.decode_snapshot(data) == [EXAMPLE]


def test_empty_snapshot_is_ten_bytes() -> None:
    data = snap.encode_snapshot([])
    assert data == b"\x00\x01" + struct.pack(">I", crc32c(b"\x00\x00\x00\x00")) + b"\x00\x00\x00\x00"
    assert snap.decode_snapshot(data) == []


def test_kafka_dump_log_prints_what_we_write(tmp_path: Path) -> None:
    path = snap.write_snapshot(str(tmp_path), 15, [EXAMPLE], NoSyncFS())
    assert Path(path).name == "00000000000000000015.snapshot"
    lines = list(dump_producer_snapshot(path, DumpOptions(), Problems()))
    assert [line.text for line in lines] == [
        "producerId: 1000 producerEpoch: 2 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty "
        "lastTimestamp: 1700000000000 firstSequence: 0 lastSequence: 4 lastOffset: 14 offsetDelta: 4 "
        "timestamp: 1700000000000"]


entries_st = st.lists(st.builds(
    snap.SnapshotEntry,
    producer_id=st.integers(-(2**63), 2**63 - 1), producer_epoch=st.integers(-(2**15), 2**15 - 1),
    last_sequence=st.integers(-(2**31), 2**31 - 1), last_offset=st.integers(-(2**63), 2**63 - 1),
    offset_delta=st.integers(-(2**31), 2**31 - 1), timestamp=st.integers(-(2**63), 2**63 - 1),
    coordinator_epoch=st.integers(-(2**31), 2**31 - 1), current_txn_first_offset=st.integers(-(2**63), 2**63 - 1),
), max_size=20)


@settings(max_examples=200, deadline=None)
@given(entries_st)
def test_round_trip(entries: list[snap.SnapshotEntry]) -> None:
    data = snap.encode_snapshot(entries)
    assert len(data) == 10 + 46 * len(entries)
    assert snap.decode_snapshot(data) == entries


def test_every_single_byte_change_is_detected() -> None:
    data = snap.encode_snapshot([EXAMPLE, EXAMPLE._replace(producer_id=7, last_sequence=99)])
    for i in range(len(data)):
        broken = bytearray(data)
        broken[i] ^= 0x40
        with pytest.raises(snap.CorruptSnapshotError):
            snap.decode_snapshot(bytes(broken))


@pytest.mark.parametrize("data, message", [
    (b"\x00\x01\x00", "truncated"),
    (b"\x00\x02" + struct.pack(">I", crc32c(b"\x00" * 4)) + b"\x00" * 4, "unknown version 2"),
    (b"\x00\x01" + struct.pack(">I", crc32c(b"\x00\x00\x00\x02")) + b"\x00\x00\x00\x02", "declares 2 producers"),
])
def test_malformed_files(data: bytes, message: str) -> None:
    with pytest.raises(snap.CorruptSnapshotError, match=message):
        snap.decode_snapshot(data)


def test_trailing_bytes_with_valid_crc_are_refused() -> None:
    body = EXAMPLE_BODY + b"\x00"
    with pytest.raises(snap.CorruptSnapshotError, match="declares 1 producers"):
        snap.decode_snapshot(b"\x00\x01" + struct.pack(">I", crc32c(body)) + body)


def test_listing_ignores_other_files(tmp_path: Path) -> None:
    fs = NoSyncFS()
    for offset in (42, 0, 7):
        snap.write_snapshot(str(tmp_path), offset, [], fs)
    for name in ("00000000000000000042.log", "x.snapshot", "00000000000000000001.snapshot.tmp", "1.snapshot"):
        (tmp_path / name).write_bytes(b"")
    assert snap.list_snapshots(str(tmp_path), fs) == [0, 7, 42]


def test_load_newest_skips_corrupt_and_too_new(tmp_path: Path) -> None:
    fs, d = NoSyncFS(), str(tmp_path)
    snap.write_snapshot(d, 5, [EXAMPLE], fs)
    snap.write_snapshot(d, 10, [EXAMPLE._replace(last_offset=9)], fs)
    snap.write_snapshot(d, 20, [EXAMPLE._replace(last_offset=19)], fs)
    bad = Path(snap.snapshot_path(d, 10))
    raw = bytearray(bad.read_bytes())
    raw[-1] ^= 1
    bad.write_bytes(bytes(raw))
    reported: list[str] = []
    found = snap.load_newest(d, 15, fs, lambda path, e: reported.append(path))
    assert found == (5, [EXAMPLE])
    assert reported == [str(bad)]
    assert snap.load_newest(d, 25, fs) == (20, [EXAMPLE._replace(last_offset=19)])
    assert snap.load_newest(d, 4, fs) is None


def test_load_newest_without_callback_and_only_corrupt(tmp_path: Path) -> None:
    d = str(tmp_path)
    Path(snap.snapshot_path(d, 3)).write_bytes(b"garbage")
    assert snap.load_newest(d, 100, NoSyncFS()) is None


def test_deletions(tmp_path: Path) -> None:
    fs, d = NoSyncFS(), str(tmp_path)
    for offset in (1, 2, 3, 4, 5):
        snap.write_snapshot(d, offset, [], fs)
    assert snap.delete_snapshots_above(d, 4, fs) == [5]
    assert snap.delete_snapshots_below(d, 2, fs) == [1]
    assert snap.list_snapshots(d, fs) == [2, 3, 4]
    assert snap.retain_newest(d, 2, fs) == [2]
    assert snap.list_snapshots(d, fs) == [3, 4]
    assert snap.retain_newest(d, 0, fs) == [3, 4]
    assert snap.list_snapshots(d, fs) == []


def test_write_is_atomic_overwrite(tmp_path: Path) -> None:
    fs, d = NoSyncFS(), str(tmp_path)
    snap.write_snapshot(d, 8, [EXAMPLE], fs)
    snap.write_snapshot(d, 8, [], fs)
    assert snap.read_snapshot(snap.snapshot_path(d, 8), fs) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000000000000000008.snapshot"]
