"""A partition this broker leads: produce validation, reads for Fetch, offsets, and wake-ups.

This is the broker's hot path.  A produced records blob is split into batches by their size
fields, each batch is checked at the header level only (magic, size, CRC-32C, counts — see
``wire.batch``) and appended as opaque bytes; the storage layer patches base offsets.  Records
are decoded only when the broker must change them: legacy message sets from Produce v0-2 are
up-converted, a topic whose ``compression.type`` is not ``producer`` gets its batches recompressed,
and Fetch v0-3 answers are down-converted.

Transactions: a transactional batch is accepted only when the produce path's ``txn_check`` (the
transaction coordinator) says the partition belongs to the producer's open transaction
(INVALID_TXN_STATE otherwise); ``append_marker`` writes the coordinator's COMMIT/ABORT marker.  The
last stable offset is min(HW, first offset of the earliest open transaction), and read_committed
reads stop there and carry the aborted transactions overlapping the read (from the txn index).

Waiting fetches park on an asyncio future per partition that the next append resolves, so a
long-poll costs nothing while idle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.producer_state import BatchMeta, ProducerStates
from kafkatools.storage.txn_index import AbortedTxn
from kafkatools.wire import batch as wb
from kafkatools.wire.records import build_control_batch

TxnCheck = Callable[[wb.BatchHeader], None]


@dataclass(frozen=True, slots=True)
class AppendResult:
    base_offset: int
    log_append_time: int
    log_start_offset: int
    last_offset: int = -1


@dataclass(frozen=True, slots=True)
class FetchRead:
    records: Any  # None, bytes, or a storage file slice (sent with sendfile)
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    aborted: list[AbortedTxn] | None = None  # read_committed only


class Partition:
    def __init__(self, topic: str, index: int, log: Any, state: PartitionState, config: Any) -> None:
        self.topic = topic
        self.index = index
        self.log = log
        self.state = state
        self.config = config  # topic-level log config (storage LogConfig)
        self.producers = ProducerStates.load(log)
        self._waiters: list[asyncio.Future[None]] = []
        # Replication (broker/replication): a follower refuses produce and client fetches; a leader
        # with followers lets the replica manager move the HW, others commit on append.
        self.is_leader = True
        self.on_leader_append: Callable[[Partition], None] | None = None
        if len(state.replicas) <= 1 and self.log.high_watermark < self.log.log_end_offset:
            # The only replica is the whole ISR: its log is committed to the end (Kafka's leader with
            # ISR = {self}).  The checkpointed HW lags after a crash and would hide the tail from
            # consumers, and keep acks=all retries of batches in that tail waiting, until the next append.
            self.log.high_watermark = self.log.log_end_offset

    # -- offsets ---------------------------------------------------------------------------
    @property
    def leader_epoch(self) -> int:
        return self.state.leader_epoch

    @property
    def high_watermark(self) -> int:
        return int(self.log.high_watermark)

    @property
    def last_stable_offset(self) -> int:
        hw = self.high_watermark
        unstable = self.producers.first_unstable_offset
        return hw if unstable is None or unstable >= hw else unstable

    @property
    def log_start_offset(self) -> int:
        return int(self.log.log_start_offset)

    @property
    def log_end_offset(self) -> int:
        return int(self.log.log_end_offset)

    def check_leader_epoch(self, requested: int) -> errors.ErrorCode | None:
        if requested < 0 or requested == self.state.leader_epoch:
            return None
        return errors.FENCED_LEADER_EPOCH if requested < self.state.leader_epoch else errors.UNKNOWN_LEADER_EPOCH

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int]:
        found = self.log.offset_for_timestamp(timestamp)
        if found is None:
            return -1, -1
        offset, ts = found
        return (offset, ts) if offset < self.high_watermark else (-1, -1)

    def max_timestamp_offset(self) -> tuple[int, int]:
        found = self.log.max_timestamp_and_offset()
        if found is None:
            return -1, -1
        ts, offset = found
        return offset, ts

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        epoch_found, end = self.log.end_offset_for_epoch(epoch)
        return int(epoch_found), int(end)

    def delete_records_before(self, offset: int) -> int:
        hw = self.high_watermark
        target = hw if offset == -1 else offset
        if target < 0 or target > hw:
            raise errors.KafkaError(errors.OFFSET_OUT_OF_RANGE,
                                    f"Cannot delete records of {self.topic}-{self.index} past the high watermark {hw}")
        if target > self.log_start_offset:
            self.log.advance_log_start_offset(target)
        return self.log_start_offset

    # -- produce -----------------------------------------------------------------------------
    def append_from_client(self, records: Any, *, acks: int, legacy: bool,
                           txn_check: TxnCheck | None = None) -> AppendResult:
        if records is None or len(records) == 0:
            raise errors.KafkaError(errors.CORRUPT_MESSAGE, "Produce request without records")
        if acks == -1 and len(self.state.isr) < int(self.config.min_insync_replicas):
            raise errors.KafkaError(
                errors.NOT_ENOUGH_REPLICAS,
                f"The size of the current ISR {len(self.state.isr)} is insufficient to satisfy the min.isr "
                f"requirement of {self.config.min_insync_replicas} for partition {self.topic}-{self.index}")
        try:
            if legacy:
                from kafkatools.broker.conversion import up_convert

                records = up_convert(records)
            entries = wb.iter_entries(records)
            headers = [self._check_batch(records, pos, size) for pos, size in entries]
        except errors.CorruptRecordError as e:
            raise errors.KafkaError(e.error, e.message) from None
        if getattr(self.config, "compact", False):
            self._check_keys(records, entries)
        if len(records) > int(self.config.segment_bytes):
            raise errors.KafkaError(errors.RECORD_LIST_TOO_LARGE,
                                    f"Message batch size is {len(records)} bytes which exceeds the maximum "
                                    f"configured segment size of {self.config.segment_bytes}.")
        duplicate = self._check_producers(headers, txn_check)
        if duplicate is not None:  # answered like the original: acks=all still waits for its offsets to commit
            return AppendResult(duplicate.first_offset, -1, self.log_start_offset, duplicate.last_offset)
        # The records stay where the request decoder left them (a view into the frame): storage
        # writes patched headers plus the untouched rest with one pwritev.  Only a rewrite copies.
        buf: bytes | bytearray | memoryview = records
        log_append_time = -1
        if self.config.message_timestamp_type == "LogAppendTime":
            log_append_time = int(time.time() * 1000)
            buf = bytearray(records)
            for (pos, size) in entries:
                wb.patch_log_append_time(buf, pos, size, log_append_time)
        codec = self.config.compression_type
        if codec != "producer":
            from kafkatools.broker.conversion import recompress

            buf = recompress(bytes(buf), codec)
        base = self.log.append(buf, self.state.leader_epoch)
        first_offset = int(base)
        self._record_producers(headers, first_offset)
        self._appended_as_leader()
        return AppendResult(first_offset, log_append_time, self.log_start_offset, self.log_end_offset - 1)

    def _appended_as_leader(self) -> None:
        """After any append as leader: replication moves the high watermark (a single replica commits on
        append), then waiting fetches wake."""
        hook = self.on_leader_append
        if hook is None:
            self.log.high_watermark = self.log.log_end_offset
        else:
            hook(self)
        self.wake()

    def _check_keys(self, records: Any, entries: list[tuple[int, int]]) -> None:
        """A compacted topic keeps the latest record per key, so a record without one is refused (Kafka's
        LogValidator does the same).  The only produce check that decodes records: compacted topics only."""
        from kafkatools.wire.records import iter_records

        try:
            for pos, _size in entries:
                if any(r.key is None for r in iter_records(records, pos, verify_crc=False)):
                    raise errors.KafkaError(errors.INVALID_RECORD, "Compacted topic cannot accept message without "
                                            f"key in topic partition {self.topic}-{self.index}.")
        except errors.CorruptRecordError as e:
            raise errors.KafkaError(e.error, e.message) from None

    def _check_batch(self, buf: Any, pos: int, size: int) -> wb.BatchHeader:
        if buf[pos + wb.MAGIC_OFFSET] != wb.MAGIC_V2:
            raise errors.CorruptRecordError(
                "Produce requests with version 3+ must carry RecordBatch v2 (magic 2)", errors.INVALID_RECORD)
        h = wb.validate_batch(buf, pos, pos + size)
        if h.is_control:
            raise errors.CorruptRecordError("Clients may not produce control batches", errors.INVALID_RECORD)
        if h.record_count != h.last_offset_delta + 1:
            raise errors.CorruptRecordError(
                f"Inner record count {h.record_count} does not match the last offset delta {h.last_offset_delta}",
                errors.INVALID_RECORD)
        if size > int(self.config.max_message_bytes):
            raise errors.CorruptRecordError(
                f"The batch of {size} bytes exceeds max.message.bytes ({self.config.max_message_bytes})",
                errors.MESSAGE_TOO_LARGE)
        return h

    def _check_producers(self, headers: list[wb.BatchHeader], txn_check: TxnCheck | None) -> BatchMeta | None:
        duplicate: BatchMeta | None = None
        for h in headers:
            if h.is_transactional:
                if txn_check is None:
                    raise errors.KafkaError(errors.BY_NAME["INVALID_TXN_STATE"],
                                            "Transactional batches need a transactional id and an open transaction")
                txn_check(h)
            if h.producer_id < 0 or h.base_sequence < 0:
                continue
            found = self.producers.check(h.producer_id, h.producer_epoch, h.base_sequence, h.last_sequence)
            if found is not None:
                duplicate = found
        return duplicate

    def _record_producers(self, headers: list[wb.BatchHeader], first_offset: int) -> None:
        offset = first_offset
        for h in headers:
            last = offset + h.last_offset_delta
            if h.producer_id >= 0 and h.base_sequence >= 0:
                self.producers.record(h.producer_id, h.producer_epoch,
                                      BatchMeta(h.base_sequence, h.last_sequence, offset, last, h.max_timestamp),
                                      h.is_transactional)
            offset = last + 1

    def append_from_coordinator(self, batch: bytes) -> int:
        """A group coordinator's batch (Kafka's AppendOrigin.Coordinator): no sequence checks, but a
        transactional one (TxnOffsetCommit) is fenced by the producer's epoch and opens its
        transaction here like a produce would.  Returns the batch's base offset."""
        h = wb.read_header(batch, 0)
        txn = h.is_transactional and h.producer_id >= 0
        if txn:
            self.producers.check_marker(h.producer_id, h.producer_epoch)  # an older epoch is fenced
        base = int(self.log.append(bytearray(batch), self.state.leader_epoch))
        if txn:
            self.producers.record(h.producer_id, h.producer_epoch,
                                  BatchMeta(h.base_sequence, h.last_sequence, base, base + h.last_offset_delta,
                                            h.max_timestamp), True)
        self._appended_as_leader()
        return base

    def append_marker(self, producer_id: int, epoch: int, commit: bool, coordinator_epoch: int) -> int:
        """Write a COMMIT/ABORT control batch for ``producer_id`` and close its transaction; its offset."""
        self.producers.check_marker(producer_id, epoch)
        now = int(time.time() * 1000)
        batch = build_control_batch("COMMIT" if commit else "ABORT", producer_id=producer_id, producer_epoch=epoch,
                                    coordinator_epoch=coordinator_epoch, timestamp=now)
        offset = int(self.log.append(bytearray(batch), self.state.leader_epoch))
        self.producers.end_txn(producer_id, epoch, offset, commit, coordinator_epoch, now)
        self._appended_as_leader()
        return offset

    # -- fetch -----------------------------------------------------------------------------
    def read_for_fetch(self, offset: int, max_bytes: int, *, committed: bool, min_one_batch: bool,
                       legacy_magic: int | None, to_log_end: bool = False) -> FetchRead:
        hw = self.high_watermark
        start = self.log_start_offset
        if offset < start or offset > self.log_end_offset:
            raise errors.KafkaError(errors.OFFSET_OUT_OF_RANGE,
                                    f"Offset {offset} is out of range [{start}, {self.log_end_offset}]")
        upper = self.log_end_offset if to_log_end else self.last_stable_offset if committed else hw
        records: Any = None
        if offset < upper:
            records = self.log.read(offset, max_bytes, max_offset=upper, min_one_batch=min_one_batch)
            if records is not None and legacy_magic is not None:
                from kafkatools.broker.conversion import down_convert

                records = down_convert(records, legacy_magic, offset)
        aborted = None
        if committed and not to_log_end:
            index = self.producers.aborted
            aborted = index.collect(offset, upper) if index is not None and records is not None else []
        return FetchRead(records, hw, self.last_stable_offset, start, aborted)

    def waiter(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        return fut

    def wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
