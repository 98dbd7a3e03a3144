"""Partition side of transactions: LSO, markers, the aborted-transaction index and its recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kafkatools import errors
from kafkatools.broker.partition import Partition
from kafkatools.storage import producer_snapshot as snap
from kafkatools.storage.txn_index import AbortedTxn, TransactionIndex, decode, encode
from kafkatools.wire import batch as wb
from kafkatools.wire.records import build_batch
from tests.unit.test_producer_state import open_partition, reopen


def txn_batch(pid: int, epoch: int, seq: int, n: int = 2) -> bytes:
    return build_batch([(None, b"v")] * n, producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                       is_transactional=True)


def allow(_h: wb.BatchHeader) -> None:
    pass


def produce_txn(part: Partition, data: bytes) -> int:
    return part.append_from_client(bytearray(data), acks=1, legacy=False, txn_check=allow).base_offset


def test_entry_layout_and_partial_tail() -> None:
    e = AbortedTxn(7, 10, 20, 21)
    raw = encode(e)
    assert len(raw) == 34 and raw[:2] == b"\x00\x00"
    assert decode(raw + raw[:10]) == [e]


def test_lso_markers_and_aborted_index(tmp_path: Path) -> None:
    part = open_partition(tmp_path / "p")
    assert produce_txn(part, txn_batch(1, 0, 0)) == 0          # pid 1 opens at 0
    part.append_from_client(bytearray(build_batch([(None, b"x")])), acks=1, legacy=False)  # offset 2
    assert produce_txn(part, txn_batch(2, 0, 0)) == 3          # pid 2 opens at 3
    assert part.high_watermark == 5 and part.last_stable_offset == 0
    commit_at = part.append_marker(1, 0, True, 0)               # pid 1 commits: LSO moves to pid 2's start
    assert commit_at == 5 and part.last_stable_offset == 3
    abort_at = part.append_marker(2, 0, False, 0)
    assert abort_at == 6 and part.last_stable_offset == part.high_watermark == 7
    index = part.producers.aborted
    assert index is not None and index.entries == [AbortedTxn(2, 3, 6, 7)]
    read = part.read_for_fetch(0, 1 << 20, committed=True, min_one_batch=True, legacy_magic=None)
    assert read.aborted == [AbortedTxn(2, 3, 6, 7)] and read.last_stable_offset == 7
    assert part.read_for_fetch(7, 1 << 20, committed=True, min_one_batch=True, legacy_magic=None).aborted == []
    assert part.read_for_fetch(0, 1 << 20, committed=False, min_one_batch=True, legacy_magic=None).aborted is None
    with open(os.path.join(part.log.directory, "00000000000000000000.txnindex"), "rb") as f:
        assert decode(f.read()) == [AbortedTxn(2, 3, 6, 7)]


def test_transactional_batch_needs_the_coordinator(tmp_path: Path) -> None:
    part = open_partition(tmp_path / "p")
    with pytest.raises(errors.KafkaError) as info:
        part.append_from_client(bytearray(txn_batch(1, 0, 0)), acks=1, legacy=False)
    assert info.value.error is errors.BY_NAME["INVALID_TXN_STATE"]

    def refuse(h: wb.BatchHeader) -> None:
        raise errors.KafkaError(errors.BY_NAME["INVALID_TXN_STATE"], "not added")

    with pytest.raises(errors.KafkaError):
        part.append_from_client(bytearray(txn_batch(1, 0, 0)), acks=1, legacy=False, txn_check=refuse)
    assert part.log_end_offset == 0


def test_fenced_marker_and_new_epoch(tmp_path: Path) -> None:
    part = open_partition(tmp_path / "p")
    produce_txn(part, txn_batch(1, 3, 0))
    with pytest.raises(errors.KafkaError) as info:
        part.append_marker(1, 2, True, 0)
    assert info.value.error is errors.INVALID_PRODUCER_EPOCH
    part.append_marker(1, 4, False, 0)  # abort under a bumped epoch (fencing): the new epoch starts at 0
    assert part.producers.aborted is not None and part.producers.aborted.entries[0].first_offset == 0
    assert produce_txn(part, txn_batch(1, 4, 0)) == 3


def test_snapshot_keeps_open_txn_and_replay_rebuilds_index(tmp_path: Path) -> None:
    part = open_partition(tmp_path / "p")
    produce_txn(part, txn_batch(1, 0, 0))       # 0-1
    part.append_marker(1, 0, False, 0)           # 2 abort
    produce_txn(part, txn_batch(2, 0, 0))       # 3-4, left open
    part.producers.take_snapshot()
    entries = {e.producer_id: e for e in snap.read_snapshot(snap.snapshot_path(part.log.directory, 5))}
    assert entries[2].current_txn_first_offset == 3 and entries[1].current_txn_first_offset == -1
    again = reopen(part)
    assert again.last_stable_offset == 3
    # lose the index and the snapshots: a crash-recovery replay re-creates the entry from the marker
    for name in os.listdir(again.log.directory):
        if name.endswith((".txnindex", ".snapshot")):
            os.remove(os.path.join(again.log.directory, name))
    third = reopen(again)
    assert third.producers.aborted is not None
    assert [(e.producer_id, e.first_offset, e.last_offset) for e in third.producers.aborted.entries] == [(1, 0, 2)]
    assert third.last_stable_offset == 3
    third.append_marker(2, 0, True, 0)
    assert third.last_stable_offset == third.high_watermark == 6
    fresh = TransactionIndex(third.log.directory)
    fresh.load(third.log_end_offset)
    assert [e.last_offset for e in fresh.entries] == [2]
    fresh.load(2)  # entries at or past the log end (a cut tail) are dropped
    assert fresh.entries == []
