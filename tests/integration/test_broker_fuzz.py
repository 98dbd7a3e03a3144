"""100,000 random and mutated request frames against a live broker; it answers or hangs up, never dies.

Corpus: every request frame that confluent-kafka (admin, idempotent producer, consumer group),
kafka-python and aiokafka send while doing real work through a recording proxy, the golden frames of
tests/compat, and every routed API at every version with default values.  helpers_fuzz.mutants turns
it into 100,000 frames (bit flips, truncation, smashed integers, unknown API keys, bad versions,
Produce with a CRC-broken batch or garbage records, random bodies, oversized/negative/lying size
prefixes, raw garbage).  Eight connections at a time pipeline them, each frame followed by an
ApiVersions v0 "sentinel": the broker answers in order, so the sentinel tells which frames were
handled, and when the broker closes a connection the frame after the last sentinel is the one that
closed it; the rest are re-sent on a new connection.

Invariants: the broker process stays alive and its log has no traceback; a Produce whose batch
fails its CRC is answered with CORRUPT_MESSAGE, not a hang-up; an unmutated real request is answered;
no request outside the ones that may legitimately wait (Fetch, JoinGroup, SyncGroup) goes
unanswered; and afterwards a real client produces and reads back its records intact.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import struct
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from kafkatools.broker.dispatch import ROUTES
from kafkatools.codec import decode_response, messages
from tests.integration.broker_process import BrokerProcess
from tests.integration.helpers_fuzz import Frame, RecordingProxy, mutants, synthetic_requests
from tests.integration.helpers_records import Rec, assert_same, make_records, norm_headers

pytestmark = pytest.mark.timeout(300)

FRAMES = 100_000
CONNECTIONS = 8
BATCH = 48
QUIET_SECONDS = 2.0  # no answer for this long: the frame is waiting (long poll, rebalance) or hangs
MAY_WAIT = {1, 11, 14}  # Fetch, JoinGroup, SyncGroup
SENTINEL_BASE = 0x6B000000
GOLDEN = Path(__file__).parents[1] / "compat" / "golden"


def sentinel(cid: int) -> bytes:
    body = struct.pack(">hhih", 18, 0, cid, 1) + b"s"
    return struct.pack(">i", len(body)) + body


@dataclass
class Tally:
    answered: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    waited: list[Frame] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    produce_codes: dict[str, Counter[int]] = field(default_factory=lambda: {"crc": Counter(),
                                                                            "garbage_records": Counter()})
    connections: int = 0


def check_answer(frame: Frame, responses: list[bytes], tally: Tally) -> None:
    if frame.kind not in ("crc", "garbage_records"):
        return
    version = struct.unpack_from(">h", frame.wire, 6)[0]
    if len(responses) != 1:
        tally.violations.append(f"{frame.kind}: {len(responses)} responses")
        return
    _, resp = decode_response(0, version, responses[0])
    assert isinstance(resp, messages.ProduceResponse)
    codes = {p.error_code for t in resp.responses for p in t.partition_responses}
    tally.produce_codes[frame.kind].update(codes)
    if frame.expect_error is not None and codes != {frame.expect_error}:
        tally.violations.append(f"{frame.kind}: Produce v{version} answered {codes}, expected {frame.expect_error}")


async def run_connection(port: int, batch: list[Frame], tally: Tally) -> list[Frame]:
    """Send ``batch``; returns the frames left unsent because the broker closed or a frame waited."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    tally.connections += 1
    out = bytearray()
    for i, f in enumerate(batch):
        out += f.wire
        if f.ends_stream:
            break
        out += sentinel(SENTINEL_BASE + i)
    writer.write(out)
    if batch[-1].ends_stream:
        writer.write_eof()
    done, responses = 0, []
    try:
        while done < len(batch):
            try:
                head = await asyncio.wait_for(reader.readexactly(4), QUIET_SECONDS)
                (size,) = struct.unpack(">i", head)
                body = await asyncio.wait_for(reader.readexactly(size), QUIET_SECONDS)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.closed[batch[done].kind] += 1
                if batch[done].expect_error is not None or (batch[done].kind == "valid" and _routed(batch[done])):
                    tally.violations.append(f"{batch[done].kind} api {batch[done].api_key}: connection closed")
                return batch[done + 1:]
            except TimeoutError:
                tally.waited.append(batch[done])
                return batch[done + 1:]
            (cid,) = struct.unpack_from(">i", body)
            if cid == SENTINEL_BASE + done:
                check_answer(batch[done], responses, tally)
                tally.answered[batch[done].kind] += 1
                done, responses = done + 1, []
            else:
                responses.append(body)
        return []
    finally:
        writer.close()


def _routed(f: Frame) -> bool:
    route = ROUTES.get(f.api_key)
    version = struct.unpack_from(">h", f.wire, 6)[0] if len(f.wire) >= 8 else -1
    return route is not None and route.min_version <= version <= route.max_version


async def fuzz(port: int, frames: list[Frame], tally: Tally) -> None:
    queue = deque(frames)

    async def worker() -> None:
        while queue:
            batch: list[Frame] = []
            while queue and len(batch) < BATCH:
                batch.append(queue.popleft())
                if batch[-1].ends_stream:
                    break
            while batch:
                batch = await run_connection(port, batch, tally)

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


def capture(bootstrap: str) -> None:
    """Real clients doing real work (through the recording proxy at ``bootstrap``)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic("fz-main", 3, 1), NewTopic("victim", 2, 1)]).values():
        f.result(30)
    admin.create_partitions([NewPartitions("victim", 3)])["victim"].result(30)
    for fut in admin.create_topics([NewTopic("fz-maybe", 4, 1)], validate_only=True).values():
        fut.result(30)
    admin.create_partitions([NewPartitions("victim", 5)], validate_only=True)["victim"].result(30)
    for fut in admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "fz-main")]).values():
        fut.result(30)
    entry = ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)
    for fut in admin.incremental_alter_configs([ConfigResource(ConfigResource.Type.TOPIC, "victim",
                                                               incremental_configs=[entry])]).values():
        fut.result(30)
    admin.describe_cluster().result(30)
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "compression.type": "gzip",
                  "linger.ms": 5})
    for i in range(60):
        p.produce("fz-main", key=b"k%d" % i, value=b"v" * i, headers=[("h", b"%d" % i)], partition=i % 3)
    for i in range(6):
        p.produce("victim", key=b"x", value=b"y", partition=i % 3)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "fz-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    c.subscribe(["fz-main"])
    got, deadline = 0, time.monotonic() + 30
    while got < 60 and time.monotonic() < deadline:
        got += len(c.consume(100, 0.5))
    c.commit(asynchronous=False)
    c.close()
    for f in admin.delete_consumer_groups(["fz-group"]).values():
        f.result(30)
    for f in admin.delete_topics(["victim"]).values():
        f.result(30)
    _capture_python_clients(bootstrap)


def _capture_python_clients(bootstrap: str) -> None:
    from aiokafka import AIOKafkaProducer
    from kafka import KafkaConsumer, KafkaProducer

    kp = KafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip")
    for i in range(20):
        kp.send("fz-main", key=b"kp", value=b"%d" % i, headers=[("a", b"b")], partition=i % 3)
    kp.flush(30)
    kp.close()
    kc = KafkaConsumer("fz-main", bootstrap_servers=bootstrap, group_id="fz-kp", auto_offset_reset="earliest",
                       consumer_timeout_ms=3000)
    for n, _ in enumerate(kc):
        if n >= 50:
            break
    kc.commit()
    kc.close()

    async def aio() -> None:
        ap = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="lz4")
        await ap.start()
        try:
            for i in range(20):
                await ap.send("fz-main", key=b"ap", value=b"%d" % i, partition=i % 3)
        finally:
            await ap.stop()

    asyncio.run(aio())


@pytest.fixture()
def recorded(tmp_path: Path) -> Iterator[tuple[BrokerProcess, RecordingProxy]]:
    b = BrokerProcess(tmp_path / "broker", overrides={"auto.create.topics.enable": "false"})
    proxy = RecordingProxy(b.port)
    b.overrides["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{proxy.port}"
    try:
        b.start()
        yield b, proxy
    finally:
        proxy.close()
        b.kill()


def test_broker_survives_100k_bad_frames(recorded: tuple[BrokerProcess, RecordingProxy]) -> None:
    b, proxy = recorded
    capture(f"127.0.0.1:{proxy.port}")
    proxy.recording = False
    keys = Counter(struct.unpack_from(">h", f)[0] for f in proxy.frames)
    assert {0, 1, 3, 8, 10, 11, 14, 18, 19} <= set(keys), f"capture missed APIs: {sorted(keys)}"
    corpus = proxy.frames + [p.read_bytes() for p in sorted(GOLDEN.glob("*.bin"))] + synthetic_requests()
    frames = mutants(corpus, FRAMES, seed=20240611, produce_topic="fz-main")
    tally = Tally()
    started = time.monotonic()
    asyncio.run(fuzz(b.port, frames, tally))
    elapsed = time.monotonic() - started
    print(f"\n{len(frames)} frames over {tally.connections} connections in {elapsed:.1f} s; "
          f"answered {sum(tally.answered.values())}, closed by {sum(tally.closed.values())}, "
          f"waited {len(tally.waited)}\nanswered {dict(tally.answered)}\nclosed {dict(tally.closed)}\n"
          f"Produce error codes {tally.produce_codes}")

    assert b.alive(), b.log_tail(80)
    assert sum(tally.answered.values()) + sum(tally.closed.values()) + len(tally.waited) == len(frames)
    assert tally.answered["crc"] > 100 and tally.answered["valid"] > 100, tally.answered
    stuck = [f for f in tally.waited if f.api_key not in MAY_WAIT]
    assert not stuck, f"{len(stuck)} frames never answered, e.g. {[(f.kind, f.wire[:40]) for f in stuck[:5]]}"
    assert not tally.violations, tally.violations[:20]
    log = b.output.read_text(errors="replace") if b.output else ""
    assert "Traceback" not in log and "internal error" not in log, _first_traceback(log)

    # Afterwards a real client (through the proxy the broker advertises) produces and reads back intact records.
    records = make_records(2000, seed=9)
    p = Producer({"bootstrap.servers": f"127.0.0.1:{proxy.port}", "linger.ms": 5})
    for i, r in enumerate(records):
        p.produce("fz-main", key=r.key, value=r.value, headers=list(r.headers), timestamp=r.timestamp,
                  partition=i % 3)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": f"127.0.0.1:{proxy.port}", "group.id": "after", "enable.auto.commit": False})
    ends = {q: c.get_watermark_offsets(TopicPartition("fz-main", q), timeout=10)[1] for q in range(3)}
    starts = {q: ends[q] - sum(1 for i in range(len(records)) if i % 3 == q) for q in range(3)}
    c.assign([TopicPartition("fz-main", q, starts[q]) for q in range(3)])
    got: dict[int, list[Rec]] = {q: [] for q in range(3)}
    deadline = time.monotonic() + 60
    while sum(map(len, got.values())) < len(records) and time.monotonic() < deadline:
        for m in c.consume(1000, 1.0):
            assert m.error() is None, m.error()
            got[m.partition()].append(Rec(m.key(), m.value(), norm_headers(m.headers()),
                                                       m.timestamp()[1]))
    c.close()
    assert_same({q: [r for i, r in enumerate(records) if i % 3 == q] for q in range(3)}, got, "after fuzzing")
    assert b.alive()


def _first_traceback(log: str) -> str:
    at = log.find("Traceback")
    return log[max(0, at - 500): at + 3000]


def test_partition_count_limit(broker: BrokerProcess) -> None:
    """More than 10,000 new partitions in one request: POLICY_VIOLATION, nothing created (Kafka's limit)."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic("huge-a", 6000, 1), NewTopic("huge-b", 4001, 1)])
    for fut in futures.values():
        with pytest.raises(KafkaException) as e:
            fut.result(30)
        assert e.value.args[0].code() == KafkaError.POLICY_VIOLATION, e.value
    admin.create_topics([NewTopic("grows", 1, 1)])["grows"].result(30)
    with pytest.raises(KafkaException) as e:
        admin.create_partitions([NewPartitions("grows", 10_002)])["grows"].result(30)
    assert e.value.args[0].code() == KafkaError.POLICY_VIOLATION, e.value
    admin.create_partitions([NewPartitions("grows", 3)])["grows"].result(30)
    topics = admin.list_topics(timeout=30).topics
    assert "huge-a" not in topics and "huge-b" not in topics and len(topics["grows"].partitions) == 3


def test_out_of_file_descriptors(tmp_path: Path) -> None:
    """Connections beyond the broker's open-file limit: a warning a second, no traceback flood, and
    once they are gone the broker serves a real client again."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    b = BrokerProcess(tmp_path / "broker")
    resource.setrlimit(resource.RLIMIT_NOFILE, (96, hard))  # inherited by the broker process only
    try:
        b.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    socks: list[socket.socket] = []
    try:
        socks = [socket.create_connection(("127.0.0.1", b.port), timeout=5) for _ in range(150)]
        time.sleep(2.5)  # the broker tries to accept them all and runs out of descriptors
        for s in socks:
            s.close()
        time.sleep(1.5)  # asyncio retries accepting a second after running out
        p = Producer({"bootstrap.servers": b.bootstrap})
        p.produce("after-emfile", b"still here")
        assert p.flush(30) == 0
        assert b.alive()
        log = b.output.read_text(errors="replace") if b.output else ""
        warnings = log.count("Cannot accept new connections")
        assert 1 <= warnings <= 10, f"{warnings} warnings:\n{b.log_tail()}"
        assert "Traceback" not in log, _first_traceback(log)
    finally:
        for s in socks:
            s.close()
        b.kill()
