"""Where a new follower cuts its log: Kafka's KIP-101 / KIP-279 rule, never the high watermark alone.

The follower asks the leader for the end offset of its own latest epoch (OffsetForLeaderEpoch).
The leader answers with the largest epoch it knows that is <= the one asked for, and where that
epoch ends on the leader.  If the follower knows that epoch too, both logs agree up to the smaller
of the two end offsets; everything after it on the follower diverged and goes.  If the follower
does not know the epoch the leader named, it truncates to the end of the largest epoch it does
have below that one and asks again (the logs may have diverged earlier) — hence ``complete``.
A leader without any epoch information (UNDEFINED end offset) leaves only the high watermark as a
safe point, which is what Kafka falls back to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UNDEFINED_EPOCH = -1
UNDEFINED_OFFSET = -1


@dataclass(frozen=True, slots=True)
class Truncation:
    offset: int
    complete: bool


def decide_truncation(leader_epoch: int, leader_end: int, follower_end_for: Callable[[int], tuple[int, int]],
                      follower_leo: int, follower_hw: int) -> Truncation:
    """``leader_epoch``/``leader_end``: the leader's answer; ``follower_end_for(epoch)`` the follower's own cache."""
    if leader_end == UNDEFINED_OFFSET:
        return Truncation(min(follower_hw, follower_leo), True)
    if leader_epoch == UNDEFINED_EPOCH:
        return Truncation(min(leader_end, follower_leo), True)
    epoch, end = follower_end_for(leader_epoch)
    if end == UNDEFINED_OFFSET:
        return Truncation(min(leader_end, follower_leo), True)
    if epoch != leader_epoch:
        return Truncation(min(end, follower_leo), False)
    return Truncation(min(leader_end, follower_leo), True)
