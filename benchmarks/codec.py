"""Codec figures: Produce decode vs batch size (should not grow: records stay a memoryview), Fetch response
encode for 100 partitions, small-request overhead, and record batch build/iterate when wire.records exists.

Run: .venv/bin/python benchmarks/codec.py
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from kafkatools.codec import RequestHeader, decode_request, encode_request, encode_response, messages


def _us(fn: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e6


def produce_frame(batch_size: int) -> bytes:
    P = messages.ProduceRequest  # noqa: N806
    req = P(
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            P.TopicProduceData(
                name="bench", partition_data=[P.PartitionProduceData(index=0, records=b"\x01" * batch_size)]
            )
        ],
    )
    return encode_request(RequestHeader(0, 9, 1, "bench-client"), req)[4:]


def fetch_response(partitions: int) -> messages.FetchResponse:
    F = messages.FetchResponse  # noqa: N806
    parts = [
        F.PartitionData(
            partition_index=i,
            high_watermark=1000,
            last_stable_offset=1000,
            log_start_offset=0,
            records=b"\x02" * 1024,
        )
        for i in range(partitions)
    ]
    return F(responses=[F.FetchableTopicResponse(topic="bench", partitions=parts)])


def main() -> None:
    for label, size in (("16 KB", 16 * 1024), ("1 MB", 1024 * 1024), ("16 MB", 16 * 1024 * 1024)):
        frame = produce_frame(size)
        us = _us(lambda f=frame: decode_request(f), 2000)
        print(f"decode Produce v9 request, one {label} batch: {us:8.2f} us")
    resp = fetch_response(100)
    for v in (11, 12, 16):
        us = _us(lambda v=v: encode_response(1, v, 7, resp), 300)
        print(f"encode Fetch v{v} response, 100 partitions x 1 KB: {us:8.2f} us")
    meta = encode_request(
        RequestHeader(3, 12, 1, "c"),
        messages.MetadataRequest(topics=[messages.MetadataRequest.MetadataRequestTopic(name="t")]),
    )[4:]
    print(f"decode Metadata v12 request, 1 topic: {_us(lambda: decode_request(meta), 20000):8.2f} us")
    FR = messages.FetchRequest  # noqa: N806
    fetch = encode_request(
        RequestHeader(1, 12, 1, "c"),
        FR(
            max_wait_ms=500,
            topics=[
                FR.FetchTopic(
                    topic="t", partitions=[FR.FetchPartition(partition=i, fetch_offset=10) for i in range(3)]
                )
            ],
        ),
    )[4:]
    print(f"decode Fetch v12 request, 3 partitions: {_us(lambda: decode_request(fetch), 20000):8.2f} us")
    record_batches()


def record_batches() -> None:
    """TODO(wire.records): print MB/s to build and iterate RecordBatch v2 with 1 KB records, uncompressed
    and lz4, through kafkatools.wire.records' public functions once that module lands."""
    try:
        import kafkatools.wire.records  # noqa: F401
    except ImportError:
        print("record batch build/iterate: TODO - kafkatools.wire.records not available yet")
        return
    print("record batch build/iterate: TODO - wire up kafkatools.wire.records' public functions")


if __name__ == "__main__":
    main()
