"""Follower truncation by leader epoch (KIP-101, KIP-279), against real leader-epoch caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkatools.broker.replication.truncation import Truncation, decide_truncation
from kafkatools.storage.fs import DEFAULT_FS
from kafkatools.storage.leader_epoch import LeaderEpochCache


def cache(tmp_path: Path, name: str, entries: list[tuple[int, int]]) -> LeaderEpochCache:
    c = LeaderEpochCache(str(tmp_path / name), DEFAULT_FS)
    for epoch, start in entries:
        c.assign(epoch, start)
    return c


def run_rounds(tmp_path: Path, leader: list[tuple[int, int]], leader_leo: int, follower: list[tuple[int, int]],
               follower_leo: int, follower_hw: int) -> tuple[int, int]:
    """Play the OffsetForLeaderEpoch conversation to the end; (truncation offset, rounds)."""
    lc = cache(tmp_path, "leader", leader)
    fc = cache(tmp_path, "follower", follower)
    leo = follower_leo
    for rounds in range(1, 10):
        asked = fc.latest_epoch
        l_epoch, l_end = lc.end_offset_for(asked, leader_leo)
        t = decide_truncation(l_epoch, l_end, lambda e, end=leo: fc.end_offset_for(e, end), leo, follower_hw)
        leo = min(leo, t.offset)
        fc.truncate_from_end(leo)
        if t.complete:
            return leo, rounds
    raise AssertionError("truncation did not converge")


@pytest.mark.parametrize(("leader", "leader_leo", "follower", "follower_leo", "hw", "expected"), [
    # KIP-101 scenario 1: same epoch, follower restarted with a stale HW; HW truncation would lose offset 1
    ([(0, 0)], 2, [(0, 0)], 2, 1, 2),
    # KIP-101 scenario 2: old leader wrote offset 1 in epoch 0, the new leader wrote its own offset 1 in epoch 1
    ([(0, 0), (1, 1)], 2, [(0, 0)], 2, 1, 1),
    # follower behind the leader: nothing to cut
    ([(0, 0), (1, 5)], 9, [(0, 0)], 3, 3, 3),
    # follower ahead in the leader's current epoch (uncommitted tail beyond the leader's end)
    ([(0, 0), (2, 4)], 6, [(0, 0), (2, 4)], 8, 5, 6),
    # KIP-279: follower has epoch 2 the leader never saw; two rounds, ends at the end of epoch 0 on the leader
    ([(0, 0), (1, 4), (3, 6)], 9, [(0, 0), (2, 5)], 8, 3, 4),
    # the leader's log started after the follower's epoch: its answer is where its first epoch starts
    ([(5, 10)], 12, [(1, 0)], 7, 4, 7),
    # leader without any epoch information: fall back to the follower's HW
    ([], 0, [(1, 0)], 7, 4, 4),
])
def test_truncation_table(tmp_path: Path, leader: list[tuple[int, int]], leader_leo: int,
                          follower: list[tuple[int, int]], follower_leo: int, hw: int, expected: int) -> None:
    offset, _ = run_rounds(tmp_path, leader, leader_leo, follower, follower_leo, hw)
    assert offset == expected


def test_kip279_needs_a_second_round(tmp_path: Path) -> None:
    offset, rounds = run_rounds(tmp_path, [(0, 0), (1, 4), (3, 6)], 9, [(0, 0), (2, 5)], 8, 3)
    assert (offset, rounds) == (4, 2)


def test_unknown_epoch_answer_is_incomplete() -> None:
    # the leader names epoch 1, the follower only knows epochs 0 and 2: cut to where its epoch 0 ends, ask again
    t = decide_truncation(1, 6, lambda e: (0, 5) if e == 1 else (-1, -1), 8, 3)
    assert t == Truncation(5, complete=False)


def test_leader_without_epoch_in_answer_uses_its_end_offset() -> None:
    assert decide_truncation(-1, 3, lambda e: (e, 10), 10, 0) == Truncation(3, complete=True)
