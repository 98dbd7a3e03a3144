"""Read-only views of single storage files, for tools such as ``kafka-dump-log``.

Unlike the broker's loaders these read any file as it is (a crash-left preallocated index shows its
zero entries) and never modify or lock anything.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

from kafkatools.storage.entries import MIN_HEADER, EntryInfo, entry_info
from kafkatools.storage.names import offset_from_file_name
from kafkatools.wire import batch as wb


def read_offset_index(path: str) -> list[tuple[int, int]]:
    """``(absolute offset, position)`` for every 8-byte entry of a ``.index`` file."""
    base = offset_from_file_name(os.path.basename(path))
    with open(path, "rb") as f:
        data = f.read()
    return [(base + rel, pos) for rel, pos in struct.iter_unpack(">ii", data[: len(data) - len(data) % 8])]


def read_time_index(path: str) -> list[tuple[int, int]]:
    """``(timestamp, absolute offset)`` for every 12-byte entry of a ``.timeindex`` file."""
    base = offset_from_file_name(os.path.basename(path))
    with open(path, "rb") as f:
        data = f.read()
    return [(ts, base + rel) for ts, rel in struct.iter_unpack(">qi", data[: len(data) - len(data) % 12])]


def iter_log_entries(path: str) -> Iterator[tuple[EntryInfo, bytes]]:
    """Every whole entry of a ``.log`` file with its bytes; stops at a partial or impossible entry."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while len(data) - pos >= MIN_HEADER:
        info = entry_info(data, pos, pos)
        if info is None or info.size < wb.LOG_OVERHEAD + 14 or pos + info.size > len(data):
            return
        yield info, data[pos : pos + info.size]
        pos += info.size
