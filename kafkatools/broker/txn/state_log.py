"""The ``__transaction_state`` topic: where the coordinator writes each transition, and reads them back.

Like ``__consumer_offsets`` for groups, the topic is created on first use (compacted,
``transaction.state.log.num.partitions`` partitions, ``transaction.state.log.segment.bytes``
segments) and a transactional id lives in partition ``abs(hashCode(id)) % partitions``.  Records are
Kafka's TransactionLogKey/Value (storage.transaction_log_records), one record per batch, written by
the partition leader (this standalone broker) and committed at once (single replica).  At start-up
``load`` replays every partition and keeps the newest value per transactional id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.groups.coordinator import partition_for
from kafkatools.broker.txn.metadata import TxnMetadata
from kafkatools.errors import CorruptRecordError
from kafkatools.storage import transaction_log_records as tlr
from kafkatools.storage.inspect import iter_log_entries
from kafkatools.wire.records import RecordInput, build_batch, iter_records

if TYPE_CHECKING:
    from kafkatools.broker.state import BrokerState

log = logging.getLogger("kafkatools.broker")

TRANSACTION_STATE_TOPIC = "__transaction_state"


class TransactionStateLog:
    def __init__(self, broker: BrokerState) -> None:
        self.broker = broker

    def partition_count(self) -> int:
        topic = self.broker.cluster.topics.get(TRANSACTION_STATE_TOPIC)
        if topic is not None and topic.partitions:
            return len(topic.partitions)
        return int(self.broker.config.transaction_state_log_num_partitions)

    def partition_of(self, transactional_id: str) -> int:
        return partition_for(transactional_id, self.partition_count())

    def ensure_topic(self) -> bool:
        """Create the topic on first use (replication capped at the live brokers on a standalone broker)."""
        b = self.broker
        if TRANSACTION_STATE_TOPIC in b.cluster.topics:
            return True
        c = b.config
        rf = min(int(c.transaction_state_log_replication_factor), len(b.live_brokers()))
        assignment = b.assign_replicas(int(c.transaction_state_log_num_partitions), max(rf, 1))
        try:
            b.create_topic(TRANSACTION_STATE_TOPIC, assignment, {
                "cleanup.policy": "compact", "compression.type": "uncompressed", "min.insync.replicas": "1",
                "segment.bytes": str(c.transaction_state_log_segment_bytes), "unclean.leader.election.enable": "false"})
        except errors.KafkaError as e:
            if e.error is not errors.TOPIC_ALREADY_EXISTS:
                raise
        return TRANSACTION_STATE_TOPIC in b.cluster.topics

    def write(self, meta: TxnMetadata) -> None:
        """Append the metadata's current state; raises KafkaError (COORDINATOR_NOT_AVAILABLE) if it cannot."""
        self.ensure_topic()
        index = self.partition_of(meta.transactional_id)
        part = self.broker.partition(TRANSACTION_STATE_TOPIC, index)
        if part is None or not part.is_leader:
            raise errors.KafkaError(errors.COORDINATOR_NOT_AVAILABLE,
                                    f"This broker does not lead {TRANSACTION_STATE_TOPIC}-{index}")
        now = int(time.time() * 1000)
        value = tlr.encode_value(meta.to_log_value())
        batch = build_batch([RecordInput(tlr.encode_key(meta.transactional_id), value, now)])
        part.log.append(bytearray(batch), part.leader_epoch)
        if part.on_leader_append is not None:
            part.on_leader_append(part)
        else:
            part.log.high_watermark = part.log.log_end_offset
        part.wake()

    def _records(self) -> Iterator[tuple[bytes | None, bytes | None]]:
        topic = self.broker.cluster.topics.get(TRANSACTION_STATE_TOPIC)
        if topic is None:
            return
        for index in range(len(topic.partitions)):
            part = self.broker.partition(TRANSACTION_STATE_TOPIC, index)
            if part is None:
                continue
            for seg in list(part.log.segments):
                for info, data in iter_log_entries(seg.log_path):
                    if info.last_offset < part.log.log_start_offset:
                        continue
                    try:
                        for r in iter_records(data):
                            yield r.key, r.value
                    except CorruptRecordError as e:
                        log.warning("Skipping a corrupt batch of %s-%d: %s", TRANSACTION_STATE_TOPIC, index, e)

    def load(self) -> dict[str, TxnMetadata]:
        """The newest state of every transactional id in the topic (tombstones remove the id)."""
        out: dict[str, TxnMetadata] = {}
        for key, value in self._records():
            try:
                txn_id = tlr.decode_key(key or b"")
                if txn_id is None:
                    continue
                if value is None:
                    out.pop(txn_id, None)
                else:
                    out[txn_id] = TxnMetadata.from_log_value(txn_id, tlr.decode_value(value))
            except (CorruptRecordError, ValueError) as e:
                log.warning("Skipping an unreadable %s record: %s", TRANSACTION_STATE_TOPIC, e)
        return out
