"""Idempotent-producer bookkeeping for one partition: epochs and the last five batches' sequences.

Why five: a producer keeps at most five batches in flight per partition
(``max.in.flight.requests.per.connection`` <= 5 with idempotence), so a retried batch is always
one of the last five it sent; answering a retry with the original offsets (instead of appending
it again) is what makes the producer idempotent.  Kafka's ``ProducerStateManager`` keeps the
same window.  Checks, in Kafka's order: an older epoch -> INVALID_PRODUCER_EPOCH; a newer epoch
must start at sequence 0; a known batch -> duplicate; otherwise the first sequence must follow
the last one (wrapping at Int32.MAX) -> else OUT_OF_ORDER_SEQUENCE_NUMBER; an unknown producer
must start at 0 -> else UNKNOWN_PRODUCER_ID.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from kafkatools import errors

WINDOW = 5
INT32_MAX = 0x7FFFFFFF


class BatchMeta(NamedTuple):
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerEntry:
    epoch: int
    batches: deque[BatchMeta] = field(default_factory=lambda: deque(maxlen=WINDOW))

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else -1


def _next_seq(seq: int) -> int:
    return 0 if seq == INT32_MAX else seq + 1


class ProducerStates:
    """Per-partition table: producer id -> ProducerEntry."""

    def __init__(self) -> None:
        self.producers: dict[int, ProducerEntry] = {}

    def check(self, producer_id: int, epoch: int, first_seq: int, last_seq: int) -> BatchMeta | None:
        """Validate an incoming batch; returns the original BatchMeta when it is a duplicate.

        Raises KafkaError with Kafka's error code when the batch must be rejected.
        """
        entry = self.producers.get(producer_id)
        if entry is None:
            if first_seq != 0:
                raise errors.KafkaError(
                    errors.UNKNOWN_PRODUCER_ID,
                    f"Found no record of producerId={producer_id} on the broker at sequence {first_seq}")
            return None
        if epoch < entry.epoch:
            raise errors.KafkaError(
                errors.INVALID_PRODUCER_EPOCH,
                f"Epoch of producer {producer_id} is {epoch}, which is smaller than the last seen epoch {entry.epoch}")
        if epoch > entry.epoch:
            if first_seq != 0:
                raise errors.KafkaError(
                    errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"Invalid sequence number for new epoch of producer {producer_id}: {epoch} (request epoch), "
                    f"{first_seq} (seq. number), {entry.epoch} (current producer epoch)")
            return None
        for meta in entry.batches:
            if meta.first_seq == first_seq and meta.last_seq == last_seq:
                return meta
        expected = _next_seq(entry.last_seq)
        if first_seq != expected:
            raise errors.KafkaError(
                errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
                f"Out of order sequence number for producer {producer_id}: "
                f"{first_seq} (incoming seq. number), {entry.last_seq} (current end sequence number)")
        return None

    def record(self, producer_id: int, epoch: int, meta: BatchMeta) -> None:
        entry = self.producers.get(producer_id)
        if entry is None or epoch > entry.epoch:
            entry = ProducerEntry(epoch)
            self.producers[producer_id] = entry
        entry.batches.append(meta)


class ProducerIdAllocator:
    """Hands out producer ids; ``persist`` is called with the next free id before it is used up."""

    BLOCK = 1000

    def __init__(self, next_id: int, persist: object = None) -> None:
        self._next = next_id
        self._block_end = next_id
        self._persist = persist

    def allocate(self) -> int:
        if self._next >= self._block_end:
            self._block_end = self._next + self.BLOCK
            if callable(self._persist):
                self._persist(self._block_end)
        pid = self._next
        self._next += 1
        return pid
