"""A controller that only does what it is told: fixed role assignments pushed to in-process brokers.

Tests and experiments use it where a ZooKeeper controller will sit: ``assign`` plays Kafka's
LeaderAndIsr for every replica of a partition, and as each leader's IsrChannel it accepts ISR
changes from the current leader at the current leader epoch (as the conditional write of the
partition state znode would) and tells the followers.  It shows the contract the real
controller has to honour, in a few lines.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.replication.manager import ReplicaManager
from kafkatools.broker.replication.roles import copy_state


class StaticController:
    def __init__(self) -> None:
        self.managers: dict[int, ReplicaManager] = {}
        self.addresses: dict[int, tuple[str, int]] = {}
        self.states: dict[tuple[str, int], PartitionState] = {}
        self.offline: set[int] = set()  # brokers it no longer talks to (a test's "dead" brokers)

    def register(self, manager: ReplicaManager, host: str, port: int) -> None:
        """Add a broker: it reports ISR changes here and learns every broker's address."""
        self.managers[manager.node_id] = manager
        self.addresses[manager.node_id] = (host, port)
        manager.isr_channel = self
        for m in self.managers.values():
            m.update_brokers(self.addresses)

    def assign(self, topic: str, partition: int, state: PartitionState,
               to: list[int] | None = None) -> dict[int, errors.ErrorCode | None]:
        """Record ``state`` and apply it on its replicas (or only on ``to``): broker id -> outcome."""
        self.states[(topic, partition)] = copy_state(state)
        targets = state.replicas if to is None else to
        return {b: self.managers[b].apply(topic, partition, copy_state(state))
                for b in targets if b in self.managers and b not in self.offline}

    async def alter_isr(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        current = self.states.get((topic, partition))
        if current is None or proposed.leader != current.leader or proposed.leader_epoch != current.leader_epoch:
            return None
        current.isr = list(proposed.isr)
        for b in current.replicas:
            if b != current.leader and b in self.managers and b not in self.offline:
                self.managers[b].apply(topic, partition, copy_state(current))
        return copy_state(current)
