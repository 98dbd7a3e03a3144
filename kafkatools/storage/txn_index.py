"""Aborted-transaction index of a partition: the ``<base offset>.txnindex`` files (Kafka's ``TransactionIndex``).

Why: a read_committed consumer must drop the records of aborted transactions.  Rather than make the
broker decode batches on every fetch, the broker hands the consumer the list of aborted
transactions overlapping the fetched range (producer id + first offset) and the consumer skips
those producers' batches until it meets the ABORT marker.  That list is looked up here.

Each abort marker appended to a partition adds one entry to the index file of the segment that
holds the marker.  All entries of a partition are also kept in memory (they are few: one per
aborted transaction), sorted by last offset, so a fetch costs a bisect and a short scan.

Entry layout (big-endian), 34 bytes, Kafka's ``AbortedTxn``::

    version           int16   0
    producerId        int64
    firstOffset       int64   first offset of the transaction in this partition
    lastOffset        int64   offset of the ABORT marker
    lastStableOffset  int64   the partition's LSO once the marker was written

A partial trailing entry (a crash mid-write) is ignored; entries at or past the log end (a torn
tail cut by recovery) are dropped at load.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Final, NamedTuple

from kafkatools.storage.errors import StorageError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem
from kafkatools.storage.names import TXN_INDEX_SUFFIX, segment_file_name

ENTRY: Final = struct.Struct(">hqqqq")
ENTRY_SIZE: Final = ENTRY.size  # 34
VERSION: Final = 0


class AbortedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int


def encode(entry: AbortedTxn) -> bytes:
    return ENTRY.pack(VERSION, *entry)


def decode(data: bytes, where: str = "txnindex") -> list[AbortedTxn]:
    """Entries of one ``.txnindex`` file; a partial trailing entry is ignored, a bad version raises."""
    out: list[AbortedTxn] = []
    whole = len(data) - len(data) % ENTRY_SIZE
    for version, pid, first, last, lso in ENTRY.iter_unpack(data[:whole]):
        if version != VERSION:
            raise StorageError(f"{where}: unknown aborted-transaction entry version {version}")
        out.append(AbortedTxn(pid, first, last, lso))
    return out


def index_path(directory: str, segment_base: int) -> str:
    return os.path.join(directory, segment_file_name(segment_base, TXN_INDEX_SUFFIX))


class TransactionIndex:
    """All aborted transactions of one partition log directory, in memory and in the segment files."""

    def __init__(self, directory: str, fs: FileSystem = DEFAULT_FS) -> None:
        self.directory = directory
        self.fs = fs
        self.entries: list[AbortedTxn] = []  # sorted by last offset
        self._lasts: list[int] = []

    def load(self, log_end_offset: int) -> None:
        """Read every ``.txnindex`` file of the directory, dropping entries at or past the log end.

        Dropped entries are also cut from their files (recovery may have shortened the log below a
        marker whose entry was already written): offsets past the end will be reused by new records,
        and a stale entry would hide them from read_committed consumers after the next restart.
        """
        self._set(self._filter_files(lambda e: e.last_offset < log_end_offset))

    def _filter_files(self, keep: Callable[[AbortedTxn], bool]) -> list[AbortedTxn]:
        """Rewrite (atomically) every file holding an entry ``keep`` refuses; the entries kept, all files."""
        found: list[AbortedTxn] = []
        names = sorted(n for n in self.fs.listdir(self.directory) if n.endswith(TXN_INDEX_SUFFIX))
        for name in names:
            path = os.path.join(self.directory, name)
            try:
                entries = decode(self.fs.read_bytes(path), path)
            except (OSError, StorageError):
                continue  # a lost index only costs replay: the producer-state replay re-adds entries
            kept = [e for e in entries if keep(e)]
            if len(kept) != len(entries):
                self.fs.write_atomic(path, b"".join(encode(e) for e in kept))
            found.extend(kept)
        return found

    def _set(self, entries: list[AbortedTxn]) -> None:
        unique = {(e.producer_id, e.last_offset): e for e in entries}
        self.entries = sorted(unique.values(), key=lambda e: e.last_offset)
        self._lasts = [e.last_offset for e in self.entries]

    def __contains__(self, entry: AbortedTxn) -> bool:
        i = bisect_left(self._lasts, entry.last_offset)
        while i < len(self.entries) and self.entries[i].last_offset == entry.last_offset:
            if self.entries[i].producer_id == entry.producer_id:
                return True
            i += 1
        return False

    def append(self, entry: AbortedTxn, segment_base: int) -> None:
        """Record an abort whose marker sits in the segment starting at ``segment_base`` (idempotent)."""
        if entry in self:
            return
        path = index_path(self.directory, segment_base)
        f = self.fs.open(path)
        try:
            self.fs.pwrite(f, encode(entry), self.fs.size(f))
        finally:
            self.fs.close(f)
        insort(self.entries, entry, key=lambda e: e.last_offset)
        self._lasts.insert(bisect_left(self._lasts, entry.last_offset), entry.last_offset)

    def collect(self, fetch_offset: int, upper_offset: int) -> list[AbortedTxn]:
        """Aborted transactions overlapping [fetch_offset, upper_offset): marker at/after the fetch offset
        and first offset before the upper bound (what a read_committed fetch must report)."""
        out: list[AbortedTxn] = []
        for e in self.entries[bisect_left(self._lasts, fetch_offset):]:
            if e.first_offset < upper_offset:
                out.append(e)
        return out

    def truncate_to(self, log_end_offset: int) -> None:
        """Drop the entries whose marker is at or past ``log_end_offset``, in memory and in the files
        (Kafka's ``TransactionIndex.truncateTo``): the offsets will be written again."""
        if self._lasts and self._lasts[-1] >= log_end_offset:
            self._set(self._filter_files(lambda e: e.last_offset < log_end_offset))

    def drop_below(self, log_start_offset: int) -> None:
        """Forget entries whose marker lies below the log start (their segment files are deleted)."""
        if self._lasts and self._lasts[0] < log_start_offset:
            self._set([e for e in self.entries if e.last_offset >= log_start_offset])
