"""kafka-dump-log never fails on damaged files.

Invariants: for random bytes, truncations and bit flips of real segments (Kafka's fixtures and
batches of every magic and codec) ``dump_file`` returns lines and never raises; a truncated log
shows a prefix of the intact log's batch lines and reports the cut-off bytes as invalid.
"""

from __future__ import annotations

import random
from pathlib import Path

from kafkatools.storage.coordinator_records import format_offsets_record, format_transaction_record
from kafkatools.storage.dump import DumpOptions, Problems, dump_file
from kafkatools.wire import legacy
from kafkatools.wire.compression import Compression
from kafkatools.wire.records import build_batch, build_control_batch
from tests.unit.test_dump_log import DATA_13980, run

CASES = 150


def sample_segment() -> bytes:
    parts = [(DATA_13980 / "test-topic-0/00000000000000000000.log").read_bytes()]
    offset = 2
    for codec in Compression:
        parts.append(build_batch([(b"key", b"value" * 20)] * 3, base_offset=offset, compression=codec,
                                 timestamps=[1, 2, 3]))
        offset += 3
    for magic in (0, 1):
        parts.append(legacy.build_message_set([(b"k", b"v" * 30)] * 2, magic=magic, base_offset=offset,
                                              compression=Compression.GZIP, timestamps=[4, 5]))
        offset += 2
    parts.append(build_control_batch("ABORT", producer_id=1, producer_epoch=0, coordinator_epoch=2,
                                     base_offset=offset))
    return b"".join(parts)


def dump(path: Path, **options: object) -> list[str]:
    opts = DumpOptions(**options)  # type: ignore[arg-type]
    return [line.text for line in dump_file(str(path), opts, Problems())]


def test_truncations_show_a_prefix(tmp_path: Path) -> None:
    data = sample_segment()
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(data)
    whole = [line for line in dump(path) if line.startswith(("baseOffset", "offset"))]
    assert len(whole) == 9 and all(line.endswith("isvalid: true") for line in whole)
    rng = random.Random(7)
    for cut in sorted(rng.sample(range(len(data)), 60)):
        path.write_bytes(data[:cut])
        lines = dump(path, deep_iteration=True)
        batches = [line for line in lines if line.startswith(("baseOffset", "offset"))]
        assert batches == whole[: len(batches)]
        shown = sum(int(b.split(" size: ")[1].split()[0]) for b in batches)
        if cut > shown:
            assert lines[-1] == f"Found {cut - shown} invalid bytes at the end of {path.name}"


def test_random_damage_never_raises(tmp_path: Path) -> None:
    data = sample_segment()
    rng = random.Random(11)
    parsers = [None, format_offsets_record, format_transaction_record]
    for case in range(CASES):
        damaged = bytearray(data)
        kind = case % 3
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            start = rng.randrange(len(damaged))
            damaged[start : start + rng.randint(1, 64)] = rng.randbytes(rng.randint(0, 64))
        else:
            damaged = bytearray(rng.randbytes(rng.randint(0, 400)))
        for suffix in (".log", ".index", ".timeindex", ".snapshot", ".txnindex"):
            path = tmp_path / f"00000000000000000000{suffix}"
            path.write_bytes(bytes(damaged))
        (tmp_path / "00000000000000000000.log").write_bytes(bytes(damaged))
        for suffix in (".log", ".index", ".timeindex", ".snapshot", ".txnindex"):
            lines = dump(tmp_path / f"00000000000000000000{suffix}", print_data=True, deep_iteration=True,
                         parser=parsers[case % 3])
            assert lines[0].startswith("Dumping ")
            assert len(lines) <= 2 + 2 * len(damaged)  # bounded: nothing loops


def test_damaged_files_through_the_cli(tmp_path: Path) -> None:
    data = bytearray(sample_segment())
    rng = random.Random(3)
    for _ in range(10):
        data[rng.randrange(len(data))] ^= 0xFF
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(bytes(data))
    code, out, err = run("--files", str(path), "--print-data-log")
    assert code == 0 and out.startswith("Dumping") and "internal error" not in err
