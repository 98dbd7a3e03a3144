"""The leader-epoch cache of one partition, persisted as ``leader-epoch-checkpoint`` (``LeaderEpochFileCache``).

File: ``0\\n<count>\\n<epoch> <start offset>\\n...`` (see checkpoints.py).  Each entry says "epoch E
started writing at offset O"; a follower asks ``end_offset_for(epoch)`` (OffsetForLeaderEpoch) to
find where to truncate.  Epochs and start offsets both strictly increase.
"""

from __future__ import annotations

from kafkatools.storage.checkpoints import EpochEntry, read_epochs, write_epochs
from kafkatools.storage.fs import FileSystem

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class LeaderEpochCache:
    def __init__(self, path: str, fs: FileSystem) -> None:
        self.path = path
        self.fs = fs
        self.entries: list[EpochEntry] = read_epochs(path, fs)

    @property
    def latest_epoch(self) -> int:
        return self.entries[-1].epoch if self.entries else UNDEFINED_EPOCH

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that ``epoch`` starts at ``start_offset`` (ignored unless it is a newer epoch)."""
        if epoch < 0 or (self.entries and epoch <= self.entries[-1].epoch):
            return
        # a new epoch starting at or below an older entry's offset replaces that entry
        while self.entries and self.entries[-1].start_offset >= start_offset:
            self.entries.pop()
        self.entries.append(EpochEntry(epoch, start_offset))
        self.flush()

    def end_offset_for(self, epoch: int, log_end_offset: int) -> tuple[int, int]:
        """``(epoch, end offset)`` as Kafka answers OffsetForLeaderEpoch."""
        if epoch == UNDEFINED_EPOCH or not self.entries:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if epoch == self.entries[-1].epoch:
            return epoch, log_end_offset
        higher = next((e for e in self.entries if e.epoch > epoch), None)
        if higher is None:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        floor = [e for e in self.entries if e.epoch <= epoch]
        return (floor[-1].epoch if floor else epoch), higher.start_offset

    def truncate_from_end(self, end_offset: int) -> None:
        """Drop epochs that start at or after ``end_offset`` (log truncated there)."""
        keep = [e for e in self.entries if e.start_offset < end_offset]
        if keep != self.entries:
            self.entries = keep
            self.flush()

    def truncate_from_start(self, start_offset: int) -> None:
        """Log start moved: the epoch in force at ``start_offset`` now starts there."""
        before = [e for e in self.entries if e.start_offset <= start_offset]
        after = [e for e in self.entries if e.start_offset > start_offset]
        if not before:
            return
        updated = [EpochEntry(before[-1].epoch, start_offset), *after]
        if updated != self.entries:
            self.entries = updated
            self.flush()

    def clear(self) -> None:
        self.entries = []
        self.flush()

    def flush(self) -> None:
        write_epochs(self.path, self.entries, self.fs)
