"""Control records: the single record of a v2 batch whose attributes have the control bit set.

Transaction markers (ABORT/COMMIT) are written by the transaction coordinator at the end of a
transaction; KRaft writes the other types into ``__cluster_metadata``.  Mirrors Kafka's
``ControlRecordType`` and ``EndTransactionMarker``.

Layouts (big-endian)::

    key                 version int16 (0), type int16
    end-txn value       version int16 (0), coordinatorEpoch int32          (ABORT, COMMIT)

``kind_at`` reads a stored control batch's type without decoding the batch: producer-state replay walks
batch headers only, and the header says "control" but not whether it commits or aborts.  The type
sits in the first record's key, a few bytes past the 61-byte header (control batches are never
compressed); record layout after the header (zigzag varints)::

    length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
    keyLength varint | key
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Final, NamedTuple

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire.varint import decode_varint

_KEY: Final = struct.Struct(">hh")
_END_TXN: Final = struct.Struct(">hi")
CURRENT_VERSION: Final = 0


class ControlType(IntEnum):
    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    SNAPSHOT_HEADER = 3
    SNAPSHOT_FOOTER = 4
    KRAFT_VERSION = 5
    KRAFT_VOTERS = 6


class EndTxnMarker(NamedTuple):
    kind: ControlType  # ABORT or COMMIT
    coordinator_epoch: int
    version: int = CURRENT_VERSION


def encode_key(kind: ControlType | int) -> bytes:
    return _KEY.pack(CURRENT_VERSION, int(kind))


def encode_end_txn_value(coordinator_epoch: int) -> bytes:
    return _END_TXN.pack(CURRENT_VERSION, coordinator_epoch)


def parse_key(key: bytes | None) -> tuple[int, int]:
    """``(version, type id)`` of a control record key; the type may be one this module does not name."""
    if key is None or len(key) < _KEY.size:
        raise CorruptRecordError(f"control record key has {0 if key is None else len(key)} bytes, needs 4")
    version, type_id = _KEY.unpack_from(key)
    if version < 0:
        raise CorruptRecordError(f"control record key has negative version {version}")
    return version, type_id


def control_type(key: bytes | None) -> ControlType | int:
    """The key's ControlType, or the raw id when it is unknown (newer Kafka)."""
    type_id = parse_key(key)[1]
    try:
        return ControlType(type_id)
    except ValueError:
        return type_id


def parse_end_txn_marker(key: bytes | None, value: bytes | None) -> EndTxnMarker:
    """Decode a COMMIT/ABORT marker record; CorruptRecordError if it is not one."""
    kind = control_type(key)
    if kind not in (ControlType.ABORT, ControlType.COMMIT):
        raise CorruptRecordError(f"control record type {kind} is not a transaction marker")
    if value is None or len(value) < _END_TXN.size:
        raise CorruptRecordError("transaction marker value is shorter than 6 bytes")
    version, epoch = _END_TXN.unpack_from(value)
    return EndTxnMarker(ControlType(kind), epoch, version)


NOT_CONTROL: Final = -1
#: bytes past the header that always hold a marker's key (5 + 1 + 10 + 5 + 5 + 4, rounded up)
KEY_REACH: Final = 32


def kind_at(buf: bytes | bytearray | memoryview, pos: int) -> int:
    """ControlType id of the control batch at ``pos`` (ABORT 0, COMMIT 1, ...); -1 if unreadable."""
    p = pos + wb.HEADER_SIZE
    try:
        _length, p = decode_varint(buf, p, 5)
        p += 1  # attributes
        _ts, p = decode_varint(buf, p, 10)
        _delta, p = decode_varint(buf, p, 5)
        klen, p = decode_varint(buf, p, 5)
        if klen < 4 or p + 4 > len(buf):
            return NOT_CONTROL
        return parse_key(bytes(buf[p:p + 4]))[1]
    except (CorruptRecordError, IndexError):
        return NOT_CONTROL
