"""Producer-state snapshot files ``<20-digit offset>.snapshot`` (Kafka's ``ProducerStateManager`` snapshots, d.8).

Why they exist: an idempotent producer's sequence numbers must survive a broker restart, or the
producer's next batch is refused with UNKNOWN_PRODUCER_ID and a retried batch is stored twice.
Re-reading the whole log to rebuild that state would cost a scan per partition at every start, so
the broker writes the state down (at clean shutdown and when a segment rolls) and at load replays
only the batches after the newest snapshot.  The file name is the log end offset the state covers.

Layout (big-endian), version 1::

    version                int16   always 1
    crc                    uint32  CRC-32C of every byte after this field (from byte 6)
    count                  int32
    count x 46-byte entry:
      producerId           int64
      producerEpoch        int16
      lastSequence         int32   last sequence of the producer's last batch (-1: none)
      lastOffset           int64   last offset of that batch (-1: none)
      offsetDelta          int32   lastSequence - firstSequence of that batch
      timestamp            int64   max timestamp of that batch
      coordinatorEpoch     int32   -1 without transactions
      currentTxnFirstOffset int64  -1 = no open transaction

Only the last batch of each producer is stored (as Kafka does); the broker replays the log after
the snapshot to recover more of each producer's five-batch window.  Reading never raises for a bad
file: ``load_newest`` reports a corrupt snapshot through its callback and falls back to an older one.
Writes are atomic (``FileSystem.write_atomic``: temp file, fsync, rename, directory fsync).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable
from typing import Final, NamedTuple

from crc32c import crc32c

from kafkatools.storage.errors import StorageError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem
from kafkatools.storage.names import SNAPSHOT_SUFFIX, segment_file_name

SNAPSHOT_VERSION: Final = 1
_HEAD: Final = struct.Struct(">hIi")  # version, crc, count
_ENTRY: Final = struct.Struct(">qhiqiqiq")
_I32: Final = struct.Struct(">i")
ENTRY_SIZE: Final = _ENTRY.size  # 46
HEADER_SIZE: Final = _HEAD.size  # 10
CRC_START: Final = 6


class CorruptSnapshotError(StorageError):
    """A ``.snapshot`` file has a wrong version, a bad CRC-32C or a size that does not match its count."""


class SnapshotEntry(NamedTuple):
    """One producer as a snapshot stores it: its epoch and its last batch."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_offset: int
    offset_delta: int
    timestamp: int
    coordinator_epoch: int = -1
    current_txn_first_offset: int = -1


def encode_snapshot(entries: Iterable[SnapshotEntry]) -> bytes:
    """The bytes of a version-1 snapshot holding ``entries`` in the given order."""
    items = list(entries)
    body = bytearray(_I32.pack(len(items)))
    for e in items:
        body += _ENTRY.pack(*e)
    return struct.pack(">hI", SNAPSHOT_VERSION, crc32c(bytes(body))) + bytes(body)


def decode_snapshot(data: bytes, where: str = "snapshot") -> list[SnapshotEntry]:
    """Entries of a snapshot's bytes; CorruptSnapshotError for a wrong version, CRC or size."""
    if len(data) < HEADER_SIZE:
        raise CorruptSnapshotError(f"{where} is truncated: {len(data)} bytes")
    version, crc, count = _HEAD.unpack_from(data)
    if version != SNAPSHOT_VERSION:
        raise CorruptSnapshotError(f"{where} has unknown version {version}")
    computed = crc32c(data[CRC_START:])
    if crc != computed:
        raise CorruptSnapshotError(f"{where} is corrupt: stored CRC {crc}, computed {computed}")
    if count < 0 or HEADER_SIZE + count * ENTRY_SIZE != len(data):
        raise CorruptSnapshotError(f"{where} declares {count} producers but holds {len(data) - HEADER_SIZE} "
                                   "bytes of entries")
    return [SnapshotEntry(*fields) for fields in _ENTRY.iter_unpack(data[HEADER_SIZE:])]



# ---- files in a partition dir ---------------------------------------------------------------------------


def snapshot_path(directory: str, offset: int) -> str:
    return os.path.join(directory, segment_file_name(offset, SNAPSHOT_SUFFIX))


def list_snapshots(directory: str, fs: FileSystem = DEFAULT_FS) -> list[int]:
    """Offsets of the ``<20 digits>.snapshot`` files in ``directory``, ascending."""
    out: list[int] = []
    for name in fs.listdir(directory):
        head = name[: -len(SNAPSHOT_SUFFIX)]
        if name.endswith(SNAPSHOT_SUFFIX) and len(head) == 20 and head.isdigit():
            out.append(int(head))
    return sorted(out)


def write_snapshot(directory: str, offset: int, entries: Iterable[SnapshotEntry],
                   fs: FileSystem = DEFAULT_FS) -> str:
    """Atomically write ``<offset>.snapshot``; returns its path."""
    path = snapshot_path(directory, offset)
    fs.write_atomic(path, encode_snapshot(entries))
    return path


def read_snapshot(path: str, fs: FileSystem = DEFAULT_FS) -> list[SnapshotEntry]:
    return decode_snapshot(fs.read_bytes(path), path)


def load_newest(directory: str, up_to: int, fs: FileSystem = DEFAULT_FS,
                on_corrupt: Callable[[str, Exception], None] | None = None,
                ) -> tuple[int, list[SnapshotEntry]] | None:
    """The newest readable snapshot at or below offset ``up_to``, as ``(offset, entries)``; None if none.

    A snapshot that cannot be read is passed to ``on_corrupt`` and skipped: losing it only means
    replaying more of the log, so it must never stop a partition from loading."""
    for offset in reversed(list_snapshots(directory, fs)):
        if offset > up_to:
            continue
        path = snapshot_path(directory, offset)
        try:
            return offset, read_snapshot(path, fs)
        except (CorruptSnapshotError, OSError) as e:
            if on_corrupt is not None:
                on_corrupt(path, e)
    return None


def delete_snapshots(directory: str, keep: Callable[[int], bool], fs: FileSystem = DEFAULT_FS) -> list[int]:
    """Remove every snapshot whose offset ``keep`` rejects; returns the removed offsets."""
    removed = [o for o in list_snapshots(directory, fs) if not keep(o)]
    for offset in removed:
        fs.remove(snapshot_path(directory, offset))
    return removed


def delete_snapshots_above(directory: str, offset: int, fs: FileSystem = DEFAULT_FS) -> list[int]:
    """After a truncation: snapshots past the new log end describe records that no longer exist."""
    return delete_snapshots(directory, lambda o: o <= offset, fs)


def delete_snapshots_below(directory: str, offset: int, fs: FileSystem = DEFAULT_FS) -> list[int]:
    """After segments below ``offset`` were deleted (retention, DeleteRecords)."""
    return delete_snapshots(directory, lambda o: o >= offset, fs)


def retain_newest(directory: str, count: int, fs: FileSystem = DEFAULT_FS) -> list[int]:
    """Keep only the ``count`` newest snapshots; returns the removed offsets."""
    offsets = list_snapshots(directory, fs)
    newest = set(offsets[-count:]) if count > 0 else set()
    return delete_snapshots(directory, lambda o: o in newest, fs)
