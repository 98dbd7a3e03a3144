"""Records to send through real clients, and the checks that what came back is what went in.

A workload is a list of :class:`Rec` in send order; record ``i`` goes to partition ``i % partitions``
unless the client chooses (kcat).  The comparison works per partition, so it states at once that
every record came back exactly once, in order, and byte-identical (key, value, headers, timestamp);
on failure it names the first differing position instead of dumping 100,000 records.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from kafkatools.storage.inspect import iter_log_entries

# The codec ids of a v2 batch's attributes (bits 0-2), by the name clients use.
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
ALL_CODECS = tuple(CODEC_IDS)
BASE_TIMESTAMP = 1_700_000_000_000

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Rec:
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp: int


def make_records(n: int, seed: int, printable: bool = False) -> list[Rec]:
    """``n`` varied records: null keys, empty values, 0-3 headers (repeated names, empty values).

    Binary values contain every byte value (newlines, colons, NULs); ``printable`` ones are for kcat,
    whose input is a line-oriented text file.
    """
    rnd = random.Random(seed)
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;-_"
    out: list[Rec] = []
    for i in range(n):
        size = rnd.choice((0, 1, 7, 30, 100, 200, 600)) if i % 89 else 0
        if printable:
            value: bytes | None = bytes(rnd.choices(alphabet, k=size))
            key: bytes | None = b"k%07d" % i
        else:
            value = rnd.randbytes(size) if i % 211 != 5 else None
            key = None if i % 97 == 0 and value is not None else b"key-%d-" % i + rnd.randbytes(rnd.randint(0, 12))
        headers = tuple((rnd.choice(("trace", "origin", "trace", "é")), rnd.randbytes(rnd.randint(0, 16)))
                        for _ in range(rnd.randint(0, 3)))
        out.append(Rec(key, value, headers, BASE_TIMESTAMP + i * 7 + rnd.randint(0, 5)))
    return out


def codec_chunks(n: int, codecs: Sequence[str]) -> list[tuple[str, range]]:
    """Split ``range(n)`` into one consecutive slice per codec (the 100k is shared, not multiplied)."""
    step = -(-n // len(codecs))
    return [(c, range(i * step, min(n, (i + 1) * step))) for i, c in enumerate(codecs)]


def by_partition(records: Sequence[Rec], partitions: int) -> dict[int, list[Rec]]:
    out: dict[int, list[Rec]] = {p: [] for p in range(partitions)}
    for i, r in enumerate(records):
        out[i % partitions].append(r)
    return out


def assert_same(expected: dict[int, list[Rec]], got: dict[int, list[Rec]], who: str) -> None:
    """Per partition: same length and the same record at every position."""
    assert sorted(got) == sorted(expected), f"{who}: partitions {sorted(got)} != {sorted(expected)}"
    for p, want in expected.items():
        have = got[p]
        for pos, (a, b) in enumerate(zip(want, have, strict=False)):
            assert a == b, f"{who}: partition {p} position {pos}: sent {a!r}, got back {b!r}"
        assert len(have) == len(want), (
            f"{who}: partition {p} returned {len(have)} records, {len(want)} were sent "
            f"({'duplicates' if len(have) > len(want) else 'missing records'})")


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)


def stored_codecs(data_dir: Path, topic: str) -> set[str]:
    """The codecs of the batches the broker stored for ``topic`` (read from its segment files)."""
    names = {v: k for k, v in CODEC_IDS.items()}
    seen: set[str] = set()
    for log_file in sorted(data_dir.glob(f"{topic}-*/*.log")):
        for _, raw in iter_log_entries(str(log_file)):
            (attributes,) = struct.unpack_from(">h", raw, 21)
            seen.add(names.get(attributes & 7, f"codec-{attributes & 7}"))
    return seen


def norm_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> tuple[Header, ...]:
    """Clients' header lists as our tuples; a null header value stays visible (as ``None``)."""
    return tuple((k, None if v is None else bytes(v)) for k, v in headers or ())
