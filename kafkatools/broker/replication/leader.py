"""What a partition leader knows about its followers: their log ends and when they last caught up.

A follower's fetch offset is its log end offset (it only asks for what it does not have).  The
high watermark is the smallest log end over the ISR (the leader's own included) and only moves
forward.  A follower counts as caught up at the time of a fetch that asked for the leader's log
end, or at the time of its previous fetch when it has now reached the log end the leader had
then (so a follower that keeps up with a busy leader is never considered lagging).  It drops out
of the ISR when it is behind and has not caught up for ``replica.lag.time.max.ms``; it rejoins
once its log end reaches both the high watermark and the start of the current leader epoch.

Pure logic with an injected clock (milliseconds), so the rules are tested without sockets.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_OFFSET = -1


@dataclass(slots=True)
class FollowerProgress:
    log_end_offset: int = UNKNOWN_OFFSET
    last_caught_up_ms: int = 0
    last_fetch_ms: int = 0
    leader_end_at_last_fetch: int = UNKNOWN_OFFSET


class LeaderTracker:
    """Follower bookkeeping for one partition this broker leads (reset on every new leader epoch)."""

    def __init__(self, local_id: int, replicas: list[int], isr: list[int], epoch_start_offset: int,
                 now_ms: int) -> None:
        self.local_id = local_id
        self.epoch_start_offset = epoch_start_offset
        self.followers: dict[int, FollowerProgress] = {}
        self.set_replicas(replicas, isr, now_ms)

    def set_replicas(self, replicas: list[int], isr: list[int], now_ms: int) -> None:
        """Keep the progress of known followers; new ones start unknown (caught up now if in the ISR)."""
        old = self.followers
        self.followers = {
            r: old.get(r) or FollowerProgress(last_caught_up_ms=now_ms if r in isr else 0)
            for r in replicas if r != self.local_id
        }

    def update_follower(self, replica_id: int, fetch_offset: int, leader_end: int, now_ms: int) -> bool:
        """Record a fetch; False when ``replica_id`` is not a follower of this partition."""
        p = self.followers.get(replica_id)
        if p is None:
            return False
        if fetch_offset >= leader_end:
            p.last_caught_up_ms = max(p.last_caught_up_ms, now_ms)
        elif p.leader_end_at_last_fetch != UNKNOWN_OFFSET and fetch_offset >= p.leader_end_at_last_fetch:
            p.last_caught_up_ms = max(p.last_caught_up_ms, p.last_fetch_ms)
        p.log_end_offset = fetch_offset
        p.leader_end_at_last_fetch = leader_end
        p.last_fetch_ms = now_ms
        return True

    def high_watermark(self, isr: list[int], leader_end: int) -> int:
        """Smallest log end over the ISR; UNKNOWN_OFFSET while an ISR follower has not fetched yet."""
        hw = leader_end
        for r in isr:
            if r == self.local_id:
                continue
            p = self.followers.get(r)
            if p is None or p.log_end_offset == UNKNOWN_OFFSET:
                return UNKNOWN_OFFSET
            hw = min(hw, p.log_end_offset)
        return hw

    def joining(self, isr: list[int], high_watermark: int) -> list[int]:
        """Followers outside the ISR that have caught up to the HW and into the current leader epoch."""
        return [r for r, p in self.followers.items()
                if r not in isr and p.log_end_offset != UNKNOWN_OFFSET
                and p.log_end_offset >= high_watermark and p.log_end_offset >= self.epoch_start_offset]

    def lagging(self, isr: list[int], leader_end: int, now_ms: int, max_lag_ms: int) -> list[int]:
        """ISR followers behind the leader that have not caught up for more than ``max_lag_ms``."""
        out = []
        for r in isr:
            p = self.followers.get(r)
            if p is None:
                continue
            if p.log_end_offset != leader_end and now_ms - p.last_caught_up_ms > max_lag_ms:
                out.append(r)
        return out
