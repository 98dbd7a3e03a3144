"""ProducerStates: the idempotence checks, and the table rebuilt from snapshots + replay equals the live one.

Invariants checked against random produce histories (several producers, epoch bumps, retries of
recent batches, plain batches in between): a full replay of the log rebuilds exactly the live
table (every producer's epoch and five-batch window); a snapshot plus replay rebuilds each
producer's epoch and last batch, and the window from the snapshot on; a retried batch after a
reload gets its original offset back and nothing is appended.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.partition import Partition
from kafkatools.broker.producer_state import BatchMeta, ProducerStates
from kafkatools.storage import producer_snapshot as snap
from kafkatools.storage.config import LogConfig
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition
from kafkatools.wire.records import build_batch


class NoSyncFS(FileSystem):
    def fsync(self, f: object) -> None:
        pass

    def fsync_dir(self, path: str) -> None:
        pass


def open_partition(d: Path, **config: int) -> Partition:
    config.setdefault("segment_ms", 2**62)  # the batches carry 2023 timestamps: no time-based rolls
    plog = PartitionLog(str(d), TopicPartition("t", 0), LogConfig(**config), fs=NoSyncFS())  # type: ignore[arg-type]
    return Partition("t", 0, plog, PartitionState(0, 0, [0], [0]), plog.config)


def reopen(part: Partition) -> Partition:
    part.log.close()
    return open_partition(Path(part.log.directory), segment_bytes=part.log.config.segment_bytes)


def batch(pid: int, epoch: int, seq: int, n: int = 1, size: int = 8, ts: int = 1_700_000_000_000) -> bytes:
    return build_batch([(None, bytes(size))] * n, timestamps=[ts + i for i in range(n)],
                       producer_id=pid, producer_epoch=epoch, base_sequence=seq)


def produce(part: Partition, data: bytes) -> int:
    return part.append_from_client(bytearray(data), acks=1, legacy=False).base_offset


def table(states: ProducerStates) -> dict[int, tuple[int, list[BatchMeta]]]:
    return {pid: (e.epoch, list(e.batches)) for pid, e in states.producers.items()}


# ---- the checks themselves ---------------------------------------------------------------------------


def test_checks_unknown_duplicate_out_of_order_epochs() -> None:
    s = ProducerStates()
    with pytest.raises(errors.KafkaError) as e:
        s.check(1, 0, 5, 5)
    assert e.value.error is errors.UNKNOWN_PRODUCER_ID
    for i in range(6):
        assert s.check(1, 0, i * 2, i * 2 + 1) is None
        s.record(1, 0, BatchMeta(i * 2, i * 2 + 1, i * 2, i * 2 + 1, 0))
    assert len(s.producers[1].batches) == 5  # Kafka's window of five
    assert s.check(1, 0, 2, 3) == BatchMeta(2, 3, 2, 3, 0)
    with pytest.raises(errors.KafkaError) as e:  # the sixth-newest batch fell out of the window
        s.check(1, 0, 0, 1)
    assert e.value.error is errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    with pytest.raises(errors.KafkaError) as e:
        s.check(1, 0, 13, 13)
    assert e.value.error is errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    with pytest.raises(errors.KafkaError) as e:
        s.check(1, 1, 3, 3)  # a new epoch must start at 0
    assert e.value.error is errors.OUT_OF_ORDER_SEQUENCE_NUMBER
    s.record(1, 1, BatchMeta(0, 0, 20, 20, 0))
    assert table(s)[1] == (1, [BatchMeta(0, 0, 20, 20, 0)])
    with pytest.raises(errors.KafkaError) as e:
        s.check(1, 0, 12, 12)
    assert e.value.error is errors.INVALID_PRODUCER_EPOCH


def test_snapshot_entries_restore_sequence_wrap() -> None:
    s = ProducerStates()
    s.record(9, 3, BatchMeta(0x7FFFFFFE, 1, 100, 103, 55))  # sequences wrap past Int32.MAX
    entries = s.snapshot_entries()
    assert entries == [snap.SnapshotEntry(9, 3, 1, 103, 3, 55)]
    r = ProducerStates()
    r.restore(entries)
    assert table(r) == table(s)


# ---- rebuild from disk -------------------------------------------------------------------------------


class History:
    """Producers' epochs, next sequences and sent batches, kept across calls."""

    def __init__(self) -> None:
        self.seqs: dict[int, int] = {}
        self.epochs: dict[int, int] = {}
        self.sent: dict[int, list[bytes]] = {}


def random_history(part: Partition, rng: random.Random, steps: int, h: History | None = None) -> None:
    """Produce a random mix: several producers, retries of recent batches, epoch bumps, plain batches."""
    h = h or History()
    seqs, epochs, sent = h.seqs, h.epochs, h.sent
    for _ in range(steps):
        pid = rng.choice([1000, 1001, 1002, 2000])
        roll = rng.random()
        if roll < 0.1:
            produce(part, build_batch([(None, b"plain")]))
            continue
        if roll < 0.25 and sent.get(pid):
            data = rng.choice(sent[pid][-5:])  # a retry: answered with the original offset, not appended
            end = part.log_end_offset
            produce(part, data)
            assert part.log_end_offset == end
            continue
        if roll < 0.3 and pid in epochs:
            epochs[pid] += 1
            seqs[pid] = 0
            sent[pid] = []  # the old epoch's batches are fenced now
        n = rng.randint(1, 4)
        data = batch(pid, epochs.setdefault(pid, 0), seqs.setdefault(pid, 0), n)
        produce(part, data)
        seqs[pid] += n
        sent.setdefault(pid, []).append(data)


@pytest.mark.parametrize("seed", range(8))
def test_full_replay_equals_live_state(tmp_path: Path, seed: int) -> None:
    part = open_partition(tmp_path, segment_bytes=600 + seed * 97)
    random_history(part, random.Random(seed), 60)
    live = table(part.producers)
    assert len(part.log.segments) > 1
    for o in snap.list_snapshots(str(tmp_path)):
        Path(snap.snapshot_path(str(tmp_path), o)).unlink()  # force a replay from the log start
    assert table(reopen(part).producers) == live


@pytest.mark.parametrize("seed", range(8))
def test_snapshot_plus_replay(tmp_path: Path, seed: int) -> None:
    rng = random.Random(100 + seed)
    part = open_partition(tmp_path)
    history = History()
    random_history(part, rng, 30, history)
    assert part.producers.take_snapshot() == snap.snapshot_path(str(tmp_path), part.log_end_offset)
    mark = part.log_end_offset
    random_history(part, rng, 30, history)
    live = table(part.producers)
    rebuilt = table(reopen(part).producers)
    assert rebuilt.keys() == live.keys()
    for pid, (epoch, window) in live.items():
        got_epoch, got_window = rebuilt[pid]
        assert got_epoch == epoch and got_window[-1] == window[-1]
        # The snapshot kept only the last batch from before it; the replay brought back the rest.
        after = [b for b in window if b.first_offset >= mark]
        expected = after if len(after) == len(window) else [window[-len(after) - 1], *after]
        assert got_window == expected


def test_retry_after_reload_gets_original_offset(tmp_path: Path) -> None:
    part = open_partition(tmp_path)
    first = produce(part, batch(7, 0, 0, 3))
    last_batch = batch(7, 0, 3, 2)
    second = produce(part, last_batch)
    part.producers.take_snapshot()
    part = reopen(part)
    end = part.log_end_offset
    assert produce(part, last_batch) == second != first
    assert part.log_end_offset == end
    assert produce(part, batch(7, 0, 5)) == end  # the next sequence continues: no UNKNOWN_PRODUCER_ID
    with pytest.raises(errors.KafkaError) as e:
        produce(part, batch(7, 0, 9))
    assert e.value.error is errors.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_without_snapshot_after_crash_the_whole_window_survives(tmp_path: Path) -> None:
    part = open_partition(tmp_path)
    batches = [batch(7, 0, i) for i in range(5)]
    offsets = [produce(part, b) for b in batches]
    part.log.close_unclean()  # a crash: no snapshot written
    part = open_partition(tmp_path)
    assert [produce(part, b) for b in batches] == offsets
    assert part.log_end_offset == 5


def test_rolls_write_snapshots_and_two_are_kept(tmp_path: Path) -> None:
    part = open_partition(tmp_path, segment_bytes=300)
    for i in range(12):
        produce(part, batch(5, 0, i, size=60))
    bases = [s.base_offset for s in part.log.segments]
    assert len(bases) > 3
    assert snap.list_snapshots(str(tmp_path)) == bases[-2:]
    newest = snap.read_snapshot(snap.snapshot_path(str(tmp_path), bases[-1]))
    assert newest == [snap.SnapshotEntry(5, 0, bases[-1] - 1, bases[-1] - 1, 0, 1_700_000_000_000)]
    assert table(reopen(part).producers)[5][1][-1] == BatchMeta(11, 11, 11, 11, 1_700_000_000_000)


def test_corrupt_snapshot_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    part = open_partition(tmp_path)
    for i in range(3):
        produce(part, batch(5, 0, i))
    live = table(part.producers)
    path = Path(part.producers.take_snapshot() or "")
    path.write_bytes(path.read_bytes()[:-1] + b"\x99")
    rebuilt = reopen(part)
    assert "Ignoring producer snapshot" in caplog.text
    assert table(rebuilt.producers) == live  # fell back to a full replay


def test_producers_below_log_start_are_dropped(tmp_path: Path) -> None:
    part = open_partition(tmp_path, segment_bytes=300)
    produce(part, batch(1, 0, 0, size=200))
    for i in range(4):
        produce(part, batch(2, 0, i, size=100))
    part.log.high_watermark = part.log_end_offset
    part.log.advance_log_start_offset(2)
    assert set(table(reopen(part).producers)) == {2}


def test_truncation_deletes_snapshots_above_the_log_end(tmp_path: Path) -> None:
    part = open_partition(tmp_path)
    for i in range(4):
        produce(part, batch(3, 0, i))
    part.producers.take_snapshot()
    part.log.truncate_to(2)
    part.producers.reload()
    assert snap.list_snapshots(str(tmp_path)) == []
    assert table(part.producers) == {3: (0, [BatchMeta(0, 0, 0, 0, 1_700_000_000_000),
                                             BatchMeta(1, 1, 1, 1, 1_700_000_000_000)])}
    assert produce(part, batch(3, 0, 2)) == 2


def test_large_batches_and_follower_replay(tmp_path: Path) -> None:
    part = open_partition(tmp_path)
    big = batch(4, 0, 0, n=3, size=70_000)  # larger than the 64 KiB scan window
    produce(part, big)
    produce(part, batch(4, 0, 3))
    live = table(part.producers)
    follower = ProducerStates()
    stored = Path(part.log.active_segment.log_path).read_bytes()
    follower.replay_appended(stored)
    follower.replay_appended(stored)  # twice: already-known batches are skipped
    assert table(follower) == live
    assert table(reopen(part).producers) == live


def test_clean_shutdown_skips_unchanged_and_empty(tmp_path: Path) -> None:
    part = open_partition(tmp_path)
    assert part.producers.take_snapshot() is None  # empty log: nothing to save
    produce(part, batch(1, 0, 0))
    assert part.producers.take_snapshot() is not None
    assert part.producers.take_snapshot() is None  # nothing changed since
    part = reopen(part)
    assert part.producers.take_snapshot() is None  # loaded from a snapshot at the log end
