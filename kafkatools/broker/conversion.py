"""Record conversions the broker does only when it must: the slow path, kept out of partition.py.

* ``up_convert``: Produce v0-2 carries legacy message sets (magic 0/1); they are stored as
  RecordBatch v2 like everything else (Kafka >= 3.0 does the same with message format v2).
* ``down_convert``: Fetch v0-3 clients cannot read v2 batches; they get magic 0 (v0-1) or magic 1
  (v2-3) message sets built from the records (Kafka's ``LazyDownConversionRecords``).
* ``recompress``: a topic whose ``compression.type`` names a codec gets its batches rewritten in
  that codec (``producer`` keeps the producer's choice and never reaches here).
"""

from __future__ import annotations

from typing import Any

from kafkatools import errors


def _file_bytes(records: Any) -> bytes:
    if isinstance(records, bytes | bytearray | memoryview):
        return bytes(records)
    return bytes(records.read_bytes())


def up_convert(records: Any) -> bytes:
    """Legacy message set -> v2: each legacy entry (a message or a compressed wrapper) becomes one batch."""
    from kafkatools.wire.log_entries import iter_batches
    from kafkatools.wire.records import Compression, RecordInput, build_batch

    out = bytearray()
    for b in iter_batches(_file_bytes(records)):
        if not b.is_valid:
            raise errors.CorruptRecordError(f"Legacy message at position {b.position} is corrupt")
        recs = [RecordInput(r.key, r.value, r.timestamp if r.timestamp >= 0 else None, r.headers)
                for r in b.records()]
        if recs:
            out += build_batch(recs, compression=Compression(b.compression))
    return bytes(out)


def down_convert(records: Any, magic: int, fetch_offset: int) -> bytes:
    """v2 batches -> a legacy message set of ``magic``, keeping offsets (records before the fetch offset dropped)."""
    from kafkatools.wire.legacy import build_message_set
    from kafkatools.wire.log_entries import iter_batches
    from kafkatools.wire.records import RecordInput

    out = bytearray()
    for b in iter_batches(_file_bytes(records), strict=False):
        if b.is_control or not b.is_valid:
            continue
        for r in b.records():
            if r.offset >= fetch_offset:
                out += build_message_set([RecordInput(r.key, r.value, r.timestamp)], magic=magic,
                                         base_offset=r.offset)
    return bytes(out)


def recompress(records: bytes, codec: str) -> bytes:
    from kafkatools.wire.batch import read_header
    from kafkatools.wire.log_entries import iter_batches
    from kafkatools.wire.records import Compression, RecordInput, build_batch

    target = Compression.NONE if codec == "uncompressed" else Compression.from_name(codec)
    out = bytearray()
    for b in iter_batches(records):
        h = read_header(records, b.position)
        if h.compression == target:
            out += records[b.position : b.position + b.size]
            continue
        recs = [RecordInput(r.key, r.value, r.timestamp, r.headers) for r in b.records()]
        out += build_batch(recs, compression=target, producer_id=h.producer_id, producer_epoch=h.producer_epoch,
                           base_sequence=h.base_sequence, is_transactional=h.is_transactional,
                           log_append_time=h.log_append_time)
    return bytes(out)
