"""One partition's log: its segments, offsets and policies (Kafka's ``UnifiedLog`` + ``LocalLog``).

Offsets this object keeps (all persisted by the LogManager in the log dir's checkpoint files):

    log_start_offset   first readable offset (retention, DeleteRecords)   log-start-offset-checkpoint
    recovery_point     first offset not known to be fsynced               recovery-point-offset-checkpoint
    high_watermark     last committed offset + 1 (set by the broker)      replication-offset-checkpoint
    log_end_offset     next offset to assign

The leader path patches base offset and partition leader epoch into the produced batches (both
outside the CRC) and writes the whole set with one write; the follower path keeps the offsets it is
given.  No threads: flush and retention run when the owner calls them.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_right
from collections.abc import Callable
from typing import Final

from kafkatools import errors
from kafkatools.storage.config import LogConfig
from kafkatools.storage.entries import entry_info, record_timestamps
from kafkatools.storage.errors import InvalidOffsetError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem
from kafkatools.storage.leader_epoch import LeaderEpochCache
from kafkatools.storage.metadata_files import read_partition_metadata, write_partition_metadata
from kafkatools.storage.names import LEADER_EPOCH_CHECKPOINT, PARTITION_METADATA, TopicPartition
from kafkatools.storage.recovery import LoadResult, load_segments, new_segment
from kafkatools.storage.segment import FileSlice, LogSegment
from kafkatools.wire import batch as wb

_V2_FIELDS: Final = struct.Struct(">qiib")  # base offset, batch length, leader epoch, magic
_I32: Final = struct.Struct(">i")
_HEAD16: Final = struct.Struct(">qii")  # base offset, batch length, leader epoch
_I64: Final = struct.Struct(">q")


def _wall_clock_ms() -> int:
    import time

    return int(time.time() * 1000)


class PartitionLog:
    """The log of one partition in ``<log dir>/<topic>-<partition>``."""

    def __init__(self, directory: str, topic_partition: TopicPartition, config: LogConfig, *,
                 fs: FileSystem = DEFAULT_FS, clock: Callable[[], int] = _wall_clock_ms,
                 recovery_point: int = 0, log_start_offset: int = 0, high_watermark: int = 0,
                 clean_shutdown: bool = False) -> None:
        self.directory = directory
        self.topic_partition = topic_partition
        self.config = config
        self.fs = fs
        self.clock = clock
        fs.makedirs(directory)
        self.leader_epoch_cache = LeaderEpochCache(os.path.join(directory, LEADER_EPOCH_CHECKPOINT), fs)
        loaded: LoadResult = load_segments(directory, config, fs, recovery_point=recovery_point,
                                           log_start_offset=log_start_offset, clean_shutdown=clean_shutdown,
                                           now_ms=clock())
        self.load_result = loaded
        self.segments: list[LogSegment] = loaded.segments
        self.log_start_offset = loaded.log_start_offset
        self.recovery_point = loaded.recovery_point
        self._high_watermark = 0
        self.high_watermark = high_watermark
        self.last_flush_ms = clock()
        self.leader_epoch_cache.truncate_from_end(self.log_end_offset)
        self.leader_epoch_cache.truncate_from_start(self.log_start_offset)
        self.topic_id: str | None = read_partition_metadata(self._metadata_path, fs)

    # -- offsets -----------------------------------------------------------------------------
    @property
    def active_segment(self) -> LogSegment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        return self.segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    @high_watermark.setter
    def high_watermark(self, value: int) -> None:
        """Kept within [log start, log end] as Kafka does."""
        self._high_watermark = max(self.log_start_offset, min(int(value), self.log_end_offset))

    @property
    def size_in_bytes(self) -> int:
        return sum(s.size for s in self.segments)

    @property
    def _metadata_path(self) -> str:
        return os.path.join(self.directory, PARTITION_METADATA)

    def set_topic_id(self, topic_id: str) -> None:
        """Write partition.metadata (fsynced) unless it already holds this id."""
        if self.topic_id != topic_id:
            write_partition_metadata(self._metadata_path, topic_id, self.fs)
            self.topic_id = topic_id

    # -- append ------------------------------------------------------------------------------
    def append(self, records: bytes | bytearray | memoryview, leader_epoch: int = -1) -> int:
        """Leader append of validated v2 batches; assigns offsets from the log end.  Returns the first offset.

        A ``bytearray`` is patched in place (base offset, leader epoch) and written with one pwrite;
        immutable input is written with one pwritev of patched 16-byte headers and the untouched rest,
        so the records are never copied."""
        in_place = isinstance(records, bytearray)
        view = memoryview(records)
        buffers: list[bytes | bytearray | memoryview] = []
        first = offset = self.log_end_offset
        max_ts, offset_of_max = -1, first
        pos, end = 0, len(view)
        while pos < end:
            if end - pos < wb.HEADER_SIZE:
                raise errors.CorruptRecordError(f"{end - pos} trailing bytes at position {pos} are not a batch")
            _, length, _, magic = _V2_FIELDS.unpack_from(view, pos)
            size = length + wb.LOG_OVERHEAD
            if magic != wb.MAGIC_V2 or size < wb.HEADER_SIZE or pos + size > end:
                raise errors.CorruptRecordError(f"leader append needs v2 batches; entry at {pos} has magic {magic}")
            if in_place:
                _I64.pack_into(view, pos, offset)
                _I32.pack_into(view, pos + 12, leader_epoch)
            else:
                buffers.append(_HEAD16.pack(offset, length, leader_epoch))
                buffers.append(view[pos + 16 : pos + size])
            last = offset + _I32.unpack_from(view, pos + 23)[0]
            ts = _I64.unpack_from(view, pos + 35)[0]
            if ts > max_ts:
                max_ts, offset_of_max = ts, last
            offset = last + 1
            pos += size
        if offset == first:
            raise errors.CorruptRecordError("append without record batches")
        self._write(first, offset - 1, max_ts, offset_of_max, view if in_place else buffers)
        if leader_epoch >= 0:
            self.leader_epoch_cache.assign(leader_epoch, first)
        return first

    def append_as_follower(self, records: bytes | bytearray | memoryview) -> int:
        """Append entries that already carry offsets (replication); they must increase from the log end.

        Returns the last offset appended.  Raises InvalidOffsetError when offsets go backwards."""
        view = memoryview(records)
        expected = self.log_end_offset
        first = -1
        max_ts, offset_of_max = -1, expected
        epochs: list[tuple[int, int]] = []
        pos = 0
        while pos < len(view):
            info = entry_info(view, pos, pos)
            if info is None or info.size < wb.LOG_OVERHEAD + 14 or pos + info.size > len(view):
                raise errors.CorruptRecordError(f"follower append: incomplete entry at position {pos}")
            if info.base_offset < expected:
                raise InvalidOffsetError(
                    f"Out of order offsets for {self.topic_partition}: entry at {info.base_offset}, expected >= "
                    f"{expected}")
            first = info.base_offset if first < 0 else first
            if info.max_timestamp > max_ts:
                max_ts, offset_of_max = info.max_timestamp, info.last_offset
            if info.magic == wb.MAGIC_V2 and info.leader_epoch >= 0:
                epochs.append((info.leader_epoch, info.base_offset))
            expected = info.next_offset
            pos += info.size
        if first < 0:
            return self.log_end_offset - 1
        self._write(first, expected - 1, max_ts, offset_of_max, view)
        for epoch, start in epochs:
            self.leader_epoch_cache.assign(epoch, start)
        return expected - 1

    def _write(self, first: int, last: int, max_ts: int, offset_of_max: int,
               data: bytes | bytearray | memoryview | list[bytes | bytearray | memoryview]) -> None:
        seg = self.active_segment
        size = sum(len(b) for b in data) if isinstance(data, list) else len(data)
        if seg.should_roll(messages_size=size, max_timestamp=max_ts, max_offset=last, now_ms=self.clock(),
                           segment_bytes=self.config.segment_bytes,
                           segment_ms=self.config.segment_ms - self.config.segment_jitter_ms):
            seg = self.roll(first)
        seg.append(last, max_ts, offset_of_max, data)
        if self.log_end_offset - self.recovery_point >= self.config.flush_messages:
            self.flush()

    def roll(self, base_offset: int | None = None) -> LogSegment:
        """Start a new active segment at ``base_offset`` (default: the log end); flushes the old one."""
        old = self.active_segment
        base = self.log_end_offset if base_offset is None else base_offset
        if old.size == 0 and old.base_offset == base:
            return old
        old.on_become_inactive()
        self.flush(base)
        seg = new_segment(self.directory, base, self.config, self.fs, self.clock())
        self.segments.append(seg)
        self.fs.fsync_dir(self.directory)
        return seg

    # -- read --------------------------------------------------------------------------------
    def _floor_index(self, offset: int) -> int:
        i = bisect_right([s.base_offset for s in self.segments], offset) - 1
        return max(i, 0)

    def read(self, offset: int, max_bytes: int, max_offset: int | None = None,
             min_one_batch: bool = True) -> FileSlice | None:
        """Entries from the one holding ``offset``, up to ``max_bytes`` and below ``max_offset``.

        With ``min_one_batch`` a first entry bigger than ``max_bytes`` is still returned whole.
        None when there is nothing to return; OFFSET_OUT_OF_RANGE outside [log start, log end]."""
        leo = self.log_end_offset
        if offset < self.log_start_offset or offset > leo:
            raise errors.KafkaError(
                errors.OFFSET_OUT_OF_RANGE,
                f"Received request for offset {offset} for partition {self.topic_partition}, but we only have "
                f"log segments in the range {self.log_start_offset} to {leo}.")
        upper = leo if max_offset is None else min(max_offset, leo)
        if offset >= upper:
            return None
        for i in range(self._floor_index(offset), len(self.segments)):
            seg = self.segments[i]
            if seg.base_offset >= upper:
                return None
            max_position: int | None = None
            if upper < seg.next_offset:
                hit = seg.translate_offset(upper)
                max_position = hit.position if hit is not None else seg.size
            found = seg.read(offset, max_bytes, max_position, min_one_batch)
            if found is not None:
                return found if found.length else None
        return None

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """``(offset, timestamp)`` of the first record with timestamp >= ``timestamp`` (ListOffsets)."""
        for seg in self.segments:
            if seg.max_timestamp >= timestamp and seg.next_offset > self.log_start_offset:
                found = seg.find_offset_by_timestamp(timestamp, self.log_start_offset)
                if found is not None:
                    return found
        return None

    def max_timestamp_and_offset(self) -> tuple[int, int] | None:
        """``(timestamp, offset)`` of the record with the largest timestamp (ListOffsets -3)."""
        best: LogSegment | None = None
        for seg in self.segments:
            if seg.size and (best is None or seg.max_timestamp > best.max_timestamp):
                best = seg
        if best is None or best.max_timestamp < 0:
            return None
        info = best.translate_offset(best.offset_of_max_timestamp)
        if info is not None:
            for rec_offset, rec_ts in record_timestamps(best.read_entry(info)) or []:
                if rec_ts == best.max_timestamp:
                    return rec_ts, rec_offset
        return best.max_timestamp, best.offset_of_max_timestamp

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        return self.leader_epoch_cache.end_offset_for(epoch, self.log_end_offset)

    # -- deletion and truncation --------------------------------------------------------------
    def _delete_oldest(self, should_delete: Callable[[LogSegment, LogSegment], bool]) -> int:
        """Delete segments from the oldest while the rule holds; never the active one, never past the HW."""
        deleted = 0
        while len(self.segments) > 1:
            seg, after = self.segments[0], self.segments[1]
            if not (after.base_offset <= self.high_watermark and should_delete(seg, after)):
                break
            self.segments.pop(0)
            seg.delete()
            deleted += 1
        if deleted:
            self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
            self.leader_epoch_cache.truncate_from_start(self.log_start_offset)
        return deleted

    def advance_log_start_offset(self, offset: int) -> bool:
        """DeleteRecords: move the log start forward (up to the log end) and drop whole segments below it."""
        if offset <= self.log_start_offset:
            return False
        if offset > self.log_end_offset:
            raise errors.KafkaError(errors.OFFSET_OUT_OF_RANGE,
                                    f"Cannot increment the log start offset to {offset} of partition "
                                    f"{self.topic_partition} since it is larger than the log end offset "
                                    f"{self.log_end_offset}")
        self.log_start_offset = offset
        self.high_watermark = self.high_watermark
        self.leader_epoch_cache.truncate_from_start(offset)
        self._delete_oldest(lambda _seg, after: after.base_offset <= self.log_start_offset)
        return True

    def apply_retention(self, now_ms: int) -> int:
        """Delete segments past ``retention.ms`` / ``retention.bytes`` or below the log start; returns the count."""
        deleted = 0
        if "delete" in self.config.cleanup_policy:
            if self.config.retention_ms >= 0:
                limit = self.config.retention_ms
                deleted += self._delete_oldest(lambda seg, _after: now_ms - seg.largest_timestamp() > limit)
            if self.config.retention_bytes >= 0:
                excess = [self.size_in_bytes - self.config.retention_bytes]

                def over_size(seg: LogSegment, _after: LogSegment) -> bool:
                    if excess[0] - seg.size < 0:
                        return False
                    excess[0] -= seg.size
                    return True

                deleted += self._delete_oldest(over_size)
        deleted += self._delete_oldest(lambda _seg, after: after.base_offset <= self.log_start_offset)
        return deleted

    def truncate_to(self, offset: int) -> bool:
        """Replication: drop everything from ``offset`` on (whole later segments, then the tail of the one
        holding it).  Returns False when ``offset`` is at or past the log end."""
        if offset < 0:
            raise InvalidOffsetError(f"Cannot truncate partition {self.topic_partition} to a negative offset")
        if offset >= self.log_end_offset:
            return False
        if offset < self.segments[0].base_offset:
            self.truncate_fully_and_start_at(offset)
            return True
        while len(self.segments) > 1 and self.segments[-1].base_offset > offset:
            self.segments.pop().delete()
        active = self.active_segment
        active.truncate_to(offset)
        active.preallocate_indexes()
        self.log_start_offset = min(self.log_start_offset, self.log_end_offset)
        self.recovery_point = min(self.recovery_point, self.log_end_offset)
        self.high_watermark = min(self._high_watermark, self.log_end_offset)
        self.leader_epoch_cache.truncate_from_end(self.log_end_offset)
        return True

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Delete every segment and restart the log empty at ``offset``."""
        for seg in self.segments:
            seg.delete()
        self.segments = [new_segment(self.directory, offset, self.config, self.fs, self.clock())]
        self.log_start_offset = self.recovery_point = offset
        self._high_watermark = offset
        self.leader_epoch_cache.clear()

    # -- durability and life cycle ------------------------------------------------------------
    def flush(self, up_to: int | None = None) -> None:
        """fsync every segment holding offsets in [recovery point, up_to); the recovery point moves there."""
        target = self.log_end_offset if up_to is None else min(up_to, self.log_end_offset)
        if target <= self.recovery_point:
            return
        for seg in self.segments:
            if seg.next_offset > self.recovery_point and seg.base_offset < target:
                seg.flush()
        self.recovery_point = target
        self.last_flush_ms = self.clock()

    def flush_if_due(self, now_ms: int) -> bool:
        """``flush.ms``: flush when that long has passed since the last flush and data is unflushed."""
        if self.log_end_offset > self.recovery_point and now_ms - self.last_flush_ms >= self.config.flush_ms:
            self.flush()
            return True
        return False

    def update_config(self, config: LogConfig) -> None:
        self.config = config

    def close(self) -> None:
        """Clean close: flush, force final time-index entries, trim index files, release files."""
        self.flush()
        for seg in self.segments:
            seg.close()

    def close_unclean(self) -> None:
        """Release files without flushing or trimming: what a crash leaves (tests)."""
        for seg in self.segments:
            seg.close_without_trim()

    def delete_files(self) -> None:
        """Close and remove every segment file (the manager removes the directory)."""
        for seg in self.segments:
            seg.delete()
        self.segments = []
