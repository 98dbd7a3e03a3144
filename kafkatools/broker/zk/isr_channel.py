"""ISR changes of a ZooKeeper-mode leader: a conditional write of the partition's ``state`` znode.

The leader proposes a new ISR at its leader epoch; we re-read the znode and write only if it still
names this leader at that epoch, conditional on the zkVersion we read (the partition epoch).  A
controller that moved leadership meanwhile wins: the write fails with BadVersionError, the
proposal is refused (None) and the broker learns the new state from its watch.  (No
``isr_change_`` notification: nobody here consumes them, and IBP >= 2.7 Kafka no longer writes them.)
The ZooKeeper calls run in a worker thread so the event loop never blocks on ZooKeeper.  While
ZooKeeper is unreachable (or the znode unreadable) a proposal is refused too: the ISR stays as it
is recorded, and the leader proposes again later.
"""

from __future__ import annotations

import asyncio

from kafkatools.broker.cluster import PartitionState
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.errors import BadVersionError, CoordinationError


class ZkIsrChannel:
    def __init__(self, registry: ClusterRegistry) -> None:
        self.registry = registry

    async def alter_isr(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        return await asyncio.to_thread(self.write, topic, partition, proposed)

    def write(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        """The blocking write: the accepted state, or None when the znode moved on (or ZooKeeper failed)."""
        try:
            return self._write(topic, partition, proposed)
        except CoordinationError:
            return None

    def _write(self, topic: str, partition: int, proposed: PartitionState) -> PartitionState | None:
        found = self.registry.partition_state(topic, partition)
        if found is None:
            return None
        current, version = found
        if current.leader != proposed.leader or current.leader_epoch != proposed.leader_epoch:
            return None
        state = zl.PartitionState(current.leader, current.leader_epoch, list(proposed.isr), current.controller_epoch,
                                  current.leader_recovery_state)
        try:
            self.registry.update_partition_state(topic, partition, state, version)
        except BadVersionError:
            return None
        return PartitionState(state.leader, state.leader_epoch, list(proposed.replicas), list(state.isr))
