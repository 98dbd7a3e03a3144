"""The group state machine as a table: state -> the states it may be entered from.

Kafka's ``GroupState`` (classic protocol)::

    Empty               no members; offsets may still be stored
    PreparingRebalance  collecting JoinGroup requests from all members
    CompletingRebalance joined; waiting for the leader's SyncGroup with the assignment
    Stable              assignment handed out; heartbeats keep members alive
    Dead                deleted (or migrated away); requests get COORDINATOR_NOT_AVAILABLE

All transition logic is ``Group.transition`` checking this table, so an illegal move is a bug
that fails loudly instead of a silently corrupted group.
"""

from __future__ import annotations

from enum import Enum


class GroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


VALID_PREVIOUS: dict[GroupState, frozenset[GroupState]] = {
    GroupState.EMPTY: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.PREPARING_REBALANCE: frozenset(
        {GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY}),
    GroupState.COMPLETING_REBALANCE: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.STABLE: frozenset({GroupState.COMPLETING_REBALANCE}),
    GroupState.DEAD: frozenset(GroupState),
}


class IllegalStateTransition(RuntimeError):
    pass


def check_transition(current: GroupState, target: GroupState) -> None:
    if current not in VALID_PREVIOUS[target]:
        raise IllegalStateTransition(f"Group cannot move from {current.value} to {target.value}")
