"""``.txnindex`` files follow the log: truncation and recovery cut them, segment deletion removes them."""

from __future__ import annotations

import os
from pathlib import Path

from kafkatools.storage.config import LogConfig
from kafkatools.storage.txn_index import ENTRY_SIZE, AbortedTxn, TransactionIndex, decode, index_path
from tests.unit.test_storage_log import batch, open_log


def _index(directory: Path) -> TransactionIndex:
    directory.mkdir(parents=True, exist_ok=True)
    index = TransactionIndex(str(directory))
    index.append(AbortedTxn(7, 3, 10, 3), 0)
    index.append(AbortedTxn(8, 12, 20, 12), 0)
    index.append(AbortedTxn(9, 25, 30, 25), 30)
    return index


def test_truncation_cuts_the_files_so_reused_offsets_are_not_reported_aborted(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.truncate_to(15)
    assert [e.last_offset for e in index.entries] == [10]
    assert decode(Path(index_path(str(tmp_path), 0)).read_bytes()) == [AbortedTxn(7, 3, 10, 3)]
    assert decode(Path(index_path(str(tmp_path), 30)).read_bytes()) == []
    reloaded = TransactionIndex(str(tmp_path))
    reloaded.load(1_000)  # the log has grown again past the old markers: nothing stale comes back
    assert [e.last_offset for e in reloaded.entries] == [10]


def test_load_cuts_entries_past_a_recovered_log_end(tmp_path: Path) -> None:
    _index(tmp_path)
    index = TransactionIndex(str(tmp_path))
    index.load(21)  # recovery shortened the log below the third marker
    assert [e.last_offset for e in index.entries] == [10, 20]
    assert os.path.getsize(index_path(str(tmp_path), 30)) == 0
    assert os.path.getsize(index_path(str(tmp_path), 0)) == 2 * ENTRY_SIZE


def test_deleting_a_segment_removes_its_txnindex(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig())
    log.append(batch(3, 100))
    path = index_path(str(tmp_path / "t-0"), 0)
    TransactionIndex(str(tmp_path / "t-0")).append(AbortedTxn(1, 0, 2, 0), 0)
    assert os.path.exists(path)
    log.segments[0].delete()
    assert not os.path.exists(path)
