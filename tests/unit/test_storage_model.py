"""Model-based test: random append/read/roll/truncate/retention/log-start/reopen sequences against a
plain list of (offset, batch bytes).  Small segments so rolls happen often."""

from __future__ import annotations

import shutil
import struct
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kafkatools.storage.config import LogConfig
from kafkatools.storage.log import PartitionLog
from kafkatools.wire import batch as wb
from tests.unit.test_storage_batches import build_batch
from tests.unit.test_storage_log import TP, Clock, NoSyncFS, check_indexes

CONFIG = LogConfig(segment_bytes=700, index_interval_bytes=120, segment_index_bytes=96, retention_ms=50)


class LogModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="storage-model-")
        self.clock = Clock(0)
        self.log = self._open(recovery_point=0, clean=True)
        self.batches: list[tuple[int, int, bytes]] = []  # (base offset, last offset, stored bytes)
        self.leo = 0
        self.lso = 0
        self.epoch = 0

    def _open(self, recovery_point: int, clean: bool, lso: int = 0, hw: int = 0) -> PartitionLog:
        return PartitionLog(self.tmp + "/t-0", TP, CONFIG, fs=NoSyncFS(), clock=self.clock,
                            recovery_point=recovery_point, log_start_offset=lso, high_watermark=hw,
                            clean_shutdown=clean)

    def teardown(self) -> None:
        self.log.close_unclean()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def _on_disk(self) -> list[bytes]:
        return [seg.read_entry(i) for seg in self.log.segments for i in seg.scan()]

    def _sync_suffix(self) -> list[tuple[int, int, bytes]]:
        """After deletions: the log must hold a suffix of the model; returns the dropped prefix."""
        disk = self._on_disk()
        keep = len(disk)
        assert [b for _, _, b in self.batches[len(self.batches) - keep:]] == disk if keep else True
        dropped = self.batches[: len(self.batches) - keep]
        self.batches = self.batches[len(self.batches) - keep:]
        return dropped

    # -- rules -----------------------------------------------------------------------------
    @rule(n=st.integers(1, 4), size=st.integers(0, 150), new_epoch=st.booleans(), tick=st.integers(0, 20),
          mutable=st.booleans())
    def append(self, n: int, size: int, new_epoch: bool, tick: int, mutable: bool) -> None:
        self.clock.now += tick
        self.epoch += int(new_epoch)
        raw = build_batch([(None, bytes([n]) * size, self.clock.now)] * n)
        # bytearray input is patched in place; bytes go out as pwritev of patched headers + the rest
        first = self.log.append(bytearray(raw) if mutable else raw, leader_epoch=self.epoch)
        assert first == self.leo
        stored = bytearray(raw)
        struct.pack_into(">q", stored, 0, first)
        struct.pack_into(">i", stored, 12, self.epoch)
        self.batches.append((first, first + n - 1, bytes(stored)))
        self.leo += n

    @rule(data=st.data(), max_bytes=st.integers(0, 900), min_one=st.booleans(), bounded=st.booleans())
    def read(self, data: st.DataObject, max_bytes: int, min_one: bool, bounded: bool) -> None:
        offset = data.draw(st.integers(self.lso, self.leo))
        upper = self.log.high_watermark if bounded else None
        found = self.log.read(offset, max_bytes, max_offset=upper, min_one_batch=min_one)
        limit = self.leo if upper is None else upper
        visible = [b for b in self.batches if b[1] >= offset and b[0] < limit]
        # the batch holding `limit` is excluded from a bounded read (its start is the max position)
        visible = [b for b in visible if not (b[0] < limit <= b[1])]
        if offset >= limit or not visible or (max_bytes == 0 and not min_one):
            assert found is None
            return
        assert found is not None
        got = found.read_bytes()
        expected = b"".join(b for _, _, b in visible)
        assert expected.startswith(got)
        first = len(visible[0][2])
        assert len(got) <= max(max_bytes, first if min_one else 0)
        if min_one:
            assert len(got) >= first
        else:
            assert len(got) == min(max_bytes, len(got)) and len(got) > 0

    @rule()
    def roll(self) -> None:
        self.log.roll()

    @rule(data=st.data())
    def truncate(self, data: st.DataObject) -> None:
        if not self.batches:
            return
        k = data.draw(st.integers(0, len(self.batches)))
        target = self.batches[k][0] if k < len(self.batches) else self.leo
        self.log.truncate_to(target)
        self.batches = self.batches[:k]
        self.leo = target
        self.lso = min(self.lso, target)
        assert self.log.log_end_offset == self.leo

    @rule(data=st.data())
    def set_high_watermark(self, data: st.DataObject) -> None:
        self.log.high_watermark = data.draw(st.integers(self.lso, self.leo))

    @rule(ahead=st.integers(0, 200))
    def retention(self, ahead: int) -> None:
        now = self.clock.now + ahead
        self.log.apply_retention(now)
        for _, last, stored in self._sync_suffix():
            assert now - wb.read_header(stored).max_timestamp > CONFIG.retention_ms or last < self.lso
            assert last < self.log.high_watermark
        assert self.log.log_end_offset == self.leo
        self.lso = self.log.log_start_offset

    @precondition(lambda self: self.log.high_watermark > self.lso)
    @rule(data=st.data())
    def advance_log_start(self, data: st.DataObject) -> None:
        target = data.draw(st.integers(self.lso + 1, self.log.high_watermark))
        assert self.log.advance_log_start_offset(target)
        self.lso = target
        for _, last, _ in self._sync_suffix():
            assert last < target

    @rule(clean=st.booleans())
    def reopen(self, clean: bool) -> None:
        rp, lso, hw = self.log.recovery_point, self.log.log_start_offset, self.log.high_watermark
        if clean:
            self.log.close()
            rp = self.log.log_end_offset
        else:
            self.log.close_unclean()
        self.log = self._open(recovery_point=rp, clean=clean, lso=lso, hw=hw)
        assert self.log.high_watermark == hw

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def matches_model(self) -> None:
        assert self.log.log_end_offset == self.leo
        assert self.log.log_start_offset == self.lso
        assert self._on_disk() == [b for _, _, b in self.batches]
        check_indexes(self.log)
        bases = [s.base_offset for s in self.log.segments]
        assert bases == sorted(set(bases))


LogModel.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
TestLogModel = LogModel.TestCase
