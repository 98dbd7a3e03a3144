"""The transaction coordinator: Kafka's ``TransactionCoordinator`` for a broker that leads every partition.

Why synchronous: on a standalone broker the coordinator leads the ``__transaction_state``
partitions and every data partition, so a transition is written, its markers appended and the
completion written in one go; Prepare* states are only ever seen after a crash, and ``recover``
finishes them at start-up (and aborts transactions left Ongoing, with an epoch bump that fences
the old producer).  Errors follow Kafka: a wrong producer id -> INVALID_PRODUCER_ID_MAPPING, an
old epoch -> PRODUCER_FENCED (INVALID_PRODUCER_EPOCH for requests older than KIP-588), an EndTxn
that does not match the state -> INVALID_TXN_STATE.

Offsets sent with TxnOffsetCommit are not held here: the group coordinator logs them at once as
transactional records in the group's ``__consumer_offsets`` partition, which AddOffsetsToTxn adds
to the transaction, so the COMMIT/ABORT marker written there like on any other partition settles
them (durably: a restart replays log and marker).

Everything outside the state machine goes through ``TxnHost`` (storage of transitions, markers,
producer ids), which tests replace with a recorder.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from kafkatools import errors
from kafkatools.broker.txn.metadata import COMPLETE, PREPARING, TxnMetadata, TxnState

log = logging.getLogger("kafkatools.broker")
E = errors.BY_NAME
MAX_EPOCH = 32767
COORDINATOR_EPOCH = 0


class TxnHost(Protocol):
    def allocate_producer_id(self) -> int: ...
    def write_state(self, meta: TxnMetadata) -> None: ...
    def write_marker(self, topic: str, partition: int, producer_id: int, epoch: int, commit: bool) -> None: ...
    def partition_exists(self, topic: str, partition: int) -> bool: ...


def _now() -> int:
    return int(time.time() * 1000)


class TransactionCoordinator:
    def __init__(self, host: TxnHost, *, max_timeout_ms: int = 900_000) -> None:
        self.host = host
        self.max_timeout_ms = max_timeout_ms
        self.txns: dict[str, TxnMetadata] = {}
        self.loaded = False  # until recover() ran, requests get COORDINATOR_LOAD_IN_PROGRESS

    # -- checks ---------------------------------------------------------------------------------
    def _producer(self, txn_id: str, producer_id: int, epoch: int) -> TxnMetadata:
        """The metadata of ``txn_id`` if the caller is its current producer, else KafkaError."""
        self.check_loaded()
        meta = self.txns.get(txn_id)
        if meta is None or meta.producer_id != producer_id:
            raise errors.KafkaError(E["INVALID_PRODUCER_ID_MAPPING"],
                                    f"The producer id {producer_id} is not the one of transactional id {txn_id}")
        if epoch != meta.producer_epoch:
            raise errors.KafkaError(E["PRODUCER_FENCED"],
                                    f"Epoch {epoch} of {txn_id} is not the current epoch {meta.producer_epoch}")
        if meta.state in PREPARING:
            raise errors.KafkaError(E["CONCURRENT_TRANSACTIONS"], f"Transaction {txn_id} is completing")
        return meta

    def verify_produce(self, txn_id: str | None, producer_id: int, epoch: int, topic: str, partition: int) -> None:
        """A transactional batch may go to ``topic-partition`` only inside the producer's open transaction."""
        meta = self.txns.get(txn_id) if txn_id is not None else None
        if meta is None or meta.producer_id != producer_id:
            raise errors.KafkaError(E["INVALID_TXN_STATE"], f"No transaction of producer {producer_id} is known")
        if epoch < meta.producer_epoch:
            raise errors.KafkaError(errors.INVALID_PRODUCER_EPOCH,
                                    f"Epoch {epoch} of producer {producer_id} is older than {meta.producer_epoch}")
        if meta.state is not TxnState.ONGOING or (topic, partition) not in meta.partitions:
            raise errors.KafkaError(E["INVALID_TXN_STATE"],
                                    f"{topic}-{partition} was not added to the transaction of {txn_id}")

    # -- InitProducerId ---------------------------------------------------------------------------
    def init_producer_id(self, txn_id: str, timeout_ms: int, producer_id: int = -1,
                         epoch: int = -1) -> tuple[int, int]:
        """``(producer id, epoch)`` for ``txn_id``: a new id, or the old one with a bumped epoch (fencing
        older producers), after aborting a transaction the previous producer left open."""
        self.check_loaded()
        if timeout_ms <= 0 or timeout_ms > self.max_timeout_ms:
            raise errors.KafkaError(E["INVALID_TRANSACTION_TIMEOUT"],
                                    f"transaction.timeout.ms {timeout_ms} is outside (0, {self.max_timeout_ms}]")
        meta = self.txns.get(txn_id)
        now = _now()
        if meta is None:
            meta = TxnMetadata(txn_id, self.host.allocate_producer_id(), 0, timeout_ms, last_update_ms=now)
            self.host.write_state(meta)
            self.txns[txn_id] = meta
            return meta.producer_id, meta.producer_epoch
        if meta.state in PREPARING:
            raise errors.KafkaError(E["CONCURRENT_TRANSACTIONS"], f"Transaction {txn_id} is completing")
        if producer_id >= 0:  # KIP-360: only the current producer (or a retry of its bump) may ask
            if producer_id == meta.producer_id and epoch == meta.last_producer_epoch >= 0 \
                    and meta.state is TxnState.EMPTY:
                return meta.producer_id, meta.producer_epoch  # retried bump: same answer
            if producer_id != meta.producer_id or epoch != meta.producer_epoch:
                raise errors.KafkaError(E["PRODUCER_FENCED"], f"Producer {producer_id}/{epoch} of {txn_id} is fenced")
        if meta.state is TxnState.ONGOING:
            self._abort_with_bump(meta, "a new producer initialised the transactional id")
        previous = meta.producer_epoch
        if meta.producer_epoch + 1 >= MAX_EPOCH:
            meta.producer_id, meta.producer_epoch = self.host.allocate_producer_id(), 0
        else:
            meta.producer_epoch += 1
        new = TxnMetadata(txn_id, meta.producer_id, meta.producer_epoch, timeout_ms, TxnState.EMPTY,
                          last_update_ms=now, last_producer_epoch=previous)
        self.host.write_state(new)
        self.txns[txn_id] = new
        return new.producer_id, new.producer_epoch

    # -- AddPartitionsToTxn / AddOffsetsToTxn -------------------------------------------------------
    def add_partitions(self, txn_id: str, producer_id: int, epoch: int,
                       partitions: list[tuple[str, int]]) -> dict[tuple[str, int], errors.ErrorCode]:
        """Per partition: NONE, or UNKNOWN_TOPIC_OR_PARTITION for missing ones (the rest then
        OPERATION_NOT_ATTEMPTED, as Kafka answers); a transaction-level problem raises KafkaError."""
        meta = self._producer(txn_id, producer_id, epoch)
        missing = [tp for tp in partitions if not self.host.partition_exists(*tp)]
        if missing:
            return {tp: (errors.UNKNOWN_TOPIC_OR_PARTITION if tp in missing else E["OPERATION_NOT_ATTEMPTED"])
                    for tp in partitions}
        new = set(partitions) - meta.partitions
        if new or meta.state is not TxnState.ONGOING:
            meta.begin(_now())
            meta.partitions |= set(partitions)
            self.host.write_state(meta)
        return dict.fromkeys(partitions, errors.NONE)

    def add_offsets(self, txn_id: str, producer_id: int, epoch: int, group_id: str,
                    offsets_partition: tuple[str, int] | None = None) -> None:
        """The group joins the transaction; ``offsets_partition`` (the group's ``__consumer_offsets``
        partition) joins its partitions, so EndTxn writes the marker that settles the group's offsets."""
        meta = self._producer(txn_id, producer_id, epoch)
        if meta.state is not TxnState.ONGOING or (offsets_partition is not None
                                                   and offsets_partition not in meta.partitions):
            meta.begin(_now())
            if offsets_partition is not None:
                meta.partitions.add(offsets_partition)
            self.host.write_state(meta)
        meta.groups.add(group_id)

    def txn_offset_commit(self, txn_id: str, group_id: str, producer_id: int, epoch: int) -> None:
        """Check that the producer may send offsets of ``group_id`` now (the group coordinator logs them)."""
        meta = self._producer(txn_id, producer_id, epoch)
        if meta.state is not TxnState.ONGOING or group_id not in meta.groups:
            raise errors.KafkaError(E["INVALID_TXN_STATE"],
                                    f"Group {group_id} was not added to the transaction of {txn_id}")

    # -- EndTxn -----------------------------------------------------------------------------------
    async def end_txn(self, txn_id: str, producer_id: int, epoch: int, commit: bool) -> None:
        meta = self._producer(txn_id, producer_id, epoch)
        done = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        if meta.state is done:
            return  # a retry of the EndTxn that completed it
        if meta.state is not TxnState.ONGOING:
            raise errors.KafkaError(E["INVALID_TXN_STATE"],
                                    f"Cannot {'commit' if commit else 'abort'} {txn_id} in state {meta.state.display}")
        await self._complete(meta, commit)

    async def _complete(self, meta: TxnMetadata, commit: bool) -> None:
        """Prepare* (logged), markers on every partition (group offsets partitions too), Complete* (logged)."""
        meta.state = TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT
        meta.last_update_ms = _now()
        self.host.write_state(meta)
        self._write_markers(meta, commit)
        meta.state = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        meta.last_update_ms = _now()
        self.host.write_state(meta)

    def _write_markers(self, meta: TxnMetadata, commit: bool) -> None:
        for topic, partition in sorted(meta.partitions):
            if not self.host.partition_exists(topic, partition):
                continue  # deleted meanwhile: nothing to mark
            try:
                self.host.write_marker(topic, partition, meta.producer_id, meta.producer_epoch, commit)
            except errors.KafkaError as e:
                log.warning("Could not write the %s marker of %s to %s-%d: %s", "COMMIT" if commit else "ABORT",
                            meta.transactional_id, topic, partition, e.message)

    def _abort_with_bump(self, meta: TxnMetadata, why: str) -> None:
        """Abort an open transaction under epoch+1, so its producer is fenced (Kafka's PrepareEpochFence)."""
        log.info("Aborting transaction %s (producer %d, epoch %d): %s", meta.transactional_id, meta.producer_id,
                 meta.producer_epoch, why)
        if meta.producer_epoch + 1 < MAX_EPOCH:
            meta.producer_epoch += 1
        meta.state = TxnState.PREPARE_ABORT
        meta.last_update_ms = _now()
        self.host.write_state(meta)
        self._write_markers(meta, False)
        meta.state = TxnState.COMPLETE_ABORT
        self.host.write_state(meta)

    # -- time-outs and recovery -----------------------------------------------------------------
    def abort_expired(self, now_ms: int | None = None) -> list[str]:
        """Abort (with an epoch bump) every Ongoing transaction older than its timeout; their ids."""
        now = _now() if now_ms is None else now_ms
        expired = [m for m in self.txns.values() if m.expired(now)]
        for meta in expired:
            try:
                self._abort_with_bump(meta, f"timed out after {meta.timeout_ms} ms")
            except errors.KafkaError as e:
                log.warning("Could not abort expired transaction %s: %s", meta.transactional_id, e.message)
        return [m.transactional_id for m in expired]

    async def recover(self, loaded: dict[str, TxnMetadata]) -> None:
        """Adopt the states read from ``__transaction_state``: finish Prepare*, abort Ongoing."""
        self.txns = dict(loaded)
        for meta in loaded.values():
            if meta.state is TxnState.PREPARE_COMMIT:
                meta.state = TxnState.ONGOING
                await self._complete(meta, True)
            elif meta.state in (TxnState.PREPARE_ABORT, TxnState.PREPARE_EPOCH_FENCE):
                meta.state = TxnState.ONGOING
                await self._complete(meta, False)
            elif meta.state is TxnState.ONGOING:
                self._abort_with_bump(meta, "the coordinator restarted with the transaction open")
        self.loaded = True

    def check_loaded(self) -> None:
        if not self.loaded:
            raise errors.KafkaError(E["COORDINATOR_LOAD_IN_PROGRESS"], "The transaction coordinator is loading")

    def describe(self, txn_id: str) -> TxnMetadata | None:
        return self.txns.get(txn_id)

    def listing(self) -> list[TxnMetadata]:
        return [m for m in self.txns.values() if m.state is not TxnState.DEAD]


__all__ = ["COMPLETE", "TransactionCoordinator", "TxnHost"]


def client_error(error: errors.ErrorCode, old_version: bool) -> errors.ErrorCode:
    """PRODUCER_FENCED (KIP-588) is INVALID_PRODUCER_EPOCH for requests older than the version that knows it."""
    if old_version and error is E["PRODUCER_FENCED"]:
        return errors.INVALID_PRODUCER_EPOCH
    return error
