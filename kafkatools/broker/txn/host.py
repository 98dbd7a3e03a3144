"""The broker side of the transaction coordinator: producer ids, ``__transaction_state``, markers, offsets.

Why a separate adapter: the coordinator's state machine (coordinator.py) stays testable without a
broker, and this is the one place that knows how a standalone broker reaches its partitions.
Markers go to the partitions this broker leads; a partition led elsewhere would need
WriteTxnMarkers, which is why a ZooKeeper broker does not coordinate transactions (see
handlers/init_producer_id.py).  A marker on a ``__consumer_offsets`` partition also settles the
transactional offsets its groups hold for the producer (Kafka's ``onTransactionCompleted``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.groups.coordinator import partition_for
from kafkatools.broker.groups.store import OFFSETS_TOPIC
from kafkatools.broker.txn.coordinator import COORDINATOR_EPOCH, TransactionCoordinator
from kafkatools.broker.txn.metadata import TxnMetadata
from kafkatools.broker.txn.state_log import TransactionStateLog

if TYPE_CHECKING:
    from kafkatools.broker.state import BrokerState

log = logging.getLogger("kafkatools.broker")


class BrokerTxnHost:
    def __init__(self, broker: BrokerState) -> None:
        self.broker = broker
        self.state_log = TransactionStateLog(broker)

    def allocate_producer_id(self) -> int:
        return int(self.broker.producer_ids.allocate())

    def write_state(self, meta: TxnMetadata) -> None:
        self.state_log.write(meta)

    def write_marker(self, topic: str, partition: int, producer_id: int, epoch: int, commit: bool) -> None:
        part = self.broker.partition(topic, partition)
        if part is None or not part.is_leader:
            raise errors.KafkaError(errors.NOT_LEADER_OR_FOLLOWER, f"This broker does not lead {topic}-{partition}")
        part.append_marker(producer_id, epoch, commit, COORDINATOR_EPOCH)
        if topic == OFFSETS_TOPIC:
            count = self.broker.group_ownership.partition_count()
            self.broker.groups.txn_offsets.complete(producer_id, commit,
                                                    lambda gid: partition_for(gid, count) == partition)

    def partition_exists(self, topic: str, partition: int) -> bool:
        return (topic, partition) in self.broker.partitions



def open_coordinator(broker: BrokerState) -> TransactionCoordinator:
    """A coordinator bound to ``broker``; ``start`` must run (in the event loop) before it serves."""
    return TransactionCoordinator(BrokerTxnHost(broker), max_timeout_ms=broker.config.transaction_max_timeout_ms)


async def start(coordinator: TransactionCoordinator) -> None:
    """Reload ``__transaction_state`` and settle what the previous run left (standalone brokers only)."""
    host = coordinator.host
    assert isinstance(host, BrokerTxnHost)
    t0 = time.monotonic()
    loaded = host.state_log.load()
    await coordinator.recover(loaded)
    if loaded:
        log.info("Loaded %d transactional id(s) from %s in %.0f ms", len(loaded), "__transaction_state",
                 (time.monotonic() - t0) * 1000)


async def expire_loop(coordinator: TransactionCoordinator, interval_ms: int) -> None:
    """Kafka's transaction.abort.timed.out.transaction.cleanup.interval.ms task."""
    while True:
        await asyncio.sleep(interval_ms / 1000)
        for txn_id in coordinator.abort_expired():
            log.info("Aborted transaction %s after its timeout", txn_id)
