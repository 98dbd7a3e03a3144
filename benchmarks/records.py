"""Build and iterate RecordBatch v2 (and a legacy magic 1 set) with 1 KB records; prints MB/s.

    .venv/bin/python benchmarks/records.py [--records 1000] [--size 1024] [--seconds 1.0]

MB/s counts record key+value bytes (what a producer hands over), not batch bytes.  Values are
half random / half repetitive so the codecs have realistic work.  No assertions: figures only.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from kafkatools.wire import legacy
from kafkatools.wire.log_entries import iter_batches
from kafkatools.wire.records import Compression, build_batch, iter_records


def _rate(fn: Callable[[], object], payload_bytes: int, seconds: float) -> float:
    fn()  # warm up
    runs = 0
    start = time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return runs * payload_bytes / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024, help="value bytes per record")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    half = args.size // 2
    pairs = [(b"key-%08d" % i, os.urandom(half) + b"x" * (args.size - half)) for i in range(args.records)]
    payload = sum(len(k) + len(v) for k, v in pairs)
    stamps = [1_700_000_000_000 + i for i in range(args.records)]
    print(f"{args.records} records x {args.size} B values per batch; MB/s of key+value bytes")
    print(f"{'format':<14}{'codec':<8}{'batch KB':>10}{'build MB/s':>12}{'iterate MB/s':>14}")
    for codec in Compression:
        blob = build_batch(pairs, compression=codec, timestamps=stamps)
        build = _rate(lambda c=codec: build_batch(pairs, compression=c, timestamps=stamps), payload, args.seconds)
        read = _rate(lambda b=blob: sum(1 for _ in iter_records(b)), payload, args.seconds)
        print(f"{'v2':<14}{codec.name.lower():<8}{len(blob) / 1024:>10.1f}{build:>12.1f}{read:>14.1f}")
    for codec in (Compression.NONE, Compression.LZ4):
        blob = legacy.build_message_set(pairs, magic=1, compression=codec, timestamps=stamps)
        build = _rate(lambda c=codec: legacy.build_message_set(pairs, magic=1, compression=c, timestamps=stamps),
                      payload, args.seconds)
        read = _rate(lambda b=blob: sum(1 for bt in iter_batches(b) for _ in bt.records()), payload, args.seconds)
        print(f"{'legacy magic1':<14}{codec.name.lower():<8}{len(blob) / 1024:>10.1f}{build:>12.1f}{read:>14.1f}")


if __name__ == "__main__":
    main()
