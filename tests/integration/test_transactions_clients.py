"""Transactions with the two Python clients that implement them natively: aiokafka and kafka-python.

Each writes one committed and one aborted transaction to two partitions; a read_committed consumer of
the *other* library must see exactly the committed records, a read_uncommitted one all of them.
Mixing libraries checks that what one writes (markers, LSO, aborted-transaction lists) is what the
other understands.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[attr-defined]
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kafka import KafkaConsumer, KafkaProducer

from tests.integration.broker_process import BrokerProcess

pytestmark = pytest.mark.timeout(120)


def create_topic(b: BrokerProcess, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(name, 2, 1)])[name].result(30)


def kafka_python_read(b: BrokerProcess, topic: str, isolation: str, expect: int) -> list[bytes]:
    c = KafkaConsumer(topic, bootstrap_servers=b.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
                      isolation_level=isolation, group_id=f"kp-{isolation}-{time.monotonic_ns()}",
                      consumer_timeout_ms=4000)
    try:
        out = [m.value for m in c]
    finally:
        c.close()
    assert len(out) >= expect, f"kafka-python {isolation}: {len(out)} records, expected {expect}"
    return sorted(out)


async def aiokafka_read(b: BrokerProcess, topic: str, isolation: str, expect: int) -> list[bytes]:
    c = AIOKafkaConsumer(topic, bootstrap_servers=b.bootstrap, auto_offset_reset="earliest",
                         enable_auto_commit=False, isolation_level=isolation,
                         group_id=f"aio-{isolation}-{time.monotonic_ns()}")
    await c.start()
    out: list[bytes] = []
    try:
        deadline = time.monotonic() + 20
        quiet_until = time.monotonic() + 3
        while time.monotonic() < deadline and (len(out) < expect or time.monotonic() < quiet_until):
            batches = await c.getmany(timeout_ms=300)
            for records in batches.values():
                out.extend(r.value for r in records)
    finally:
        await c.stop()
    return sorted(out)


def test_aiokafka_transactions_read_by_kafka_python(broker: BrokerProcess) -> None:
    topic = "aio-txn"
    create_topic(broker, topic)

    async def write() -> None:
        p = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="aio-writer")
        await p.start()
        try:
            async with p.transaction():
                for i in range(6):
                    await p.send_and_wait(topic, b"committed-%d" % i, partition=i % 2)
            await p.begin_transaction()
            for i in range(4):
                await p.send_and_wait(topic, b"aborted-%d" % i, partition=i % 2)
            await p.abort_transaction()
        finally:
            await p.stop()

    asyncio.run(write())
    committed = sorted(b"committed-%d" % i for i in range(6))
    assert kafka_python_read(broker, topic, "read_committed", 6) == committed
    everything = kafka_python_read(broker, topic, "read_uncommitted", 10)
    assert everything == sorted([*committed, *(b"aborted-%d" % i for i in range(4))])


def test_kafka_python_transactions_read_by_aiokafka(broker: BrokerProcess) -> None:
    topic = "kp-txn"
    create_topic(broker, topic)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="kp-writer")
    try:
        p.init_transactions()
        p.begin_transaction()
        for i in range(6):
            p.send(topic, b"committed-%d" % i, partition=i % 2)
        p.commit_transaction()
        p.begin_transaction()
        for i in range(4):
            p.send(topic, b"aborted-%d" % i, partition=i % 2)
        p.flush()
        p.abort_transaction()
    finally:
        p.close()
    committed = sorted(b"committed-%d" % i for i in range(6))
    assert asyncio.run(aiokafka_read(broker, topic, "read_committed", 6)) == committed
    everything = asyncio.run(aiokafka_read(broker, topic, "read_uncommitted", 10))
    assert everything == sorted([*committed, *(b"aborted-%d" % i for i in range(4))])
