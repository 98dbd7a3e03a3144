"""Loading a partition dir at start-up, with recovery after an unclean shutdown (Kafka's ``LogLoader``, d.13).

1. leftovers: ``.cleaned``/``.deleted``/``.tmp`` files are removed, a ``.swap`` log replaces the
   segments whose base offsets it covers and is renamed into place (its indexes rebuilt), index
   files without a ``.log`` are deleted;
2. every ``.log`` is opened in offset order; one whose ``.index`` is missing or fails its sanity
   check is recovered right away, clean start or not (a missing ``.timeindex`` is created empty);
3. unclean start: every segment from the one holding the recovery point is recovered in order;
   the first one that had to be truncated ends it, and all later segments are deleted;
4. a log end below the log start offset empties the log; an empty dir gets one segment at the
   log start offset;
5. the recovery point becomes min(checkpoint, log end) after an unclean start, the log end after a clean one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kafkatools.storage.config import LONG_MAX, LogConfig
from kafkatools.storage.entries import MIN_HEADER, entry_info
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.names import (
    CLEANED_SUFFIX,
    DELETED_SUFFIX,
    INDEX_SUFFIX,
    LOG_SUFFIX,
    SWAP_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
    offset_from_file_name,
)
from kafkatools.storage.segment import LogSegment


@dataclass(slots=True)
class LoadResult:
    segments: list[LogSegment]
    log_start_offset: int
    recovery_point: int
    truncated_bytes: int  # bytes cut from torn/corrupt tails
    deleted_segments: int  # segments dropped because they followed a corruption point


def _swap_next_offset(path: str, fs: FileSystem) -> int:
    """The offset after the last whole entry of a ``.swap`` log (its base offset when it holds none)."""
    data = fs.read_bytes(path)
    next_offset = offset_from_file_name(os.path.basename(path))
    pos = 0
    while (info := entry_info(data, pos, pos)) is not None and info.size >= MIN_HEADER and pos + info.size <= len(data):
        next_offset = info.next_offset
        pos += info.size
    return next_offset


def _clean_leftovers(directory: str, fs: FileSystem) -> None:
    """Undo or finish an interrupted cleaner swap (Kafka's ``LogLoader.removeTempFilesAndCollectSwapFiles``).

    ``.cleaned`` files were never swapped in: removed, and so is any ``.swap`` at or above the
    lowest of them (its group's swap did not complete).  A ``.log.swap`` replaces every ``.log``
    whose base offset lies in ``[swap base, swap next offset)``: the old segments it was cleaned from.
    """
    names = fs.listdir(directory)
    cleaned = [offset_from_file_name(n) for n in names if n.endswith(CLEANED_SUFFIX)]
    min_cleaned = min(cleaned, default=LONG_MAX)
    for name in names:
        path = os.path.join(directory, name)
        stale_swap = name.endswith(SWAP_SUFFIX) and offset_from_file_name(name) >= min_cleaned
        if stale_swap or name.endswith((CLEANED_SUFFIX, DELETED_SUFFIX, ".tmp")):
            fs.remove(path)
    swaps = sorted(n for n in fs.listdir(directory) if n.endswith(LOG_SUFFIX + SWAP_SUFFIX))
    for name in swaps:
        path = os.path.join(directory, name)
        base = offset_from_file_name(name)
        end = _swap_next_offset(path, fs)
        for other in fs.listdir(directory):
            stem = other[: -len(LOG_SUFFIX)]
            if other.endswith(LOG_SUFFIX) and stem.isdigit() and base <= int(stem) < max(end, base + 1):
                for suffix in (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX):
                    fs.remove(os.path.join(directory, stem + suffix))
        fs.rename(path, os.path.join(directory, name[: -len(SWAP_SUFFIX)]))
        txn = os.path.join(directory, name[: -len(LOG_SUFFIX + SWAP_SUFFIX)] + TXN_INDEX_SUFFIX)
        if fs.exists(txn + SWAP_SUFFIX):  # aborted transactions cannot be rebuilt from the log: keep them
            fs.rename(txn + SWAP_SUFFIX, txn)
    for name in fs.listdir(directory):
        if name.endswith(SWAP_SUFFIX):  # offset/time indexes of a swapped-in log: rebuilt from the log instead
            fs.remove(os.path.join(directory, name))
    logs = {n[: -len(LOG_SUFFIX)] for n in fs.listdir(directory) if n.endswith(LOG_SUFFIX)}
    for name in fs.listdir(directory):
        for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX):
            if name.endswith(suffix) and name[: -len(suffix)] not in logs:
                fs.remove(os.path.join(directory, name))


def new_segment(directory: str, base_offset: int, config: LogConfig, fs: FileSystem, now_ms: int) -> LogSegment:
    seg = LogSegment(directory, base_offset, index_interval_bytes=config.index_interval_bytes,
                     max_index_bytes=config.segment_index_bytes, fs=fs, new=True)
    seg.created_ms = now_ms
    return seg


def load_segments(directory: str, config: LogConfig, fs: FileSystem, *, recovery_point: int,
                  log_start_offset: int, clean_shutdown: bool, now_ms: int) -> LoadResult:
    """Open (and if needed recover) every segment of one partition dir."""
    _clean_leftovers(directory, fs)
    bases = sorted(offset_from_file_name(n) for n in fs.listdir(directory)
                   if n.endswith(LOG_SUFFIX) and n[: -len(LOG_SUFFIX)].isdigit())
    segments: list[LogSegment] = []
    truncated = 0
    for base in bases:
        seg = LogSegment(directory, base, index_interval_bytes=config.index_interval_bytes,
                         max_index_bytes=config.segment_index_bytes, fs=fs)
        seg.created_ms = fs.mtime_ms(seg.log_path)
        segments.append(seg)
        if seg.needs_recovery:  # missing or bad index (e.g. a swapped-in cleaned segment): rebuild now
            truncated += seg.recover()
    deleted = 0
    if not clean_shutdown and segments:
        start = 0
        for i, seg in enumerate(segments):
            if seg.base_offset <= recovery_point:
                start = i
        for i in range(start, len(segments)):
            cut = segments[i].recover()
            truncated += cut
            if cut or (i + 1 < len(segments) and segments[i + 1].base_offset < segments[i].next_offset):
                for later in segments[i + 1 :]:
                    later.delete()
                    deleted += 1
                del segments[i + 1 :]
                break
    log_end = segments[-1].next_offset if segments else log_start_offset
    if segments and log_end < log_start_offset:
        for seg in segments:
            seg.delete()
            deleted += 1
        segments = []
    if not segments:
        segments.append(new_segment(directory, log_start_offset, config, fs, now_ms))
    segments[-1].preallocate_indexes()
    log_end = segments[-1].next_offset
    return LoadResult(
        segments=segments,
        log_start_offset=max(log_start_offset, segments[0].base_offset),
        recovery_point=log_end if clean_shutdown else min(recovery_point, log_end),
        truncated_bytes=truncated,
        deleted_segments=deleted,
    )
