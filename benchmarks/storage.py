"""Storage figures: append MB/s for 1 MB and 16 KB batches next to a raw ``os.write`` loop of the
same bytes into the same directory, and offset lookups per second (``read(offset)`` -> FileSlice).

    .venv/bin/python benchmarks/storage.py [--mb 256] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import tempfile
import time

from crc32c import crc32c

from kafkatools.storage.config import LogConfig
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition


def make_batch(size: int) -> bytes:
    """One uncompressed v2 batch of exactly ``size`` bytes holding a single record."""
    value_len = size - 61
    while True:
        rec = b"\x00\x00\x00\x01" + _varint(value_len) + bytes(value_len) + b"\x00"
        body = _varint(len(rec)) + rec
        if 61 + len(body) <= size:
            break
        value_len -= 61 + len(body) - size
    after = struct.pack(">hiqqqhii", 0, 0, 1000, 1000, -1, -1, -1, 1) + body
    return struct.pack(">qiibI", 0, len(after) + 9, -1, 2, crc32c(after)) + after


def _varint(v: int) -> bytes:
    raw = (v << 1) ^ (v >> 63)
    out = bytearray()
    while raw >= 0x80:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)
    return bytes(out)


def bench_append(root: str, batch: bytes, total: int) -> tuple[float, float]:
    count = max(1, total // len(batch))
    raw_path = os.path.join(root, "raw.bin")
    fd = os.open(raw_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0 = time.perf_counter()
    for _ in range(count):
        os.write(fd, batch)
    raw_s = time.perf_counter() - t0
    os.close(fd)
    os.remove(raw_path)

    log = PartitionLog(os.path.join(root, "bench-0"), TopicPartition("bench", 0), LogConfig())
    t0 = time.perf_counter()
    for _ in range(count):
        log.append(batch, leader_epoch=0)
    ours_s = time.perf_counter() - t0
    log.close()
    shutil.rmtree(os.path.join(root, "bench-0"))
    mb = count * len(batch) / 1e6
    return mb / raw_s, mb / ours_s


def bench_lookups(root: str, n_batches: int, lookups: int) -> tuple[float, int]:
    log = PartitionLog(os.path.join(root, "read-0"), TopicPartition("read", 0),
                       LogConfig(segment_bytes=16 * 1024 * 1024))
    batch = make_batch(1024)
    for _ in range(n_batches):
        log.append(batch)
    rnd = random.Random(1)
    offsets = [rnd.randrange(n_batches) for _ in range(lookups)]
    t0 = time.perf_counter()
    for off in offsets:
        log.read(off, 1024 * 1024)
    rate = lookups / (time.perf_counter() - t0)
    segments = len(log.segments)
    log.close()
    shutil.rmtree(os.path.join(root, "read-0"))
    return rate, segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=256, help="bytes appended per run, in MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best of each is shown")
    parser.add_argument("--dir", default=None, help="directory to write in (default: a temp dir)")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="kafkatools-bench-", dir=args.dir)
    try:
        print(f"directory: {root}")
        for size in (1024 * 1024, 16 * 1024):
            runs = [bench_append(root, make_batch(size), args.mb * 1_000_000) for _ in range(args.repeat)]
            raw, ours = max(r for r, _ in runs), max(o for _, o in runs)  # best of each: least disturbed
            print(f"append {size // 1024:>5} KB batches: storage {ours:8.1f} MB/s   raw os.write {raw:8.1f} MB/s"
                  f"   ratio {ours / raw:5.1%}")
        rate, segments = bench_lookups(root, 100_000, 50_000)
        print(f"read(offset) -> FileSlice: {rate:,.0f} lookups/s over 100,000 1 KB batches in {segments} segments")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
