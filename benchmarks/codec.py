"""Codec figures: Produce decode vs batch size (should not grow: records stay a memoryview), Fetch response
encode for 100 partitions, small-request overhead, the generated codec against the construct model
(``codec.construct_model``, interpreted and compiled), and record batch build/iterate (``wire.records``).

Run: .venv/bin/python benchmarks/codec.py
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable

from kafkatools.codec import RequestHeader, construct_model, decode_request, encode_request, encode_response, messages


def _us(fn: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e6


def produce_request(batch_size: int) -> messages.ProduceRequest:
    P = messages.ProduceRequest
    return P(
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            P.TopicProduceData(
                name="bench", partition_data=[P.PartitionProduceData(index=0, records=b"\x01" * batch_size)]
            )
        ],
    )


def produce_frame(batch_size: int) -> bytes:
    return encode_request(RequestHeader(0, 9, 1, "bench-client"), produce_request(batch_size))[4:]


def fetch_response(partitions: int) -> messages.FetchResponse:
    F = messages.FetchResponse
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
    FR = messages.FetchRequest
    fetch = encode_request(
        RequestHeader(1, 12, 1, "c"),
        FR(
            max_wait_ms=500,
            topics=[
                FR.FetchTopic(topic="t", partitions=[FR.FetchPartition(partition=i, fetch_offset=10) for i in range(3)])
            ],
        ),
    )[4:]
    print(f"decode Fetch v12 request, 3 partitions: {_us(lambda: decode_request(fetch), 20000):8.2f} us")
    generated_vs_construct()
    record_batches()


def generated_vs_construct() -> None:
    """Message bodies (no header), conversion to/from the generated classes included for the model."""
    cm = construct_model
    produce_body = produce_request(1024 * 1024).encode(9)
    meta = messages.MetadataRequest(topics=[messages.MetadataRequest.MetadataRequestTopic(name="t")])
    meta_body = meta.encode(12)
    fetch = fetch_response(100)
    rows: list[tuple[str, int, Callable[[], object], Callable[[bool], object]]] = [
        (
            "decode Produce v9 request, one 1 MB batch",
            300,
            lambda: messages.ProduceRequest.decode(produce_body, 9),
            lambda c: cm.decode("ProduceRequest", produce_body, 9, compile=c),
        ),
        (
            "decode Metadata v12 request, one topic",
            2000,
            lambda: messages.MetadataRequest.decode(meta_body, 12),
            lambda c: cm.decode("MetadataRequest", meta_body, 12, compile=c),
        ),
        (
            "encode Fetch v12 response, 100 partitions x 1 KB",
            30,
            lambda: fetch.encode(12),
            lambda c: cm.encode(fetch, 12, compile=c),
        ),
    ]
    t0 = time.perf_counter()
    for _, _, _, run in rows:
        run(True)  # compile (cached) outside the timings
    print(f"\nconstruct model: compiling the three message versions took {(time.perf_counter() - t0) * 1e3:.1f} ms")
    print(f"{'':50} {'generated':>11} {'construct':>13} {'construct':>11}")
    print(f"{'':50} {'':>11} {'interpreted':>13} {'compiled':>11}")
    for label, n, gen, run in rows:
        g = _us(gen, n)
        i = _us(lambda run=run: run(False), max(n // 20, 3))
        c = _us(lambda run=run: run(True), max(n // 5, 3))
        print(f"{label:50} {g:8.1f} us {i:10.1f} us {c:8.1f} us   (compiled {c / g:.0f}x generated)")


def record_batches() -> None:
    """MB/s (record payload) to build and iterate one RecordBatch v2 of 1,000 records of 1 KB."""
    import random

    from kafkatools.wire.records import Compression, build_batch, iter_records

    rnd = random.Random(0)
    # half random, half repetitive: lz4 gets something to do without the data being trivial
    records = [(None, rnd.randbytes(512) + b"kafkatools" * 51 + b"!!") for _ in range(1000)]
    payload = sum(len(v) for _, v in records) / 1e6
    stamps = list(range(1000))
    print()
    for codec in (Compression.NONE, Compression.LZ4):
        batch = build_batch(records, compression=codec, timestamps=stamps)
        build = _us(lambda codec=codec: build_batch(records, compression=codec, timestamps=stamps), 10)
        read = _us(lambda batch=batch: sum(1 for _ in iter_records(batch)), 10)
        name = codec.name.lower()
        print(
            f"record batch v2, 1000 x 1 KB, {name:4}: build {payload / build * 1e6:7.1f} MB/s, "
            f"iterate {payload / read * 1e6:7.1f} MB/s  (batch {len(batch) / 1024:.0f} KB)"
        )


if __name__ == "__main__":
    main()
