"""The vocabulary of ``kafka-dump-log``: output lines, options, deferred problems, and log scanning.

Shared by ``storage.dump`` (logs) and ``storage.dump_index`` (indexes, snapshots, transaction
indexes): reading a file (big segments mapped, not read), walking the whole batches at the start
of a byte range, and the index-to-log lookups the index checks need.  Pure: paths in, data out.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from kafkatools.errors import CorruptRecordError
from kafkatools.storage.names import LOG_SUFFIX
from kafkatools.wire.log_entries import Batch, iter_batches
from kafkatools.wire.records import Record

INT_MAX: Final = 2**31 - 1

Buf = bytes | memoryview
RecordParser = Callable[[bytes | None, bytes | None], tuple[str | None, str | None]]


class Line(NamedTuple):
    """One output line: ``text`` as Kafka prints it, ``data`` for JSON, ``err`` for stderr."""

    text: str
    data: dict[str, object]
    err: bool = False


@dataclass(frozen=True, slots=True)
class DumpOptions:
    print_data: bool = False
    deep_iteration: bool = False
    skip_record_metadata: bool = False
    verify_index_only: bool = False
    index_sanity_only: bool = False
    max_message_size: int = 5 * 1024 * 1024
    max_bytes: int = INT_MAX
    parser: RecordParser | None = None  # None: StringDecoder for key and value


@dataclass
class Problems:
    """What Kafka prints to stderr after every file was dumped, plus our own failures (exit 1)."""

    index_mismatches: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    non_consecutive: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_mismatches: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_out_of_order: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    time_not_found: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    failures: int = 0

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, pairs in self.time_mismatches.items():
            out.append(f"Found timestamp mismatch in :{name}")
            out += [f"  Index timestamp: {a}, log timestamp: {b}" for a, b in pairs]
        for name, pairs in self.time_out_of_order.items():
            out.append(f"Found out of order timestamp in :{name}")
            out += [f"  Index timestamp: {a}, Previously indexed timestamp: {b}" for a, b in pairs]
        for pairs in self.time_not_found.values():
            out.append("The following indexed offsets are not found in the log.")
            out += [f"Indexed offset: {a}, found log offset: {b}" for a, b in pairs]
        # Kafka prepends to these two lists, so they come out newest first.
        for name, pairs in self.index_mismatches.items():
            out.append(f"Mismatches in :{name}")
            out += [f"  Index offset: {a}, log offset: {b}" for a, b in reversed(pairs)]
        for name, pairs in self.non_consecutive.items():
            out.append(f"Non-consecutive offsets in {name}")
            out += [f"  {a} is followed by {b}" for a, b in reversed(pairs)]
        return out


MMAP_THRESHOLD = 16 * 1024 * 1024


def read_file(path: str, limit: int | None = None) -> bytes:
    with open(path, "rb") as f:
        return f.read() if limit is None else f.read(limit)


def map_log(path: str, limit: int | None = None) -> Buf:
    """A segment's bytes; big segments (up to 1 GiB) are mapped, not read, so the dump stays small in memory.

    The mapping is never closed explicitly: batches keep views into it, and it goes with the last one.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0 or size < MMAP_THRESHOLD or (limit is not None and limit < MMAP_THRESHOLD):
            return f.read() if limit is None else f.read(limit)
        view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    return view if limit is None else view[:limit]




def base_offset(path: str) -> int:
    head = os.path.basename(path).split(".", 1)[0]
    if not head.isdigit():
        raise ValueError(f"the file name does not start with a segment base offset: {os.path.basename(path)}")
    return int(head)


def sibling(path: str, suffix: str) -> str:
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, name.split(".", 1)[0] + suffix)


def log_bytes(path: str) -> Buf:
    log = sibling(path, LOG_SUFFIX)
    return map_log(log) if os.path.exists(log) else b""



def scan_batches(data: Buf) -> Iterator[Batch]:
    """The whole batches at the start of ``data``; stops at a partial or impossible entry."""
    batches = iter_batches(data, strict=False)
    while True:
        try:
            batch = next(batches)
        except (StopIteration, CorruptRecordError, struct.error):
            return
        yield batch


def first_batch_last_offset(log: Buf, position: int, max_size: int) -> int:
    """Last offset of the batch starting at ``position`` (read at most ``max_size`` bytes); -1 if none."""
    first = next(scan_batches(log[position : position + max_size]), None)
    return -1 if first is None else first.last_offset


def index_lookup(entries: list[tuple[int, int]], offset: int) -> int:
    """Position of the greatest index entry <= ``offset`` (0 if none), ignoring a zero tail."""
    position = 0
    for i, (entry_offset, entry_position) in enumerate(entries):
        if (i > 0 and entry_offset == entries[0][0]) or entry_offset > offset:
            break
        position = entry_position
    return position


def batch_records(batch: Batch) -> list[Record]:
    return list(batch.records(verify_crc=False))


def batch_holding(log: Buf, position: int, offset: int) -> tuple[int, int]:
    """``(last offset, max record timestamp)`` of the first batch from ``position`` ending at or after ``offset``.

    ``(-1, -1)`` when there is none; the timestamp is -1 when the batch's last offset is not ``offset``.
    """
    for batch in scan_batches(log[position:]):
        if batch.last_offset >= offset:
            if batch.last_offset != offset:
                return batch.last_offset, -1
            try:
                return offset, max((r.timestamp for r in batch_records(batch)), default=-1)
            except (CorruptRecordError, ValueError):
                return offset, -1
    return -1, -1

