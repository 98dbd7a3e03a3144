"""One transactional id's coordinator-side state (Kafka's ``TransactionMetadata`` / ``TransactionState``).

The state machine (Kafka's transitions)::

    Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn--> PrepareCommit --markers--> CompleteCommit
                                                    \\-----> PrepareAbort  --markers--> CompleteAbort
    Complete* --AddPartitions/AddOffsets--> Ongoing;   any but Prepare* --InitProducerId--> Empty (epoch bump)

Every transition is written to ``__transaction_state`` before it is acted on (``to_log_value``), so
a restarted coordinator finishes Prepare* states and aborts Ongoing ones.  Offsets sent with
TxnOffsetCommit are the group coordinator's (logged as transactional records, groups/txn_offsets.py);
``groups`` only remembers which groups joined, to check TxnOffsetCommit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from kafkatools.storage.transaction_log_records import TransactionLogValue


class TxnState(IntEnum):
    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def display(self) -> str:
        """Kafka's name for the state (DescribeTransactions / ListTransactions)."""
        return "".join(w.capitalize() for w in self.name.split("_"))


PREPARING = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)
COMPLETE = (TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)


@dataclass(slots=True)
class TxnMetadata:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState = TxnState.EMPTY
    partitions: set[tuple[str, int]] = field(default_factory=set)
    start_ms: int = -1
    last_update_ms: int = -1
    last_producer_epoch: int = -1  # the epoch before the newest bump (a retried InitProducerId)
    groups: set[str] = field(default_factory=set)

    def to_log_value(self) -> TransactionLogValue:
        parts: dict[str, list[int]] = {}
        for topic, p in self.partitions:
            parts.setdefault(topic, []).append(p)
        return TransactionLogValue(self.producer_id, self.producer_epoch, self.timeout_ms, int(self.state), parts,
                                   self.last_update_ms, self.start_ms)

    @classmethod
    def from_log_value(cls, transactional_id: str, v: TransactionLogValue) -> TxnMetadata:
        return cls(transactional_id, v.producer_id, v.producer_epoch, v.timeout_ms, TxnState(v.status),
                   {(t, p) for t, ps in v.partitions.items() for p in ps}, v.start_ms, v.last_update_ms)

    def begin(self, now_ms: int) -> None:
        """Empty/Complete* -> Ongoing on the first AddPartitions/AddOffsets of a transaction."""
        if self.state is not TxnState.ONGOING:
            self.state = TxnState.ONGOING
            self.start_ms = now_ms
            self.partitions = set()
            self.groups = set()
        self.last_update_ms = now_ms

    def expired(self, now_ms: int) -> bool:
        return self.state is TxnState.ONGOING and self.start_ms >= 0 and now_ms - self.start_ms > self.timeout_ms
