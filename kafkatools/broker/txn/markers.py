"""Reading the kind of a transaction marker (COMMIT/ABORT) from a stored control batch, cheaply.

Why: producer-state replay walks batch headers only; a control batch's header says "control" but
not whether it commits or aborts.  The answer sits in the first record's key, a few bytes past the
61-byte header, so it is read from there without decoding the batch (control batches are never
compressed).

Record layout after the batch header (zigzag varints)::

    length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
    keyLength varint | key: version int16, type int16 (wire.control)
"""

from __future__ import annotations

from typing import Final

from kafkatools.errors import CorruptRecordError
from kafkatools.wire import batch as wb
from kafkatools.wire import control
from kafkatools.wire.varint import decode_varint

NOT_CONTROL: Final = -1
#: bytes past the header that always hold a marker's key (5 + 1 + 10 + 5 + 5 + 4, rounded up)
KEY_REACH: Final = 32


def control_kind_at(buf: bytes | bytearray | memoryview, pos: int) -> int:
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
        return control.parse_key(bytes(buf[p:p + 4]))[1]
    except (CorruptRecordError, IndexError):
        return NOT_CONTROL
