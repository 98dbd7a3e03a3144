"""An idempotent producer keeps going across broker restarts (producer-state snapshots, d.8).

A real broker process restarts (clean SIGTERM, and kill -9) under a confluent-kafka producer with
``enable.idempotence=true`` that keeps its instance: every message must be delivered exactly once,
in order, and the log must show one producer id with epoch 0 and gap-free sequences — a broker that
forgot the producer would have answered UNKNOWN_PRODUCER_ID, which makes librdkafka bump its epoch
(or fail fatally).  A second test re-sends the last batch over our own connection after a restart
and must get the original offset back instead of a second copy.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from kafkatools.storage.inspect import iter_log_entries
from kafkatools.storage.producer_snapshot import list_snapshots, read_snapshot, snapshot_path
from kafkatools.wire import batch as wb
from kafkatools.wire.records import build_batch
from tests.integration.broker_process import BrokerProcess

pytestmark = pytest.mark.timeout(180)

TOPIC = "idem"
PARTITIONS = 2


def create_topic(b: BrokerProcess, name: str = TOPIC, partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)


def restart(b: BrokerProcess, how: str) -> None:
    if how == "sigterm":
        assert b.stop() == 0, b.log_tail()
    else:
        b.kill()
    b.start()


class Sender:
    def __init__(self, b: BrokerProcess) -> None:
        self.errors: list[KafkaError] = []
        self.delivered: list[tuple[Any, int, bytes]] = []
        self.producer = Producer({
            "bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 2,
            "batch.num.messages": 7, "retry.backoff.ms": 100, "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500, "message.timeout.ms": 90000,
            "error_cb": self.errors.append,
        })

    def send(self, start: int, stop: int) -> None:
        for i in range(start, stop):
            self.producer.produce(TOPIC, value=b"m%06d" % i, partition=i % PARTITIONS, on_delivery=self._done)
            self.producer.poll(0)

    def _done(self, err: Any, msg: Any) -> None:
        self.delivered.append((err, msg.partition(), msg.value()))

    def flush(self) -> None:
        assert self.producer.flush(120) == 0, "messages still queued after 120 s"


def consume_all(b: BrokerProcess) -> dict[int, list[bytes]]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "check", "enable.auto.commit": False})
    try:
        out: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        ends = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=30)[1] for p in range(PARTITIONS)}
        c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
        seen = 0
        deadline = time.monotonic() + 60
        while seen < sum(ends.values()) and time.monotonic() < deadline:
            for msg in c.consume(500, 0.5):
                assert msg.error() is None, msg.error()
                out[int(msg.partition() or 0)].append(bytes(msg.value() or b""))
                seen += 1
        assert seen == sum(ends.values()), f"consumed {seen} of {ends}"
        return out
    finally:
        c.close()


def stored_batches(b: BrokerProcess, topic: str, partition: int) -> list[wb.BatchHeader]:
    pdir = b.log_dir / "data" / f"{topic}-{partition}"
    return [wb.read_header(data) for path in sorted(pdir.glob("*.log")) for _info, data in iter_log_entries(str(path))]


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_confluent_idempotent_producer_across_restarts(tmp_path: Path, how: str) -> None:
    b = BrokerProcess(tmp_path / "broker").start()
    try:
        create_topic(b)
        s = Sender(b)
        s.send(0, 300)
        s.flush()
        restart(b, how)
        s.send(300, 600)
        if how == "kill9":
            restart(b, how)  # possibly with batches in flight: their retries must not be stored twice
        s.send(600, 900)
        s.flush()
        assert [e for e in s.errors if e.fatal()] == [], s.errors
        assert [d for d in s.delivered if d[0] is not None] == []
        assert len(s.delivered) == 900
        consumed = consume_all(b)
        for p in range(PARTITIONS):
            assert consumed[p] == [b"m%06d" % i for i in range(p, 900, PARTITIONS)], f"partition {p}"
        b.stop()
        for p in range(PARTITIONS):
            headers = stored_batches(b, TOPIC, p)
            assert {(h.producer_id, h.producer_epoch) for h in headers} == {(headers[0].producer_id, 0)}, \
                "the producer was fenced or reset: the broker forgot it across the restart"
            assert [h.base_sequence for h in headers] == \
                [sum(x.record_count for x in headers[:i]) for i in range(len(headers))]
            assert sum(h.record_count for h in headers) == 450
            snaps = list_snapshots(str(b.log_dir / "data" / f"{TOPIC}-{p}"))
            assert snaps and snaps[-1] == 450 and len(snaps) <= 2, snaps
    finally:
        b.kill()


async def _produce(conn: BrokerConnection, data: bytes) -> tuple[int, int]:
    R = messages.ProduceRequest
    resp = await conn.request(R(transactional_id=None, acks=-1, timeout_ms=10000, topic_data=[
        R.TopicProduceData(name="direct", partition_data=[R.PartitionProduceData(index=0, records=data)])]))
    p = resp.responses[0].partition_responses[0]
    return p.error_code, p.base_offset


async def _connect(b: BrokerProcess) -> BrokerConnection:
    conn = BrokerConnection("127.0.0.1", b.port)
    await conn.connect()
    return conn


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_resent_batch_after_restart_gets_its_original_offset(tmp_path: Path, how: str) -> None:
    b = BrokerProcess(tmp_path / "broker").start()

    async def before() -> tuple[int, int, bytes, int]:
        conn = await _connect(b)
        try:
            init = await conn.request(messages.InitProducerIdRequest(
                transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
            assert init.error_code == 0
            pid, epoch = init.producer_id, init.producer_epoch
            recs = [(None, b"a"), (None, b"b"), (None, b"c")]
            assert await _produce(conn, build_batch(recs, producer_id=pid, producer_epoch=epoch,
                                                    base_sequence=0)) == (0, 0)
            last = build_batch([(None, b"d"), (None, b"e")], producer_id=pid, producer_epoch=epoch, base_sequence=3)
            assert await _produce(conn, last) == (0, 3)
            return pid, epoch, last, 3
        finally:
            await conn.close()

    async def after(pid: int, epoch: int, last: bytes) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        conn = await _connect(b)
        try:
            again = await _produce(conn, last)
            follow = await _produce(conn, build_batch([(None, b"f")], producer_id=pid, producer_epoch=epoch,
                                                      base_sequence=5))
            gap = await _produce(conn, build_batch([(None, b"g")], producer_id=pid, producer_epoch=epoch,
                                                   base_sequence=9))
            return again, follow, gap
        finally:
            await conn.close()

    try:
        create_topic(b, "direct", 1)
        pid, epoch, last, last_offset = asyncio.run(before())
        restart(b, how)
        again, follow, gap = asyncio.run(after(pid, epoch, last))
        assert again == (0, last_offset), "the re-sent batch must be answered with its original offset"
        assert follow == (0, 5), "the next sequence continues (no UNKNOWN_PRODUCER_ID)"
        assert gap[0] == 45, "a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER"
        b.stop()
        headers = stored_batches(b, "direct", 0)
        assert [(h.base_offset, h.base_sequence, h.record_count) for h in headers] == [(0, 0, 3), (3, 3, 2), (5, 5, 1)]
        pdir = str(b.log_dir / "data" / "direct-0")
        newest = list_snapshots(pdir)[-1]
        assert newest == 6
        entries = read_snapshot(snapshot_path(pdir, newest))
        assert [(e.producer_id, e.producer_epoch, e.last_sequence, e.last_offset, e.offset_delta) for e in entries] \
            == [(pid, epoch, 5, 5, 0)]
    finally:
        b.kill()
