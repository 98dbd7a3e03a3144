"""The controller's leader-election rules, as pure functions of (assignment, state, live brokers).

Kept apart from the ZooKeeper plumbing (controller.py) so every rule is unit-tested on plain data.
The rules are Kafka's ZK controller's:

* ``decide`` -- the steady state every pass restores (Kafka's OfflinePartitionLeaderElection plus
  the ControlledShutdownLeaderElection for brokers in ``shutting_down``): a leader that is dead, not
  in the ISR, or shutting down is replaced by the first replica of the assignment that is alive, in
  the ISR and not shutting down; dead and shutting-down brokers leave the ISR.  A partition with a
  single replica is never moved for a shutdown (there is nowhere to move it), and a shutting-down
  leader with no eligible successor keeps leading -- the controller reports it as "remaining".
* ``preferred`` -- leadership back to the first replica when it is alive and in the ISR
  (PreferredReplicaPartitionLeaderElection).
* ``unclean`` -- ElectLeaders with election type 1: the first live ISR member, else any live replica.
* ``imbalanced`` -- the auto-rebalance trigger (``leader.imbalance.per.broker.percentage``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafkatools import errors
from kafkatools.coordination import zk_layout as zl

Key = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Decision:
    """A partition state the controller wants written (None = keep what is there)."""

    leader: int
    isr: list[int]
    bump_epoch: bool


def decide(replicas: list[int], current: zl.PartitionState | None, live: set[int], unclean: bool = False,
           shutting_down: frozenset[int] | set[int] = frozenset()) -> Decision | None:
    """What a partition's state should become given the live brokers; None when it is right already."""
    eligible = live - set(shutting_down) if len(replicas) > 1 else set(live)
    if current is None:
        alive = [r for r in replicas if r in eligible] or [r for r in replicas if r in live]
        if not alive:
            return Decision(zl.NO_LEADER, list(replicas[:1]), False)
        return Decision(alive[0], alive, False)
    isr_live = [r for r in current.isr if r in live]
    leader = current.leader
    if leader not in eligible or leader not in current.isr:
        candidates = [r for r in replicas if r in eligible and r in current.isr]
        if not candidates and not (leader in live and leader in current.isr):
            candidates = [r for r in replicas if r in live and r in current.isr]  # shutting down beats offline
            if not candidates and unclean:
                candidates = [r for r in replicas if r in eligible] or [r for r in replicas if r in live]
                isr_live = candidates[:1]
        if candidates:
            leader = candidates[0]
        elif not (leader in live and leader in current.isr):
            leader = zl.NO_LEADER
        # else: a shutting-down leader nobody can replace keeps leading until it goes
    new_isr = [r for r in isr_live if r == leader or r in eligible]
    if not new_isr:
        new_isr = list(current.isr[-1:])  # never empty the ISR
    if leader == current.leader and new_isr == current.isr:
        return None
    if leader == zl.NO_LEADER and current.leader == zl.NO_LEADER and new_isr == current.isr:
        return None
    return Decision(leader, new_isr, True)


def preferred(replicas: list[int], current: zl.PartitionState, live: set[int],
              shutting_down: Iterable[int] = ()) -> tuple[errors.ErrorCode, Decision | None]:
    """ElectLeaders type 0 / ``/admin/preferred_replica_election`` / auto rebalance for one partition."""
    first = replicas[0] if replicas else zl.NO_LEADER
    if current.leader == first:
        return errors.BY_NAME["ELECTION_NOT_NEEDED"], None
    if first not in live or first in set(shutting_down) or first not in current.isr:
        return errors.BY_NAME["PREFERRED_LEADER_NOT_AVAILABLE"], None
    return errors.NONE, Decision(first, [r for r in current.isr if r in live] or [first], True)


def unclean(replicas: list[int], current: zl.PartitionState, live: set[int],
            shutting_down: Iterable[int] = ()) -> tuple[errors.ErrorCode, Decision | None]:
    """ElectLeaders type 1: a live leader stays; else an ISR member, else any live replica (data may be lost)."""
    if current.leader in live and current.leader in current.isr:
        return errors.BY_NAME["ELECTION_NOT_NEEDED"], None
    eligible = live - set(shutting_down)
    in_sync = [r for r in replicas if r in eligible and r in current.isr]
    if in_sync:
        return errors.NONE, Decision(in_sync[0], [r for r in current.isr if r in live], True)
    anyone = [r for r in replicas if r in eligible]
    if not anyone:
        return errors.BY_NAME["ELIGIBLE_LEADERS_NOT_AVAILABLE"], None
    return errors.NONE, Decision(anyone[0], [anyone[0]], True)


def imbalanced(placements: dict[Key, tuple[list[int], zl.PartitionState]], percentage: int) -> list[Key]:
    """Partitions to hand back to their preferred leader: those of every broker whose share of
    partitions it prefers but does not lead exceeds ``percentage`` (Kafka's per-broker imbalance ratio)."""
    preferred_of: dict[int, list[Key]] = {}
    for key, (replicas, _) in placements.items():
        if replicas:
            preferred_of.setdefault(replicas[0], []).append(key)
    out: list[Key] = []
    for broker, keys in sorted(preferred_of.items()):
        off = [k for k in keys if placements[k][1].leader != broker]
        if off and len(off) * 100 > percentage * len(keys):
            out.extend(sorted(off))
    return out
