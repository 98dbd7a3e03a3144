"""Four real clients produce and consume 100,000 records each against a broker started by its command.

confluent-kafka (librdkafka 2.16), kafka-python, aiokafka and kcat (librdkafka 2.0, a separate
process) each send 100,000 records to their own 4-partition topic and read them back with the same
client.  Every record must come back exactly once, in order per partition, with the same key, value,
headers and timestamp; the partitions' end offsets must equal what was sent (no stored duplicates);
and the segment files must show batches of every codec the client was asked to use.

Runtime choice (2 shared cores): the 100,000 records of a client are *split* across its codecs in
consecutive slices (20,000 per codec for five codecs) rather than sent 100,000 times per codec; the
whole file takes well under a minute on an idle machine.

Codecs per client: confluent-kafka, aiokafka (through cramjam) and kcat use none, gzip, snappy, lz4
and zstd.  kafka-python needs the python-snappy, lz4 and zstandard modules for the last three; it
uses the codecs whose module is importable (the test extras install all three), and
``test_kafka_python_codec_modules`` fails, naming the package, for any codec it could not exercise.

kcat cannot set per-record timestamps or headers from its input file: its records carry constant
``-H`` headers per codec run and producer-assigned timestamps, so its read-back (kcat ``-J``) is
compared field for field, timestamp included, with an independent confluent-kafka read of the topic.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import kafka.codec
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.integration.broker_process import BrokerProcess
from tests.integration.helpers_records import (
    ALL_CODECS,
    Rec,
    assert_same,
    by_partition,
    codec_chunks,
    create_topic,
    make_records,
    norm_headers,
    stored_codecs,
)

pytestmark = pytest.mark.timeout(300)

N = 100_000
PARTITIONS = 4
KCAT = "/usr/bin/kcat"
KAFKA_PYTHON_CODEC_MODULES = {"snappy": ("python-snappy", kafka.codec.has_snappy),
                              "lz4": ("lz4", kafka.codec.has_lz4),
                              "zstd": ("zstandard", kafka.codec.has_zstd)}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("clients"), overrides={"num.partitions": str(PARTITIONS)}).start()
    try:
        yield b
    finally:
        b.kill()
    assert "Traceback" not in (b.output.read_text(errors="replace") if b.output else ""), b.log_tail(80)


def kafka_python_codecs() -> list[str]:
    return ["none", "gzip"] + [c for c, (_, has) in KAFKA_PYTHON_CODEC_MODULES.items() if has()]


def confluent_read(bootstrap: str, topic: str, expected: int) -> dict[int, list[tuple[int, int, Rec]]]:
    """``partition -> [(offset, timestamp type, Rec)]`` read by confluent-kafka from offset 0."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "enable.auto.commit": False,
                  "fetch.message.max.bytes": 1 << 20})
    out: dict[int, list[tuple[int, int, Rec]]] = {p: [] for p in range(PARTITIONS)}
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        seen, deadline = 0, time.monotonic() + 120
        while seen < expected and time.monotonic() < deadline:
            for m in c.consume(5000, 1.0):
                assert m.error() is None, m.error()
                ts_type, ts = m.timestamp()
                out[m.partition()].append((m.offset(), ts_type,
                                           Rec(m.key(), m.value(), norm_headers(m.headers()), ts)))
                seen += 1
        for p in range(PARTITIONS):
            low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            assert (low, high) == (0, len(out[p])), f"{topic}-{p}: offsets {low}..{high}, read {len(out[p])}"
    finally:
        c.close()
    return out


def check_codecs(b: BrokerProcess, topic: str, codecs: list[str]) -> None:
    assert stored_codecs(b.log_dir / "data", topic) == set(codecs), f"{topic}: batches stored with other codecs"


def test_confluent_kafka(srv: BrokerProcess) -> None:
    topic, records = "clients-confluent", make_records(N, seed=1)
    create_topic(srv.bootstrap, topic, PARTITIONS)
    failures: list[object] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(err)

    for codec, span in codec_chunks(N, ALL_CODECS):
        p = Producer({"bootstrap.servers": srv.bootstrap, "compression.type": codec, "linger.ms": 10,
                      "acks": "all"})
        for i in span:
            r = records[i]
            p.produce(topic, key=r.key, value=r.value, headers=list(r.headers), timestamp=r.timestamp,
                      partition=i % PARTITIONS, on_delivery=report)
            if i % 1000 == 0:
                p.poll(0)
        assert p.flush(60) == 0, f"{codec}: records still queued"
    assert not failures, failures[:5]
    got = confluent_read(srv.bootstrap, topic, N)
    assert_same(by_partition(records, PARTITIONS), {p: [r for *_, r in rs] for p, rs in got.items()},
                "confluent-kafka")
    check_codecs(srv, topic, list(ALL_CODECS))


def test_kafka_python(srv: BrokerProcess) -> None:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KafkaTP

    topic, records, codecs = "clients-kafka-python", make_records(N, seed=2), kafka_python_codecs()
    create_topic(srv.bootstrap, topic, PARTITIONS)
    for codec, span in codec_chunks(N, codecs):
        p = KafkaProducer(bootstrap_servers=srv.bootstrap, compression_type=None if codec == "none" else codec,
                          linger_ms=10, batch_size=256 * 1024, acks="all")
        futures = [p.send(topic, key=records[i].key, value=records[i].value, headers=list(records[i].headers),
                          timestamp_ms=records[i].timestamp, partition=i % PARTITIONS) for i in span]
        p.flush(60)
        for f in futures:
            f.get(0)
        p.close()
    c = KafkaConsumer(bootstrap_servers=srv.bootstrap, enable_auto_commit=False, group_id=None)
    tps = [KafkaTP(topic, p) for p in range(PARTITIONS)]
    c.assign(tps)
    c.seek_to_beginning()
    got: dict[int, list[Rec]] = {p: [] for p in range(PARTITIONS)}
    seen, deadline = 0, time.monotonic() + 120
    while seen < N and time.monotonic() < deadline:
        for tp, msgs in c.poll(timeout_ms=1000, max_records=5000).items():
            got[tp.partition] += [Rec(m.key, m.value, norm_headers(m.headers), m.timestamp) for m in msgs]
            seen += len(msgs)
    ends = c.end_offsets(tps)
    c.close()
    assert_same(by_partition(records, PARTITIONS), got, "kafka-python")
    assert {tp.partition: o for tp, o in ends.items()} == {p: len(got[p]) for p in got}
    check_codecs(srv, topic, codecs)


def test_kafka_python_codec_modules() -> None:
    """kafka-python compresses snappy/lz4/zstd only with optional modules; say which are missing."""
    missing = [f"{codec} (needs {pkg})" for codec, (pkg, has) in KAFKA_PYTHON_CODEC_MODULES.items() if not has()]
    if missing:
        pytest.fail("kafka-python cannot exercise: " + ", ".join(missing) + " — run dev/setup.sh (test extras)")
    assert kafka_python_codecs() == list(ALL_CODECS)


def test_aiokafka(srv: BrokerProcess) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as AioTP

    topic, records = "clients-aiokafka", make_records(N, seed=3)
    create_topic(srv.bootstrap, topic, PARTITIONS)

    async def produce() -> None:
        for codec, span in codec_chunks(N, ALL_CODECS):
            p = AIOKafkaProducer(bootstrap_servers=srv.bootstrap, linger_ms=10, max_batch_size=256 * 1024,
                                 compression_type=None if codec == "none" else codec, acks="all")
            await p.start()
            try:
                futures = [await p.send(topic, key=records[i].key, value=records[i].value,
                                        headers=list(records[i].headers), timestamp_ms=records[i].timestamp,
                                        partition=i % PARTITIONS) for i in span]
                await p.flush()
                await asyncio.gather(*futures)
            finally:
                await p.stop()

    async def consume() -> tuple[dict[int, list[Rec]], dict[int, int]]:
        c = AIOKafkaConsumer(bootstrap_servers=srv.bootstrap, enable_auto_commit=False, group_id=None)
        await c.start()
        got: dict[int, list[Rec]] = {p: [] for p in range(PARTITIONS)}
        try:
            tps = [AioTP(topic, p) for p in range(PARTITIONS)]
            c.assign(tps)
            await c.seek_to_beginning()
            seen, deadline = 0, time.monotonic() + 120
            while seen < N and time.monotonic() < deadline:
                for tp, msgs in (await c.getmany(timeout_ms=1000, max_records=5000)).items():
                    got[tp.partition] += [Rec(m.key, m.value, norm_headers(m.headers), m.timestamp) for m in msgs]
                    seen += len(msgs)
            ends = {tp.partition: o for tp, o in (await c.end_offsets(tps)).items()}
        finally:
            await c.stop()
        return got, ends

    asyncio.run(produce())
    got, ends = asyncio.run(consume())
    assert_same(by_partition(records, PARTITIONS), got, "aiokafka")
    assert ends == {p: len(got[p]) for p in got}
    check_codecs(srv, topic, list(ALL_CODECS))


def test_kcat(srv: BrokerProcess, tmp_path: Path) -> None:
    topic, records = "clients-kcat", make_records(N, seed=4, printable=True)
    create_topic(srv.bootstrap, topic, PARTITIONS)
    sent: dict[bytes, Rec] = {}
    windows: dict[str, tuple[int, int]] = {}
    for codec, span in codec_chunks(N, ALL_CODECS):
        lines = tmp_path / f"in-{codec}.txt"
        lines.write_bytes(b"".join(records[i].key + b":" + (records[i].value or b"") + b"\n"
                                   for i in span))
        headers = (("codec", codec.encode()), ("run", b"kcat"))
        start = int(time.time() * 1000)
        done = subprocess.run([KCAT, "-P", "-b", srv.bootstrap, "-t", topic, "-K:", "-z", codec,
                               "-H", f"codec={codec}", "-H", "run=kcat", "-X", "acks=all", "-l", str(lines)],
                              check=False, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        windows[codec] = (start, int(time.time() * 1000))
        for i in span:
            sent[records[i].key] = Rec(records[i].key, records[i].value, headers, 0)
    out = subprocess.run([KCAT, "-C", "-b", srv.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
                         check=False, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    kcat_read: dict[int, list[tuple[int, int, Rec]]] = {p: [] for p in range(PARTITIONS)}
    for line in out.stdout.splitlines():
        m = json.loads(line)
        h = m["headers"] or []
        rec = Rec(m["key"].encode(), m["payload"].encode(),
                  tuple((h[j], h[j + 1].encode()) for j in range(0, len(h), 2)), m["ts"])
        kcat_read[m["partition"]].append((m["offset"], 0, rec))
    # Exactly once, in input order per partition, same key/value/headers, timestamp within its run.
    order = {r.key: i for i, r in enumerate(records)}
    assert sum(map(len, kcat_read.values())) == N, "kcat read back a different number of records"
    assert {r.key for rs in kcat_read.values() for *_, r in rs} == set(sent), "kcat: keys missing or unknown"
    for p, rs in kcat_read.items():
        assert [o for o, *_ in rs] == list(range(len(rs))), f"partition {p}: offsets not 0..n-1"
        idx = [order[r.key] for *_, r in rs]
        assert idx == sorted(idx), f"partition {p}: records out of input order"
        for *_, r in rs:
            want = sent[r.key]
            assert (r.value, r.headers) == (want.value, want.headers), f"kcat: {r!r} != {want!r}"
            lo, hi = windows[dict(r.headers)["codec"].decode()]
            assert lo - 1000 <= r.timestamp <= hi + 1000, f"kcat: timestamp {r.timestamp} outside its run"
    # A second, independent reader sees the same bytes at the same offsets (timestamps included).
    other = confluent_read(srv.bootstrap, topic, N)
    for p in range(PARTITIONS):
        assert [(o, r) for o, _, r in other[p]] == [(o, r) for o, _, r in kcat_read[p]], f"partition {p} differs"
    check_codecs(srv, topic, list(ALL_CODECS))
