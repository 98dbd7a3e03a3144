"""One segment: a ``.log`` file of log entries plus its ``.index`` and ``.timeindex`` (Kafka's ``LogSegment``).

    <dir>/<20-digit base offset>.log        entries back to back (v2 batches, or legacy messages)
    <dir>/<20-digit base offset>.index      sparse offset index (see index.py)
    <dir>/<20-digit base offset>.timeindex  sparse time index

Index rule (d.4/d.5): before an append, if more than ``index.interval.bytes`` were appended since
the last entry, add ``(last offset of this append -> its start position)`` and a time entry for the
max timestamp seen so far; the first batch of a segment never gets an entry.  Recovery rebuilds the
same way per entry.  Reads return a ``FileSlice`` the broker can ``sendfile``.
"""

from __future__ import annotations

import importlib
import io
import os
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from kafkatools.errors import CorruptRecordError
from kafkatools.storage.entries import MIN_HEADER, EntryInfo, entry_info, record_timestamps
from kafkatools.storage.errors import StorageError
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.index import OffsetIndex, TimeIndex
from kafkatools.storage.names import INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, segment_file_name
from kafkatools.wire import batch as wb

INT32_MAX: Final = 2**31 - 1
_SCAN_CHUNK: Final = 64 * 1024
_MIN_ENTRY: Final = wb.LOG_OVERHEAD + 14  # smallest legal entry: a v0 message with null key and value


@dataclass(frozen=True, slots=True)
class FileSlice:
    """``length`` bytes of a segment file from ``position``: what a Fetch sends with sendfile.

    ``file`` is a duplicate descriptor owned by the slice (closed when the slice is dropped), so the
    bytes stay readable after the segment itself is closed and unlinked.
    """

    file: io.FileIO
    path: str
    position: int
    length: int

    def __len__(self) -> int:
        return self.length

    def fileno(self) -> int:
        return self.file.fileno()

    def read_bytes(self) -> bytes:
        """The slice's bytes (for tools and down-conversion; the broker normally sendfiles)."""
        return os.pread(self.file.fileno(), self.length, self.position)


def _validate_legacy(data: bytes) -> None:
    """Check a magic 0/1 entry with ``wire.legacy.validate_entry`` (imported lazily: only old logs need it)."""
    try:
        legacy = importlib.import_module("kafkatools.wire.legacy")
    except ImportError:
        raise CorruptRecordError("magic 0/1 entry found but kafkatools.wire.legacy is not available") from None
    legacy.validate_entry(data)


class LogSegment:
    """A segment's files and the in-memory state Kafka keeps for it."""

    def __init__(self, directory: str, base_offset: int, *, index_interval_bytes: int, max_index_bytes: int,
                 fs: FileSystem, new: bool = False) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.index_interval_bytes = index_interval_bytes
        self.fs = fs
        self.log_path = os.path.join(directory, segment_file_name(base_offset, LOG_SUFFIX))
        index_path = os.path.join(directory, segment_file_name(base_offset, INDEX_SUFFIX))
        time_path = os.path.join(directory, segment_file_name(base_offset, TIME_INDEX_SUFFIX))
        #: True when the offset index was missing or failed its sanity check: the caller must recover()
        self.needs_recovery = not new and not fs.exists(index_path)
        self.log_file = fs.open(self.log_path)
        if new:
            fs.truncate(self.log_file, 0)
        self.size = fs.size(self.log_file)
        self.offset_index = OffsetIndex(index_path, base_offset, max_index_bytes, fs,
                                        new=new or not fs.exists(index_path))
        self.time_index = TimeIndex(time_path, base_offset, max_index_bytes, fs,
                                    new=new or not fs.exists(time_path))
        if not new and not self.needs_recovery:
            problem = self.offset_index.sanity_problem() or self.time_index.sanity_problem()
            if problem is None and self.offset_index.values and self.offset_index.values[-1] >= self.size:
                problem = f"index {self.offset_index.path} points past the end of {self.log_path}"
            self.needs_recovery = problem is not None
        self.bytes_since_last_index_entry = 0
        self.max_timestamp, self.offset_of_max_timestamp = self.time_index.last_entry
        self.next_offset = base_offset
        self._rolling_timestamp: int | None = None
        self.created_ms = 0
        if not new and not self.needs_recovery:
            self._load_tail()

    # -- scanning ----------------------------------------------------------------------------
    def scan(self, start: int = 0, end: int | None = None) -> Iterator[EntryInfo]:
        """Entry headers from byte ``start`` up to ``end``; stops silently at a partial trailing entry."""
        end = self.size if end is None else end
        pos = start
        buf = b""
        buf_start = pos
        while end - pos >= MIN_HEADER:
            off = pos - buf_start
            info = entry_info(buf, off, pos)
            if info is None:
                buf = self.fs.pread(self.log_file, min(_SCAN_CHUNK, end - pos), pos)
                buf_start, off = pos, 0
                info = entry_info(buf, 0, pos)
                if info is None:
                    return
            if info.size < _MIN_ENTRY or pos + info.size > end:
                return
            yield info
            pos += info.size

    def _load_tail(self) -> None:
        """After a clean load: the next offset from the entries after the last index entry."""
        start = self.offset_index.values[-1] if len(self.offset_index) else 0
        last = None
        for info in self.scan(start):
            last = info
        self.next_offset = last.next_offset if last is not None else self.base_offset
        if last is None and start:
            self.next_offset = self.offset_index.keys[-1] + 1
        self.bytes_since_last_index_entry = self.size - start

    def _rescan(self) -> None:
        """Recompute next offset and max timestamp from every entry (after a truncation)."""
        self.next_offset = self.base_offset
        self.max_timestamp, self.offset_of_max_timestamp = -1, self.base_offset
        for info in self.scan():
            self.next_offset = info.next_offset
            if info.max_timestamp > self.max_timestamp:
                self.max_timestamp, self.offset_of_max_timestamp = info.max_timestamp, info.last_offset
        last_position = self.offset_index.values[-1] if len(self.offset_index) else 0
        self.bytes_since_last_index_entry = self.size - last_position

    # -- append ------------------------------------------------------------------------------
    def can_hold_offset(self, offset: int) -> bool:
        return 0 <= offset - self.base_offset <= INT32_MAX

    def append(self, largest_offset: int, largest_timestamp: int, offset_of_largest_timestamp: int,
               data: bytes | bytearray | memoryview | list[bytes | bytearray | memoryview]) -> None:
        """Write one append set at the end of the segment with a single write call.

        ``data`` may be a list of buffers (written back to back with one pwritev), which lets the
        log patch headers of an immutable ``bytes`` input without copying the records."""
        size = sum(len(b) for b in data) if isinstance(data, list) else len(data)
        if not size:
            return
        if not self.can_hold_offset(largest_offset):
            raise StorageError(f"offset {largest_offset} does not fit segment {self.base_offset}")
        position = self.size
        if position == 0:
            self._rolling_timestamp = largest_timestamp
        if largest_timestamp > self.max_timestamp:
            self.max_timestamp, self.offset_of_max_timestamp = largest_timestamp, offset_of_largest_timestamp
        if self.bytes_since_last_index_entry > self.index_interval_bytes:
            self.offset_index.append(largest_offset, position)
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
            self.bytes_since_last_index_entry = 0
        if isinstance(data, list):
            self.fs.pwritev(self.log_file, data, position)
        else:
            self.fs.pwrite(self.log_file, data, position)
        self.size = position + size
        self.bytes_since_last_index_entry += size
        self.next_offset = largest_offset + 1

    def rolling_timestamp(self) -> int:
        """The first entry's max timestamp (what ``segment.ms`` counts from), -1 if unknown."""
        if self._rolling_timestamp is None:
            first = next(self.scan(0), None)
            self._rolling_timestamp = first.max_timestamp if first is not None else -1
        return self._rolling_timestamp

    def should_roll(self, *, messages_size: int, max_timestamp: int, max_offset: int, now_ms: int,
                    segment_bytes: int, segment_ms: int) -> bool:
        """Kafka's roll rule: size, age (segment.ms), a full index, or a relative-offset overflow."""
        rolling = self.rolling_timestamp() if self.size else -1
        waited = max_timestamp - rolling if rolling >= 0 else now_ms - self.created_ms
        return (self.size > segment_bytes - messages_size
                or (self.size > 0 and waited > segment_ms)
                or self.offset_index.is_full or self.time_index.is_full
                or not self.can_hold_offset(max_offset))

    # -- read --------------------------------------------------------------------------------
    def translate_offset(self, offset: int, start_position: int = 0) -> EntryInfo | None:
        """The first entry whose last offset is >= ``offset`` (None if past this segment)."""
        _, position = self.offset_index.lookup(offset)
        for info in self.scan(max(position, start_position)):
            if info.last_offset >= offset:
                return info
        return None

    def read(self, offset: int, max_bytes: int, max_position: int | None = None,
             min_one_batch: bool = True) -> FileSlice | None:
        """Bytes from the entry holding ``offset``: at most ``max_bytes`` (or the whole first entry when
        ``min_one_batch``), never past ``max_position``.  None when ``offset`` is past this segment."""
        info = self.translate_offset(offset)
        if info is None:
            return None
        limit = self.size if max_position is None else max_position
        wanted = max(max_bytes, info.size) if min_one_batch else max_bytes
        length = max(0, min(limit - info.position, wanted))
        if info.size < length < limit - info.position:  # max_bytes cuts an entry: stop before it
            length = self._whole_entries_end(info.position, info.position + length) - info.position
        # the slice's own descriptor: retention, compaction or deletion may close this segment's file
        # (and the kernel hand its number to another file) while the slice waits to be sent
        return FileSlice(io.FileIO(os.dup(self.log_file.fileno()), "rb", closefd=True), self.log_path,
                         info.position, length)

    def _whole_entries_end(self, start: int, end: int) -> int:
        """End of the last whole entry between ``start`` (an entry's position) and ``end``.

        Kafka sends a fetch's bytes up to ``max_bytes`` even when that splits the last batch, and the
        client throws the piece away (up to a batch per response: ~5% of a 10 MB fetch of 1 MB
        batches).  Index entries are entry positions, so scanning starts at the last one <= ``end``.
        """
        positions = self.offset_index.values
        i = bisect_right(positions, end)
        pos = positions[i - 1] if i and positions[i - 1] >= start else start
        last = pos
        for info in self.scan(pos, end):
            last = info.position + info.size
        return last

    def read_entry(self, info: EntryInfo) -> bytes:
        return self.fs.pread(self.log_file, info.size, info.position)

    def find_offset_by_timestamp(self, timestamp: int, starting_offset: int) -> tuple[int, int] | None:
        """``(offset, timestamp)`` of the first record at/after ``starting_offset`` with timestamp >= target."""
        _, ts_offset = self.time_index.lookup(timestamp)
        _, position = self.offset_index.lookup(max(ts_offset, starting_offset))
        for info in self.scan(position):
            if info.max_timestamp < timestamp or info.last_offset < starting_offset:
                continue
            records = record_timestamps(self.read_entry(info))
            if records is None:  # compressed: the batch's first offset and max timestamp
                return max(info.base_offset, starting_offset), info.max_timestamp
            for rec_offset, rec_ts in records:
                if rec_ts >= timestamp and rec_offset >= starting_offset:
                    return rec_offset, rec_ts
        return None

    def largest_timestamp(self) -> int:
        """Max timestamp in the segment, or the file's modification time when none (retention.ms)."""
        if self.max_timestamp >= 0:
            return self.max_timestamp
        return self.fs.mtime_ms(self.log_path)

    # -- recovery / truncation ----------------------------------------------------------------
    def recover(self) -> int:
        """Rebuild both indexes from the log, truncating at the first invalid entry; returns bytes cut."""
        self.offset_index.reset()
        self.time_index.reset()
        self.size = self.fs.size(self.log_file)
        self.max_timestamp, self.offset_of_max_timestamp = -1, self.base_offset
        valid = 0
        last_index_position = 0
        expected = self.base_offset
        while self.size - valid >= MIN_HEADER:
            info = self._validate_at(valid, expected)
            if info is None:
                break
            if info.max_timestamp > self.max_timestamp:
                self.max_timestamp, self.offset_of_max_timestamp = info.max_timestamp, info.last_offset
            if valid - last_index_position > self.index_interval_bytes:
                self.offset_index.append(info.last_offset, valid)
                self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
                last_index_position = valid
            valid += info.size
            expected = info.next_offset
        cut = self.size - valid
        if cut:
            self.fs.truncate(self.log_file, valid)
            self.size = valid
        self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp, skip_full_check=True)
        self.next_offset = expected
        self.bytes_since_last_index_entry = valid - last_index_position
        self._rolling_timestamp = None
        self.needs_recovery = False
        return cut

    def _validate_at(self, position: int, expected_offset: int) -> EntryInfo | None:
        """The entry at ``position`` if whole and valid (size, magic, CRC, increasing offsets), else None."""
        head = self.fs.pread(self.log_file, MIN_HEADER, position)
        size = int.from_bytes(head[8:12], "big", signed=True) + wb.LOG_OVERHEAD
        if size < _MIN_ENTRY or position + size > self.size:
            return None
        data = self.fs.pread(self.log_file, size, position)
        try:
            if data[wb.MAGIC_OFFSET] == wb.MAGIC_V2:
                wb.validate_batch(data)
            elif data[wb.MAGIC_OFFSET] in (0, 1):
                _validate_legacy(data)
            else:
                return None
        except CorruptRecordError:
            return None
        info = entry_info(data, 0, position)
        if info is None or info.base_offset < expected_offset or not self.can_hold_offset(info.last_offset):
            return None
        return info

    def truncate_to(self, offset: int) -> int:
        """Drop the entry holding ``offset`` and everything after it; returns bytes removed."""
        info = self.translate_offset(offset)
        if info is None:
            return 0
        keep = sum(1 for p in self.offset_index.values if p < info.position)
        self.offset_index._cut(keep)
        removed = self.size - info.position
        self.fs.truncate(self.log_file, info.position)
        self.size = info.position
        self._rescan()
        self.time_index.truncate_to(self.next_offset)
        if self.size == 0:
            self._rolling_timestamp = None
        return removed

    # -- life cycle ----------------------------------------------------------------------------
    def on_become_inactive(self) -> None:
        """At roll: force the final time-index entry and trim both index files to their entries."""
        self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp, skip_full_check=True)
        self.offset_index.trim()
        self.time_index.trim()

    def preallocate_indexes(self) -> None:
        """Make this the active segment again: index files back to their preallocated size."""
        self.offset_index.resize(self.offset_index.max_entries)
        self.time_index.resize(self.time_index.max_entries)

    def flush(self) -> None:
        self.fs.fsync(self.log_file)
        self.offset_index.flush()
        self.time_index.flush()

    def close(self) -> None:
        self.on_become_inactive()
        self.offset_index.close()
        self.time_index.close()
        self.fs.close(self.log_file)

    def close_without_trim(self) -> None:
        """Release the files as a crash would leave them (tests simulate unclean shutdowns with this)."""
        self.offset_index.close()
        self.time_index.close()
        self.fs.close(self.log_file)

    def delete(self) -> None:
        """Close and remove the segment's files, its ``.txnindex`` too when it has one (Kafka deletes it
        with the segment)."""
        self.offset_index.delete()
        self.time_index.delete()
        self.fs.close(self.log_file)
        self.fs.remove(self.log_path)
        txn_index = os.path.join(self.directory, segment_file_name(self.base_offset, TXN_INDEX_SUFFIX))
        if self.fs.exists(txn_index):
            self.fs.remove(txn_index)
