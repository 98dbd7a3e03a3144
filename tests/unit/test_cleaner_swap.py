"""Cleaner swap crash safety, index validity of cleaned segments, checkpoints and choosing the dirtiest log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kafkatools.storage.cleaner import clean_log, cleanable_range, commit_clean, filthiest_log, plan_clean
from kafkatools.storage.cleaner_swap import STEPS
from kafkatools.storage.config import LogConfig
from kafkatools.storage.dump import dump_file
from kafkatools.storage.dump_lines import DumpOptions, Problems
from kafkatools.storage.errors import StorageError
from kafkatools.storage.manager import LogManager
from kafkatools.storage.names import TopicPartition
from kafkatools.storage.txn_index import AbortedTxn, TransactionIndex
from tests.unit.test_cleaner import COMPACT, NOW, NoSyncFS, check_consistent, latest, open_log, put, records


class Crash(Exception):
    pass


def filled_log(path: Path, n: int = 40) -> object:
    log = open_log(path)
    for i in range(n):
        put(log, (b"k%d" % (i % 4) if i % 3 else b"u%d" % i, b"v%d" % i))  # overwritten keys and unique ones
    return log


def dump_problems(directory: Path) -> Problems:
    problems = Problems()
    for name in sorted(os.listdir(directory)):
        if name.endswith((".index", ".timeindex")):
            for opts in (DumpOptions(index_sanity_only=True), DumpOptions(verify_index_only=True)):
                list(dump_file(str(directory / name), opts, problems))
    return problems


def test_cleaned_segments_pass_index_sanity_and_verification(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", LogConfig(cleanup_policy="compact", segment_bytes=3000, index_interval_bytes=60))
    for i in range(200):
        put(log, (b"k%d" % (i % 40), b"v%d" % i))
    clean_log(log, None, NOW)
    log.close()
    problems = dump_problems(tmp_path / "t-0")
    assert problems.failures == 0 and not problems.lines(), problems.lines()
    assert any(len(s.offset_index) for s in log.segments[:-1]), "the test should exercise index entries"


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_each_swap_step_reloads_a_consistent_log(tmp_path: Path, step: str) -> None:
    d = tmp_path / "t-0"
    log = filled_log(d)
    segments_before = len(log.segments)  # type: ignore[attr-defined]
    log.update_config(LogConfig(cleanup_policy="compact", segment_bytes=1200))  # type: ignore[attr-defined]
    before = records(log)  # type: ignore[arg-type]

    def crash(at: str) -> None:
        if at == step:
            raise Crash(at)

    with pytest.raises(Crash):
        clean_log(log, None, NOW, on_step=crash)  # type: ignore[arg-type]
    reloaded = open_log(d, recovery_point=0, log_start_offset=0, high_watermark=0)
    assert not [n for n in os.listdir(d) if n.endswith((".cleaned", ".swap", ".deleted"))]
    after = records(reloaded)
    check_consistent(reloaded)
    assert latest(after) == latest(before)
    assert reloaded.log_end_offset == 40
    if step == "cleaned":
        assert after == before  # not swapped yet: the old segments stay
    else:
        assert len(after) < len(before)  # the swap was committed by recovery
        assert set(after) <= set(before)
        assert len(reloaded.segments) < segments_before  # one cleaned segment replaced several
    reloaded.close()
    assert dump_problems(d).failures == 0


def test_plan_overtaken_by_retention_is_discarded(tmp_path: Path) -> None:
    d = tmp_path / "t-0"
    log = filled_log(d)
    rng = cleanable_range(log, None, NOW)  # type: ignore[arg-type]
    plan = plan_clean(log, rng, NOW)  # type: ignore[arg-type]
    assert any(n.endswith(".cleaned") for n in os.listdir(d))
    log.advance_log_start_offset(log.segments[1].base_offset)  # type: ignore[attr-defined]
    with pytest.raises(StorageError):
        commit_clean(log, plan)  # type: ignore[arg-type]
    assert not any(n.endswith(".cleaned") for n in os.listdir(d))
    check_consistent(log)  # type: ignore[arg-type]


def test_manager_checkpoint_and_dirtiest_log_first(tmp_path: Path) -> None:
    configs = {"a": COMPACT, "b": COMPACT, "plain": LogConfig(segment_bytes=400)}
    mgr = LogManager([str(tmp_path)], topic_configs=configs, fs=NoSyncFS(), clock=lambda: NOW)
    a = mgr.get_or_create_log(TopicPartition("a", 0))
    b = mgr.get_or_create_log(TopicPartition("b", 0))
    plain = mgr.get_or_create_log(TopicPartition("plain", 0))
    for i in range(20):
        put(a, (b"k%d" % i, b"v"))  # distinct keys
        put(b, (b"k", b"v%d" % i))
        put(plain, (b"k", b"v%d" % i))
    mgr.update_cleaner_checkpoint(TopicPartition("a", 0), a.segments[-2].base_offset)  # a: mostly clean
    found = filthiest_log(mgr, NOW)
    assert found is not None and found[0] == TopicPartition("b", 0)
    checkpoint = clean_log(found[1], mgr.cleaner_checkpoint(found[0]), NOW)
    assert checkpoint == b.active_segment.base_offset
    mgr.update_cleaner_checkpoint(found[0], checkpoint)
    text = (tmp_path / "cleaner-offset-checkpoint").read_text()
    assert text == f"0\n2\na 0 {a.segments[-2].base_offset}\nb 0 {checkpoint}\n"
    assert filthiest_log(mgr, NOW) is None  # a is below the ratio, b is clean, plain is not compacted
    mgr.close()
    again = LogManager([str(tmp_path)], topic_configs=configs, fs=NoSyncFS(), clock=lambda: NOW)
    assert again.cleaner_checkpoint(TopicPartition("b", 0)) == checkpoint
    again.close()


@pytest.mark.parametrize("crash_at", [None, "swap", "deleted"])
def test_aborted_transaction_index_moves_with_the_swap(tmp_path: Path, crash_at: str | None) -> None:
    d = tmp_path / "t-0"
    log = filled_log(d)
    log.update_config(LogConfig(cleanup_policy="compact", segment_bytes=1200))  # type: ignore[attr-defined]
    bases = [s.base_offset for s in log.segments]  # type: ignore[attr-defined]
    index = TransactionIndex(str(d))
    entries = [AbortedTxn(7, bases[1], bases[1] + 1, bases[1] + 1), AbortedTxn(8, bases[2], bases[2] + 2, bases[2])]
    index.append(entries[0], bases[1])
    index.append(entries[1], bases[2])

    def crash(at: str) -> None:
        if at == crash_at:
            raise Crash(at)

    if crash_at is None:
        clean_log(log, None, NOW, on_step=crash)  # type: ignore[arg-type]
    else:
        with pytest.raises(Crash):
            clean_log(log, None, NOW, on_step=crash)  # type: ignore[arg-type]
        log = open_log(d, recovery_point=0)
    assert len(log.segments) < len(bases)  # type: ignore[attr-defined]
    assert sorted(n for n in os.listdir(d) if n.endswith(".txnindex")) == [f"{bases[0]:020d}.txnindex"]
    reloaded = TransactionIndex(str(d))
    reloaded.load(log.log_end_offset)  # type: ignore[attr-defined]
    assert reloaded.entries == entries
