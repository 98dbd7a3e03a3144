"""Idempotent-producer bookkeeping for one partition: epochs and the last five batches' sequences.

Why five: a producer keeps at most five batches in flight per partition
(``max.in.flight.requests.per.connection`` <= 5 with idempotence), so a retried batch is always
one of the last five it sent; answering a retry with the original offsets (instead of appending
it again) is what makes the producer idempotent.  Kafka's ``ProducerStateManager`` keeps the
same window.  Checks, in Kafka's order: an older epoch -> INVALID_PRODUCER_EPOCH; a newer epoch
must start at sequence 0; a known batch -> duplicate; otherwise the first sequence must follow
the last one (wrapping at Int32.MAX) -> else OUT_OF_ORDER_SEQUENCE_NUMBER; an unknown producer
must start at 0 -> else UNKNOWN_PRODUCER_ID.

Surviving restarts (Kafka's ``ProducerStateManager``): ``ProducerStates.load(log)`` binds the table
to a partition log, restores the newest valid ``.snapshot`` at or below the log end and replays the
v2 batch headers after it (headers only, records are never decoded), then forgets producers whose
last batch lies below the log start.  A snapshot stores only each producer's last batch, so after a
restart the window holds that batch plus whatever the replay found.  A bound table writes a
snapshot when it sees the log roll a segment (named by the new segment's base offset, state as of
that offset) and at clean shutdown (``take_snapshot``), keeping the two newest.

Followers keep the table too (``replay_appended`` after each replicated append), so they write the
same roll snapshots and a promotion's ``reload`` replays at most the active segment.  A follower's
truncation drops the snapshots past the new log end and reloads (``truncated``), as Kafka's
truncateAndReload does: otherwise a later promotion would restore producers of the dropped tail.

Transactions: a transactional batch opens the producer's transaction at its first offset (kept in
``ongoing`` and in snapshots as currentTxnFirstOffset); a COMMIT/ABORT marker (``end_txn``) closes
it.  The earliest open transaction bounds the last stable offset (``first_unstable_offset``); an
abort also lands in the partition's aborted-transaction index (storage.txn_index), which replay
re-creates for markers after the snapshot when the index file lost them.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from kafkatools import errors
from kafkatools.storage import producer_snapshot as snap
from kafkatools.storage.errors import StorageError
from kafkatools.storage.txn_index import AbortedTxn, TransactionIndex
from kafkatools.wire import batch as wb
from kafkatools.wire.control import KEY_REACH, NOT_CONTROL, ControlType
from kafkatools.wire.control import kind_at as control_kind_at

if TYPE_CHECKING:
    from kafkatools.storage.log import PartitionLog

log = logging.getLogger("kafkatools.broker")

WINDOW = 5
INT32_MAX = 0x7FFFFFFF
SNAPSHOTS_KEPT = 2
_SCAN_CHUNK = 1 << 16
_MIN_ENTRY = wb.LOG_OVERHEAD + 5  # offset, size, and enough of the entry to see its magic


class BatchMeta(NamedTuple):
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerEntry:
    epoch: int
    batches: deque[BatchMeta] = field(default_factory=lambda: deque(maxlen=WINDOW))
    txn_first_offset: int = -1  # first offset of the open transaction, -1 when none
    coordinator_epoch: int = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else -1


def _next_seq(seq: int) -> int:
    return 0 if seq == INT32_MAX else seq + 1


class ProducerStates:
    """Per-partition table: producer id -> ProducerEntry."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}
        self._log: PartitionLog | None = None  # set by load(): snapshots are written next to this log
        self._segment_base = -1  # the active segment's base offset when last looked at
        self._dirty = True  # state differs from the newest snapshot file
        self.ongoing: dict[int, int] = {}  # producer id -> first offset of its open transaction
        self.aborted: TransactionIndex | None = None  # set by load()

    def check(self, producer_id: int, epoch: int, first_seq: int, last_seq: int) -> BatchMeta | None:
        """Validate an incoming batch; returns the original BatchMeta when it is a duplicate.

        Raises KafkaError with Kafka's error code when the batch must be rejected.
        """
        entry = self.producers.get(producer_id)
        if entry is None:
            if first_seq != 0:
                raise errors.KafkaError(
                    errors.UNKNOWN_PRODUCER_ID,
                    f"Found no record of producerId={producer_id} on the broker at sequence {first_seq}")
            return None
        if epoch < entry.epoch:
            raise errors.KafkaError(
                errors.INVALID_PRODUCER_EPOCH,
                f"Epoch of producer {producer_id} is {epoch}, which is smaller than the last seen epoch {entry.epoch}")
        if epoch > entry.epoch:
            if first_seq != 0:
                raise errors.KafkaError(
                    errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"Invalid sequence number for new epoch of producer {producer_id}: {epoch} (request epoch), "
                    f"{first_seq} (seq. number), {entry.epoch} (current producer epoch)")
            return None
        for meta in entry.batches:
            if meta.first_seq == first_seq and meta.last_seq == last_seq:
                return meta
        expected = _next_seq(entry.last_seq)
        if first_seq != expected:
            raise errors.KafkaError(
                errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"Out of order sequence number for producer {producer_id}: "
                f"{first_seq} (incoming seq. number), {entry.last_seq} (current end sequence number)")
        return None

    def record(self, producer_id: int, epoch: int, meta: BatchMeta, transactional: bool = False) -> None:
        if self._log is not None:
            self._dirty = True
            base = self._log.active_segment.base_offset
            if base > self._segment_base and meta.first_offset >= base:
                # The append that brought ``meta`` rolled the log (possibly after appends without
                # producer ids): the state right now is the state as of the new segment's base.
                # (A replayed follower blob records its batches below ``base`` first.)
                self._segment_base = base
                self._write_snapshot(base)
        entry = self.producers.get(producer_id)
        if entry is None or epoch > entry.epoch:
            entry = ProducerEntry(epoch)
            self.producers[producer_id] = entry
            self.ongoing.pop(producer_id, None)
        entry.batches.append(meta)
        if transactional and entry.txn_first_offset < 0:
            entry.txn_first_offset = meta.first_offset
            self.ongoing[producer_id] = meta.first_offset

    # -- transactions ------------------------------------------------------------------------------
    @property
    def first_unstable_offset(self) -> int | None:
        """First offset of the earliest open transaction (what bounds the LSO), None when none is open."""
        return min(self.ongoing.values()) if self.ongoing else None

    def in_transaction(self, producer_id: int) -> bool:
        return producer_id in self.ongoing

    def check_marker(self, producer_id: int, epoch: int) -> None:
        """A marker from an older epoch than the producer's is refused (a zombie coordinator's)."""
        entry = self.producers.get(producer_id)
        if entry is not None and epoch < entry.epoch:
            raise errors.KafkaError(errors.INVALID_PRODUCER_EPOCH,
                                    f"Marker epoch {epoch} of producer {producer_id} is older than {entry.epoch}")

    def end_txn(self, producer_id: int, epoch: int, marker_offset: int, commit: bool,
                coordinator_epoch: int, timestamp: int = -1) -> AbortedTxn | None:
        """A COMMIT/ABORT marker was written at ``marker_offset``: close the producer's transaction.

        Returns the aborted-transaction entry (also added to the index of a bound table) for an abort
        of an open transaction, else None."""
        if self._log is not None:
            self._dirty = True
        entry = self.producers.get(producer_id)
        if entry is None or epoch > entry.epoch:
            # A bumped epoch (fencing, timeout) starts a fresh sequence space, as the marker is its first write.
            entry = ProducerEntry(epoch, txn_first_offset=entry.txn_first_offset if entry else -1)
            self.producers[producer_id] = entry
        first = entry.txn_first_offset
        entry.txn_first_offset = -1
        entry.coordinator_epoch = coordinator_epoch
        self.ongoing.pop(producer_id, None)
        if commit or first < 0:
            return None
        unstable = self.first_unstable_offset
        lso = marker_offset + 1 if unstable is None else min(unstable, marker_offset + 1)
        aborted = AbortedTxn(producer_id, first, marker_offset, lso)
        if self.aborted is not None and self._log is not None:
            self.aborted.append(aborted, _segment_base_of(self._log, marker_offset))
        return aborted

    # -- snapshots and replay ----------------------------------------------------------------------
    def replay(self, h: wb.BatchHeader, control_kind: int = NOT_CONTROL) -> None:
        """Apply one stored batch header as the produce path would have recorded it.

        A batch at or below the producer's newest known offset is already in the table (replaying
        twice is harmless).  A transaction marker (``control_kind`` ABORT/COMMIT) closes the
        producer's transaction, re-adding an abort to the index when the index lost it."""
        if h.magic != wb.MAGIC_V2 or h.producer_id < 0:
            return
        if h.is_control:
            if control_kind in (ControlType.ABORT, ControlType.COMMIT) and h.is_transactional:
                entry = self.producers.get(h.producer_id)
                if entry is not None and entry.txn_first_offset > h.base_offset:
                    return  # a marker older than the transaction the snapshot knows
                self.end_txn(h.producer_id, h.producer_epoch, h.base_offset, control_kind == ControlType.COMMIT,
                             -1, h.max_timestamp)
            return
        if h.base_sequence >= 0:
            entry = self.producers.get(h.producer_id)
            if entry is not None and entry.batches and h.base_offset <= entry.batches[-1].last_offset:
                return
            self.record(h.producer_id, h.producer_epoch,
                        BatchMeta(h.base_sequence, h.last_sequence, h.base_offset, h.last_offset, h.max_timestamp),
                        h.is_transactional)

    def replay_appended(self, records: bytes | bytearray | memoryview) -> None:
        """Follower appends: replay the batches just written (their base offsets already assigned)."""
        for pos, _size in wb.iter_entries(records):
            if records[pos + wb.MAGIC_OFFSET] == wb.MAGIC_V2:
                h = wb.read_header(records, pos)
                self.replay(h, control_kind_at(records, pos) if h.is_control else NOT_CONTROL)

    def snapshot_entries(self) -> list[snap.SnapshotEntry]:
        """One entry per producer (its epoch and last batch), by producer id."""
        out: list[snap.SnapshotEntry] = []
        for pid in sorted(self.producers):
            entry = self.producers[pid]
            if entry.batches:
                b = entry.batches[-1]
                out.append(snap.SnapshotEntry(pid, entry.epoch, b.last_seq, b.last_offset,
                                              b.last_offset - b.first_offset, b.timestamp,
                                              entry.coordinator_epoch, entry.txn_first_offset))
            else:
                out.append(snap.SnapshotEntry(pid, entry.epoch, -1, -1, 0, -1, entry.coordinator_epoch,
                                              entry.txn_first_offset))
        return out

    def restore(self, entries: Iterable[snap.SnapshotEntry]) -> None:
        """Replace the table with a snapshot's producers (each with its last batch only)."""
        self.producers = {}
        self.ongoing = {}
        for e in entries:
            entry = ProducerEntry(e.producer_epoch, txn_first_offset=e.current_txn_first_offset,
                                  coordinator_epoch=e.coordinator_epoch)
            if e.current_txn_first_offset >= 0:
                self.ongoing[e.producer_id] = e.current_txn_first_offset
            if e.last_sequence >= 0 and e.last_offset >= 0:
                first_seq = (e.last_sequence - e.offset_delta) % (INT32_MAX + 1)
                entry.batches.append(BatchMeta(first_seq, e.last_sequence, e.last_offset - e.offset_delta,
                                               e.last_offset, e.timestamp))
            self.producers[e.producer_id] = entry

    def drop_below(self, log_start_offset: int) -> None:
        """Forget producers with no batch at or after the log start (their records are gone)."""
        gone = [p for p, e in self.producers.items() if e.txn_first_offset < 0
                and (not e.batches or e.batches[-1].last_offset < log_start_offset)]
        for pid in gone:
            del self.producers[pid]
        if self.aborted is not None:
            self.aborted.drop_below(log_start_offset)

    @classmethod
    def load(cls, plog: PartitionLog) -> ProducerStates:
        """A table bound to ``plog``: newest valid snapshot <= log end, then replay of later batch headers."""
        states = cls()
        states._log = plog
        states.reload()
        return states

    def reload(self) -> None:
        """Rebuild from disk; also what to call after the bound log was truncated."""
        plog = self._log
        if plog is None:
            raise ValueError("reload() needs a table created by ProducerStates.load(log)")
        leo = plog.log_end_offset
        snap.delete_snapshots_above(plog.directory, leo, plog.fs)

        def corrupt(path: str, e: Exception) -> None:
            log.warning("Ignoring producer snapshot %s: %s", path, e)

        found = snap.load_newest(plog.directory, leo, plog.fs, corrupt)
        self.aborted = TransactionIndex(plog.directory, plog.fs)
        self.aborted.load(leo)
        self._log = None  # replay must not write snapshots
        try:
            start = 0
            self.producers = {}
            self.ongoing = {}
            if found is not None:
                start = found[0]
                self.restore(found[1])
            replayed = 0
            for h, kind in iter_log_batches(plog, start):
                if kind in (ControlType.ABORT, ControlType.COMMIT) and h.is_transactional:
                    self._log = plog  # an abort found by replay goes back into the index
                    try:
                        self.replay(h, kind)
                    finally:
                        self._log = None
                else:
                    self.replay(h, kind)
                replayed += 1
            self.drop_below(plog.log_start_offset)
        finally:
            self._log = plog
        self._segment_base = plog.active_segment.base_offset
        self._dirty = found is None or found[0] != leo or replayed > 0

    def truncated(self, *, fully: bool = False) -> None:
        """The bound log lost its tail (a follower's KIP-101 truncation) or all of it (restarted empty).

        Snapshots past the new log end -- all of them after a full restart -- describe batches that
        are gone, and would be restored by the next ``reload`` (a promotion) as if they still existed.
        The table is then rebuilt from what is left."""
        plog = self._log
        if plog is None:
            return
        try:
            if fully:
                snap.delete_snapshots(plog.directory, lambda _o: False, plog.fs)
            else:
                snap.delete_snapshots_above(plog.directory, plog.log_end_offset, plog.fs)
        except (OSError, StorageError) as e:
            log.warning("Could not delete producer snapshots in %s after a truncation: %s", plog.directory, e)
        self.reload()

    def take_snapshot(self) -> str | None:
        """Write ``<log end>.snapshot`` (clean shutdown) unless the newest one already says the same.

        Never raises: a snapshot that cannot be written only costs a longer replay at the next start."""
        plog = self._log
        if plog is None or not self._dirty:
            return None
        if not self.producers and plog.log_end_offset == plog.segments[0].base_offset:
            return None  # nothing to restore and nothing to replay
        return self._write_snapshot(plog.log_end_offset)

    def _write_snapshot(self, offset: int) -> str | None:
        plog = self._log
        assert plog is not None
        self.drop_below(plog.log_start_offset)
        try:
            path = snap.write_snapshot(plog.directory, offset, self.snapshot_entries(), plog.fs)
            snap.retain_newest(plog.directory, SNAPSHOTS_KEPT, plog.fs)
        except (OSError, StorageError) as e:
            log.warning("Could not write a producer snapshot at offset %d in %s: %s", offset, plog.directory, e)
            return None
        self._dirty = offset != plog.log_end_offset
        return path


def _segment_base_of(plog: PartitionLog, offset: int) -> int:
    base = plog.segments[0].base_offset
    for seg in plog.segments:
        if seg.base_offset > offset:
            break
        base = seg.base_offset
    return int(base)


def iter_log_headers(plog: PartitionLog, start_offset: int) -> Iterator[wb.BatchHeader]:
    """Headers of the stored v2 batches whose last offset is >= ``start_offset`` (see iter_log_batches)."""
    for h, _kind in iter_log_batches(plog, start_offset):
        yield h


def iter_log_batches(plog: PartitionLog, start_offset: int) -> Iterator[tuple[wb.BatchHeader, int]]:
    """``(header, control kind)`` of the stored v2 batches whose last offset is >= ``start_offset``.

    Reads headers only, plus the key of a control batch's record (a few bytes, markers.control_kind_at).

    Segment files are read in 64 KiB windows at batch boundaries, so a large batch costs one read of
    its first bytes, not of all of it.  Legacy (magic 0/1) entries are skipped; a partial trailing
    entry ends the segment (recovery has already cut torn tails)."""
    fs = plog.fs
    for seg in list(plog.segments):
        if seg.next_offset <= start_offset:
            continue
        f = fs.open(seg.log_path, create=False)
        try:
            end, pos = int(seg.size), 0
            window, wpos = b"", 0
            while end - pos >= _MIN_ENTRY:
                off = pos - wpos
                if len(window) - off < wb.HEADER_SIZE and wpos + len(window) < end:
                    window, wpos, off = fs.pread(f, min(_SCAN_CHUNK, end - pos), pos), pos, 0
                if len(window) - off < _MIN_ENTRY:
                    break
                size = wb.entry_size_at(window, off)
                if size < _MIN_ENTRY or pos + size > end:
                    break
                if window[off + wb.MAGIC_OFFSET] == wb.MAGIC_V2:
                    if len(window) - off < wb.HEADER_SIZE:
                        break
                    h = wb.read_header(window, off)
                    if h.last_offset >= start_offset:
                        kind = NOT_CONTROL
                        if h.is_control:
                            reach = min(size, wb.HEADER_SIZE + KEY_REACH)
                            head = window[off:off + reach] if len(window) - off >= reach else fs.pread(f, reach, pos)
                            kind = control_kind_at(head, 0)
                        yield h, kind
                pos += size
        finally:
            fs.close(f)


class ProducerIdAllocator:
    """Hands out producer ids; ``persist`` is called with the next free id before it is used up."""

    BLOCK = 1000

    def __init__(self, next_id: int, persist: object = None) -> None:
        self._next = next_id
        self._block_end = next_id
        self._persist = persist

    def allocate(self) -> int:
        if self._next >= self._block_end:
            self._block_end = self._next + self.BLOCK
            if callable(self._persist):
                self._persist(self._block_end)
        pid = self._next
        self._next += 1
        return pid
