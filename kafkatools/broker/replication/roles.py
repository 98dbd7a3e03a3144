"""The boundary between a broker's replication machinery and whoever decides leaders and ISRs.

Inbound, the controller calls ``ReplicaManager.apply(topic, partition, PartitionState)`` (Kafka's
LeaderAndIsr for one partition) and ``ReplicaManager.update_brokers`` (where each broker listens).
Outbound, a leader that wants to shrink or expand the ISR proposes the new state through an
``IsrChannel`` and applies it only once accepted: in ZooKeeper mode the channel writes the
partition's ``state`` znode conditionally on its zkVersion (the partition epoch), so a leader
that lost a race against the controller learns it instead of diverging.
"""

from __future__ import annotations

from typing import Protocol

from kafkatools.broker.cluster import PartitionState


class IsrChannel(Protocol):
    async def alter_isr(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        """Persist ``proposed`` (same leader and leader epoch, new ISR); the state now in force, or None if refused."""
        ...


class AcceptingIsrChannel:
    """Accepts every proposal: for a broker that is its own controller."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, int, PartitionState]] = []

    async def alter_isr(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        self.changes.append((topic, partition, proposed))
        return proposed


def copy_state(state: PartitionState) -> PartitionState:
    return PartitionState(state.leader, state.leader_epoch, list(state.replicas), list(state.isr))
