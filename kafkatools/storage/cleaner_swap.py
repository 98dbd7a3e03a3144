"""Writing a cleaned segment and swapping it for the segments it replaces (Kafka's
``LogCleaner.cleanSegments`` output and ``LocalLog.replaceSegments``), crash-safe in Kafka's order:

    1. <base>.log.cleaned, <base>.index.cleaned, <base>.timeindex.cleaned   written and fsynced
       (+ <base>.txnindex.cleaned: the old segments' aborted-transaction entries, when they had any)
    2. each renamed to <name>.swap                                           (fsync dir)
    3. every old segment's files renamed to <name>.deleted                   (fsync dir)
    4. each <name>.swap renamed to <name>                                    (fsync dir)
    5. the .deleted files removed (at once, or later by the caller)

``recovery._clean_leftovers`` undoes a crash before 2 (drops ``.cleaned``) and finishes one after
it (a ``.log.swap`` replaces the ``.log`` files whose base offsets it covers, ``.deleted`` go).
The index rule is the segment's (``segment.py``): an entry before a batch once more than
``index.interval.bytes`` were written since the last one; never for the first batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafkatools.storage.config import LogConfig
from kafkatools.storage.entries import entry_info
from kafkatools.storage.errors import StorageError
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.index import OffsetIndex, TimeIndex
from kafkatools.storage.names import (
    CLEANED_SUFFIX,
    DELETED_SUFFIX,
    INDEX_SUFFIX,
    LOG_SUFFIX,
    SWAP_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
    segment_file_name,
)
from kafkatools.storage.segment import LogSegment

#: steps reported to a swap's ``on_step`` hook (tests raise there to simulate a crash)
STEPS = ("cleaned", "swap", "deleted", "renamed")
StepHook = Callable[[str], None]
_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)


@dataclass(slots=True)
class CleanedSegment:
    """A segment written under ``.cleaned`` names, not yet part of the log."""

    directory: str
    base_offset: int
    size: int

    def path(self, suffix: str, extra: str) -> str:
        return os.path.join(self.directory, segment_file_name(self.base_offset, suffix) + extra)

    def discard(self, fs: FileSystem) -> None:
        for suffix in _SUFFIXES:
            fs.remove(self.path(suffix, CLEANED_SUFFIX))


def write_cleaned(directory: str, base_offset: int, entries: Iterable[bytes], config: LogConfig,
                  fs: FileSystem) -> CleanedSegment:
    """Write ``entries`` (log entries with their offsets) as ``<base>.*.cleaned`` with both indexes, fsynced."""
    out = CleanedSegment(directory, base_offset, 0)
    log_file = fs.open(out.path(LOG_SUFFIX, CLEANED_SUFFIX))
    fs.truncate(log_file, 0)
    oi = OffsetIndex(out.path(INDEX_SUFFIX, CLEANED_SUFFIX), base_offset, config.segment_index_bytes, fs, new=True)
    ti = TimeIndex(out.path(TIME_INDEX_SUFFIX, CLEANED_SUFFIX), base_offset, config.segment_index_bytes, fs,
                   new=True)
    try:
        since_entry = 0
        max_ts, offset_of_max = -1, base_offset
        for entry in entries:
            info = entry_info(entry, 0, out.size)
            if info is None:
                raise StorageError(f"cleaner produced an incomplete entry for segment {base_offset}")
            if info.max_timestamp > max_ts:
                max_ts, offset_of_max = info.max_timestamp, info.last_offset
            if since_entry > config.index_interval_bytes and not oi.is_full:
                oi.append(info.last_offset, out.size)
                if not ti.is_full:
                    ti.maybe_append(max_ts, offset_of_max)
                since_entry = 0
            fs.pwrite(log_file, entry, out.size)
            out.size += len(entry)
            since_entry += len(entry)
        ti.maybe_append(max_ts, offset_of_max, skip_full_check=True)
        oi.trim()
        ti.trim()
        fs.fsync(log_file)
        oi.flush()
        ti.flush()
    finally:
        fs.close(log_file)
        oi.close()
        ti.close()
    return out


def merge_txn_indexes(cleaned: CleanedSegment, old: list[LogSegment], fs: FileSystem) -> None:
    """``<base>.txnindex.cleaned``: the old segments' aborted-transaction entries, in order.

    The cleaner copies transactional and control batches unchanged, so every entry stays true; the
    index cannot be rebuilt from the log by recovery, hence it travels with the swap."""
    parts = []
    for seg in old:
        path = os.path.join(cleaned.directory, segment_file_name(seg.base_offset, TXN_INDEX_SUFFIX))
        if fs.exists(path):
            parts.append(fs.read_bytes(path))
    if parts:
        f = fs.open(cleaned.path(TXN_INDEX_SUFFIX, CLEANED_SUFFIX))
        try:
            fs.truncate(f, 0)
            fs.pwrite(f, b"".join(parts), 0)
            fs.fsync(f)
        finally:
            fs.close(f)


def _rename_all(fs: FileSystem, pairs: list[tuple[str, str]]) -> None:
    for src, dst in pairs:
        if fs.exists(src):
            fs.rename(src, dst)


def swap_in(segments: list[LogSegment], old: list[LogSegment], cleaned: CleanedSegment, config: LogConfig,
            fs: FileSystem, *, on_step: StepHook | None = None) -> list[str]:
    """Replace the consecutive ``old`` segments of ``segments`` (a log's list, edited in place) by ``cleaned``.

    Returns the ``.deleted`` paths of the old files; their descriptors are closed, the caller removes
    the files (at once, or after ``file.delete.delay.ms``)."""
    hook = on_step or (lambda _step: None)
    first = next((i for i, s in enumerate(segments) if s is old[0]), None)
    if first is None or segments[first : first + len(old)] != old:
        raise StorageError(f"segments from {old[0].base_offset} changed while being cleaned")
    directory = cleaned.directory
    hook("cleaned")
    _rename_all(fs, [(cleaned.path(s, CLEANED_SUFFIX), cleaned.path(s, SWAP_SUFFIX)) for s in _SUFFIXES])
    fs.fsync_dir(directory)
    hook("swap")
    deleted: list[str] = []
    for seg in old:
        txn = os.path.join(directory, segment_file_name(seg.base_offset, TXN_INDEX_SUFFIX))
        for path in (seg.log_path, seg.offset_index.path, seg.time_index.path, txn):
            if path == txn and not fs.exists(txn):
                continue
            fs.rename(path, path + DELETED_SUFFIX)
            deleted.append(path + DELETED_SUFFIX)
    fs.fsync_dir(directory)
    hook("deleted")
    _rename_all(fs, [(cleaned.path(s, SWAP_SUFFIX), cleaned.path(s, "")) for s in _SUFFIXES])
    fs.fsync_dir(directory)
    hook("renamed")
    new = LogSegment(directory, cleaned.base_offset, index_interval_bytes=config.index_interval_bytes,
                     max_index_bytes=config.segment_index_bytes, fs=fs)
    if new.needs_recovery:
        new.recover()
    new.created_ms = fs.mtime_ms(new.log_path)
    segments[first : first + len(old)] = [new]
    for seg in old:
        seg.close_without_trim()
    return deleted


def remove_files(fs: FileSystem, paths: Iterable[str]) -> None:
    for path in paths:
        fs.remove(path)
