"""Loading a partition dir at start-up, with recovery after an unclean shutdown (Kafka's ``LogLoader``, d.13).

1. leftovers: ``.cleaned``/``.deleted``/``.tmp`` files are removed, a ``.swap`` log is renamed into
   place (its indexes rebuilt), index files without a ``.log`` are deleted;
2. every ``.log`` is opened in offset order; one whose ``.index`` is missing or fails its sanity
   check is recovered right away (a missing ``.timeindex`` is created empty);
3. unclean start: every segment from the one holding the recovery point is recovered in order;
   the first one that had to be truncated ends it, and all later segments are deleted;
4. a log end below the log start offset empties the log; an empty dir gets one segment at the
   log start offset;
5. the recovery point becomes min(checkpoint, log end) after an unclean start, the log end after a clean one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kafkatools.storage.config import LogConfig
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


def _clean_leftovers(directory: str, fs: FileSystem) -> None:
    names = fs.listdir(directory)
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith((CLEANED_SUFFIX, DELETED_SUFFIX, ".tmp")):
            fs.remove(path)
        elif name.endswith(LOG_SUFFIX + SWAP_SUFFIX):
            base = name[: -len(LOG_SUFFIX + SWAP_SUFFIX)]
            for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX):
                fs.remove(os.path.join(directory, base + suffix))
            fs.rename(path, os.path.join(directory, base + LOG_SUFFIX))
        elif name.endswith(SWAP_SUFFIX):
            fs.remove(path)
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
        if seg.needs_recovery and clean_shutdown:
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
