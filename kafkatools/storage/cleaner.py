"""Log compaction of one partition (Kafka's ``LogCleaner`` / ``Cleaner`` / ``LogCleanerManager``).

    [log start ........ first dirty) [first dirty ........ first uncleanable) [.... active segment]
           clean (cleaned before)              dirty: mapped key -> last offset      never cleaned

* first dirty: the ``cleaner-offset-checkpoint`` entry, or the log start when it is missing or
  outside [log start, log end];
* first uncleanable: the base offset of the first segment that is the active one, holds offsets at
  or past the high watermark, or (``min.compaction.lag.ms``) whose largest timestamp is newer than
  ``now - lag``.  Cleaning works on whole segments, so nothing at or above the HW is touched;
* dirty ratio = dirty bytes / (clean + dirty bytes); a log is cleaned when it is above
  ``min.cleanable.dirty.ratio`` (or ``max.compaction.lag.ms`` has passed for its dirty data), the
  dirtiest first.

A clean maps every key of the dirty range to its latest offset, rewrites every segment from the
log start to the first uncleanable offset in groups that fit ``segment.bytes`` and
``segment.index.bytes`` (record rule: ``cleaner_filter.py``; swap: ``cleaner_swap.py``), and the
checkpoint becomes the first uncleanable offset.  ``plan_clean`` (reads, writes ``.cleaned``
files; fine in a worker thread since it only touches inactive segments) and ``commit_clean``
(renames; must run where the log is appended to) split that for the broker.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from kafkatools.storage.cleaner_filter import batch_records, clean_entry
from kafkatools.storage.cleaner_swap import (
    CleanedSegment,
    StepHook,
    merge_txn_indexes,
    remove_files,
    swap_in,
    write_cleaned,
)
from kafkatools.storage.config import LONG_MAX
from kafkatools.storage.errors import StorageError
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.manager import LogManager
from kafkatools.storage.names import TopicPartition
from kafkatools.storage.segment import INT32_MAX, LogSegment
from kafkatools.wire import batch as wb

_PRODUCER_ID: Final = struct.Struct(">q")


@dataclass(frozen=True, slots=True)
class CleanableRange:
    first_dirty: int
    first_uncleanable: int
    clean_bytes: int
    dirty_bytes: int
    needs_compaction_now: bool  # max.compaction.lag.ms passed for some dirty data

    @property
    def dirty_ratio(self) -> float:
        total = self.clean_bytes + self.dirty_bytes
        return self.dirty_bytes / total if total else 0.0


def cleanable_range(log: PartitionLog, checkpoint: int | None, now_ms: int) -> CleanableRange:
    cfg = log.config
    first_dirty = checkpoint if checkpoint is not None else log.log_start_offset
    if not log.log_start_offset <= first_dirty <= log.log_end_offset:
        first_dirty = log.log_start_offset
    segments = list(log.segments)
    uncleanable = segments[-1].base_offset
    for seg in segments[:-1]:
        if seg.next_offset > log.high_watermark or (
                cfg.min_compaction_lag_ms > 0 and seg.largest_timestamp() > now_ms - cfg.min_compaction_lag_ms):
            uncleanable = seg.base_offset
            break
    first_dirty = min(first_dirty, uncleanable)
    clean = dirty = 0
    overdue = False
    for seg in segments[:-1]:
        if seg.base_offset >= uncleanable:
            break
        if seg.next_offset <= first_dirty:
            clean += seg.size
        else:
            dirty += seg.size
            lag = cfg.max_compaction_lag_ms
            if lag < LONG_MAX and 0 <= seg.rolling_timestamp() < now_ms - lag:
                overdue = True
    return CleanableRange(first_dirty, uncleanable, clean, dirty, overdue and dirty > 0)


def should_clean(log: PartitionLog, rng: CleanableRange) -> bool:
    if not log.config.compact or rng.dirty_bytes == 0:
        return False
    return rng.needs_compaction_now or rng.dirty_ratio > log.config.min_cleanable_dirty_ratio


def _entries(seg: LogSegment) -> Iterator[tuple[int, bytes]]:
    for info in seg.scan():
        yield info.last_offset, seg.read_entry(info)


def build_offset_map(segments: Iterable[LogSegment], start: int, end: int) -> dict[bytes, int]:
    """key -> offset of its last record in [start, end), over non-transactional data batches."""
    offsets: dict[bytes, int] = {}
    for seg in segments:
        if seg.next_offset <= start or seg.base_offset >= end:
            continue
        for last, entry in _entries(seg):
            if last < start or entry[wb.MAGIC_OFFSET] != wb.MAGIC_V2:
                continue
            header, records = batch_records(entry)
            if header.is_control or header.is_transactional:
                continue
            for rec in records:
                if rec.key is not None and start <= rec.offset < end:
                    offsets[rec.key] = rec.offset
    return offsets


def last_batch_of_producers(segments: Iterable[LogSegment]) -> dict[int, int]:
    """producer id -> last offset of its last batch in the log (those batches are kept even when emptied)."""
    last: dict[int, int] = {}
    for seg in segments:
        for info in seg.scan():
            if info.magic == wb.MAGIC_V2:
                pid = _PRODUCER_ID.unpack(seg.fs.pread(seg.log_file, 8, info.position + 43))[0]
                if pid >= 0:
                    last[pid] = info.last_offset
    return last


def group_segments(segments: list[LogSegment], max_bytes: int, max_index_bytes: int) -> list[list[LogSegment]]:
    """Consecutive runs whose summed sizes fit one segment and whose offsets fit its relative offsets."""
    groups: list[list[LogSegment]] = []
    i = 0
    while i < len(segments):
        group = [segments[i]]
        size, index = segments[i].size, len(segments[i].offset_index) * 8
        i += 1
        while i < len(segments):
            nxt = segments[i]
            if (size + nxt.size > max_bytes or index + len(nxt.offset_index) * 8 > max_index_bytes
                    or nxt.next_offset - 1 - group[0].base_offset > INT32_MAX):
                break
            group.append(nxt)
            size += nxt.size
            index += len(nxt.offset_index) * 8
            i += 1
        groups.append(group)
    return groups


@dataclass(slots=True)
class CleanPlan:
    """Cleaned segments written next to the log, waiting for ``commit_clean``."""

    range: CleanableRange
    groups: list[tuple[list[LogSegment], list[int], CleanedSegment]] = field(default_factory=list)
    map_size: int = 0
    bytes_read: int = 0
    bytes_written: int = 0


def plan_clean(log: PartitionLog, rng: CleanableRange, now_ms: int) -> CleanPlan:
    """Map the dirty range and write the cleaned copies of [log start, first uncleanable) as ``.cleaned`` files."""
    plan = CleanPlan(rng)
    segments = [s for s in list(log.segments)[:-1] if s.base_offset < rng.first_uncleanable]
    offset_map = build_offset_map(segments, rng.first_dirty, rng.first_uncleanable)
    plan.map_size = len(offset_map)
    producers = last_batch_of_producers(list(log.segments))
    cfg = log.config
    try:
        for group in group_segments(segments, cfg.segment_bytes, cfg.segment_index_bytes):

            def cleaned(group: list[LogSegment] = group) -> Iterator[bytes]:
                for seg in group:
                    for last, entry in _entries(seg):
                        plan.bytes_read += len(entry)
                        out = clean_entry(entry, offset_map, now_ms=now_ms, delete_retention_ms=cfg.delete_retention_ms,
                                          retain_empty=_producer_of(entry, producers) == last)
                        if out is not None:
                            yield out

            written = write_cleaned(log.directory, group[0].base_offset, cleaned(), cfg, log.fs)
            merge_txn_indexes(written, group, log.fs)
            plan.bytes_written += written.size
            plan.groups.append((group, [s.size for s in group], written))
    except BaseException:
        discard_plan(log, plan)
        raise
    return plan


def _producer_of(entry: bytes, producers: dict[int, int]) -> int:
    """The last offset of this batch's producer's last batch, or -2 when it has no producer."""
    if entry[wb.MAGIC_OFFSET] != wb.MAGIC_V2:
        return -2
    pid = _PRODUCER_ID.unpack_from(entry, 43)[0]
    return producers.get(pid, -2) if pid >= 0 else -2


def discard_plan(log: PartitionLog, plan: CleanPlan) -> None:
    for _, _, written in plan.groups:
        written.discard(log.fs)
    plan.groups = []


def plan_is_current(log: PartitionLog, plan: CleanPlan) -> bool:
    """No segment of the plan was deleted, truncated or made active since it was written."""
    live = {id(s) for s in log.segments[:-1]}
    return all(id(s) in live and s.size == size
               for group, sizes, _ in plan.groups for s, size in zip(group, sizes, strict=True))


def commit_clean(log: PartitionLog, plan: CleanPlan, *, on_step: StepHook | None = None,
                 defer_delete: bool = False) -> list[str]:
    """Swap every cleaned group in (renames only).  Returns ``.deleted`` paths left when ``defer_delete``.

    A plan overtaken by retention or truncation is discarded (StorageError)."""
    if not plan_is_current(log, plan):
        discard_plan(log, plan)
        raise StorageError(f"log {log.topic_partition} changed while it was being cleaned")
    leftovers: list[str] = []
    for group, _, written in plan.groups:
        leftovers += swap_in(log.segments, group, written, log.config, log.fs, on_step=on_step)
    plan.groups = []
    if not defer_delete:
        remove_files(log.fs, leftovers)
        return []
    return leftovers


def clean_log(log: PartitionLog, checkpoint: int | None, now_ms: int, *, force: bool = False,
              on_step: StepHook | None = None) -> int | None:
    """Clean ``log`` now if its dirty ratio (or ``force``) says so; returns the new checkpoint or None."""
    rng = cleanable_range(log, checkpoint, now_ms)
    if not (should_clean(log, rng) or (force and log.config.compact and rng.dirty_bytes)):
        return None
    plan = plan_clean(log, rng, now_ms)
    commit_clean(log, plan, on_step=on_step)
    return rng.first_uncleanable


def filthiest_log(manager: LogManager, now_ms: int,
                  skip: Iterable[TopicPartition] = ()) -> tuple[TopicPartition, PartitionLog, CleanableRange] | None:
    """The compacted log most in need of cleaning (overdue first, then highest dirty ratio), if any needs it."""
    best: tuple[tuple[bool, float], TopicPartition, PartitionLog, CleanableRange] | None = None
    excluded = set(skip)
    for tp, log in list(manager.logs.items()):
        if tp in excluded or not log.config.compact:
            continue
        rng = cleanable_range(log, manager.cleaner_checkpoint(tp), now_ms)
        if should_clean(log, rng):
            score = (rng.needs_compaction_now, rng.dirty_ratio)
            if best is None or score > best[0]:
                best = (score, tp, log, rng)
    return None if best is None else (best[1], best[2], best[3])
