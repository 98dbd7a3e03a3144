"""Records of ``__transaction_state``: Kafka's ``TransactionLogKey`` / ``TransactionLogValue`` (version 0).

Why in this format: the transaction coordinator's state must survive restarts, and writing it the
way Kafka does keeps ``kafka-dump-log --transaction-log-decoder`` (and Kafka itself) able to read
the topic.  A null value is the tombstone of an expired transactional id.

Layouts (big-endian, classic encoding: int16 string lengths, int32 array lengths)::

    key    version int16 (0) | transactionalId string
    value  version int16 (0) | producerId int64 | producerEpoch int16 | transactionTimeoutMs int32 |
           transactionStatus int8 | transactionPartitions [ topic string | partitionIds [int32] ] (nullable) |
           transactionLastUpdateTimestampMs int64 | transactionStartTimestampMs int64

transactionStatus: 0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort, 4 CompleteCommit,
5 CompleteAbort, 6 Dead, 7 PrepareEpochFence (Kafka's ``TransactionState`` ids).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from kafkatools.errors import CorruptRecordError

KEY_VERSION: Final = 0
VALUE_VERSION: Final = 0
_H: Final = struct.Struct(">h")
_I: Final = struct.Struct(">i")
_VALUE_HEAD: Final = struct.Struct(">hqhib")
_TIMES: Final = struct.Struct(">qq")


@dataclass(slots=True)
class TransactionLogValue:
    producer_id: int
    producer_epoch: int
    timeout_ms: int
    status: int
    partitions: dict[str, list[int]] = field(default_factory=dict)
    last_update_ms: int = -1
    start_ms: int = -1


def _string(text: str) -> bytes:
    raw = text.encode()
    return _H.pack(len(raw)) + raw


def encode_key(transactional_id: str) -> bytes:
    return _H.pack(KEY_VERSION) + _string(transactional_id)


def encode_value(v: TransactionLogValue) -> bytes:
    parts = [_VALUE_HEAD.pack(VALUE_VERSION, v.producer_id, v.producer_epoch, v.timeout_ms, v.status),
             _I.pack(len(v.partitions))]
    for topic in sorted(v.partitions):
        ids = sorted(v.partitions[topic])
        parts += [_string(topic), _I.pack(len(ids)), struct.pack(f">{len(ids)}i", *ids)]
    parts.append(_TIMES.pack(v.last_update_ms, v.start_ms))
    return b"".join(parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, s: struct.Struct) -> tuple[int, ...]:
        if self.pos + s.size > len(self.data):
            raise CorruptRecordError("__transaction_state record is truncated")
        out = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return out

    def string(self) -> str:
        (n,) = self.take(_H)
        if n < 0 or self.pos + n > len(self.data):
            raise CorruptRecordError("__transaction_state record has a bad string length")
        text = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return text


def decode_key(key: bytes) -> str | None:
    """The transactional id, or None for a key version this module does not know."""
    r = _Reader(key)
    (version,) = r.take(_H)
    if version != KEY_VERSION:
        return None
    return r.string()


def decode_value(value: bytes) -> TransactionLogValue:
    """Value versions 0 and 1 (1 differs only by flexible encoding, which Kafka writes with TV2: refused)."""
    r = _Reader(value)
    version, pid, epoch, timeout, status = r.take(_VALUE_HEAD)
    if version != VALUE_VERSION:
        raise CorruptRecordError(f"__transaction_state value version {version} is not supported")
    partitions: dict[str, list[int]] = {}
    (count,) = r.take(_I)
    for _ in range(max(count, 0)):
        topic = r.string()
        (n,) = r.take(_I)
        partitions[topic] = [r.take(_I)[0] for _ in range(max(n, 0))]
    last_update, start = r.take(_TIMES)
    return TransactionLogValue(pid, epoch, timeout, status, partitions, last_update, start)
