"""The leader's follower bookkeeping: HW over the ISR, caught-up times, ISR shrink and expand."""

from __future__ import annotations

from kafkatools.broker.replication.leader import UNKNOWN_OFFSET, LeaderTracker


def test_hw_is_min_leo_over_isr_and_waits_for_unknown_followers() -> None:
    t = LeaderTracker(1, [1, 2, 3], [1, 2, 3], epoch_start_offset=0, now_ms=0)
    assert t.high_watermark([1, 2, 3], 10) == UNKNOWN_OFFSET
    t.update_follower(2, 7, 10, 1)
    assert t.high_watermark([1, 2, 3], 10) == UNKNOWN_OFFSET
    t.update_follower(3, 10, 10, 2)
    assert t.high_watermark([1, 2, 3], 10) == 7
    assert t.high_watermark([1, 3], 10) == 10  # follower 2 out of the ISR no longer holds the HW back
    assert t.high_watermark([1], 12) == 12


def test_unknown_replica_is_refused() -> None:
    t = LeaderTracker(1, [1, 2], [1, 2], 0, 0)
    assert not t.update_follower(9, 0, 0, 0)
    assert t.update_follower(2, 0, 0, 0)


def test_lagging_follower_leaves_after_max_lag() -> None:
    t = LeaderTracker(1, [1, 2, 3], [1, 2, 3], 0, now_ms=1000)
    t.update_follower(2, 5, 5, 1000)
    t.update_follower(3, 5, 5, 1000)
    # leader appends up to 9; follower 2 keeps fetching (and catching up), follower 3 stops
    t.update_follower(2, 5, 9, 20_000)  # behind the current end, but reached the end of its previous fetch
    assert t.followers[2].last_caught_up_ms == 1000
    t.update_follower(2, 9, 9, 25_000)
    assert t.lagging([1, 2, 3], 9, 31_001, 30_000) == [3]
    assert t.lagging([1, 2, 3], 9, 30_999, 30_000) == []


def test_follower_reaching_previous_end_counts_as_caught_up_at_previous_fetch() -> None:
    t = LeaderTracker(1, [1, 2], [1, 2], 0, now_ms=0)
    t.update_follower(2, 0, 10, 100)  # behind: leader end was 10 at this fetch
    assert t.followers[2].last_caught_up_ms == 0
    t.update_follower(2, 10, 20, 200)  # reached 10 although the leader moved on to 20
    assert t.followers[2].last_caught_up_ms == 100
    assert t.lagging([1, 2], 20, 30_100, 30_000) == []
    assert t.lagging([1, 2], 20, 30_101, 30_000) == [2]


def test_follower_at_leader_end_is_never_lagging() -> None:
    t = LeaderTracker(1, [1, 2], [1, 2], 0, now_ms=0)
    t.update_follower(2, 4, 4, 0)
    assert t.lagging([1, 2], 4, 10**9, 30_000) == []


def test_join_needs_hw_and_current_epoch_start() -> None:
    t = LeaderTracker(1, [1, 2, 3], [1, 2], epoch_start_offset=8, now_ms=0)
    t.update_follower(2, 10, 10, 0)
    t.update_follower(3, 7, 10, 0)
    assert t.joining([1, 2], 7) == []  # 3 has the HW but not the start of the leader's epoch
    t.update_follower(3, 8, 10, 1)
    assert t.joining([1, 2], 8) == [3]
    assert t.joining([1, 2], 9) == []


def test_set_replicas_keeps_known_progress() -> None:
    t = LeaderTracker(1, [1, 2], [1, 2], 0, now_ms=0)
    t.update_follower(2, 5, 5, 10)
    t.set_replicas([1, 2, 3], [1, 2], now_ms=50)
    assert t.followers[2].log_end_offset == 5
    assert t.followers[3].log_end_offset == UNKNOWN_OFFSET and t.followers[3].last_caught_up_ms == 0
