"""Transactions end to end against a real broker process, with confluent-kafka (librdkafka).

A transactional producer writes to two partitions of two topics and sends a consumer group's
offsets inside the transaction; one transaction commits, the next aborts.  read_committed consumers
must see exactly the committed records, read_uncommitted ones both; the group's committed offsets
must be what the transaction sent.  A second producer with the same transactional.id fences the
first.  A broker killed (-9) with a transaction open must, once restarted, abort it so that
read_committed consumers move past it.  ``kafka-dump-log`` prints the markers.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from tests.integration.broker_process import BrokerProcess, command

pytestmark = pytest.mark.timeout(180)

TOPICS = ("txn-a", "txn-b")


def create_topics(b: BrokerProcess, names: tuple[str, ...] = TOPICS, partitions: int = 2) -> None:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in admin.create_topics([NewTopic(n, partitions, 1) for n in names]).values():
        f.result(30)


def producer(b: BrokerProcess, txn_id: str, **extra: Any) -> Producer:
    conf = {"bootstrap.servers": b.bootstrap, "transactional.id": txn_id, "linger.ms": 5,
            "transaction.timeout.ms": 60000}
    conf.update(extra)
    return Producer(conf)


def consume_all(b: BrokerProcess, topics: tuple[str, ...], isolation: str, expect: int | None = None,
                timeout: float = 15.0) -> list[tuple[str, int, int, bytes]]:
    """(topic, partition, offset, value) of every data record, read from the beginning."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": f"reader-{isolation}-{time.monotonic_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": isolation})
    c.subscribe(list(topics))
    out: list[tuple[str, int, int, bytes]] = []
    deadline = time.monotonic() + timeout
    eofs_quiet = time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None:
                if expect is None and out and time.monotonic() > eofs_quiet:
                    break
                if expect is not None and len(out) >= expect and time.monotonic() > eofs_quiet:
                    break
                continue
            if m.error():
                raise AssertionError(f"consumer error: {m.error()}")
            out.append((m.topic(), m.partition(), m.offset(), m.value()))
            eofs_quiet = time.monotonic() + 1.5
    finally:
        c.close()
    return sorted(out)


def send(p: Producer, prefix: str, count: int = 4) -> set[bytes]:
    values = set()
    for i in range(count):
        for topic in TOPICS:
            for part in (0, 1):
                v = f"{prefix}-{topic}-{part}-{i}".encode()
                p.produce(topic, v, partition=part)
                values.add(v)
    p.flush(10)
    return values


def test_commit_abort_offsets_and_isolation(broker: BrokerProcess) -> None:
    create_topics(broker)
    create_topics(broker, ("txn-src",), 1)
    # the input the "consume-transform-produce" loop read: a group with a member and offsets to send
    src = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(5):
        src.produce("txn-src", f"in-{i}".encode(), partition=0)
    src.flush(10)
    group = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "txn-group",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
    group.subscribe(["txn-src"])
    got = []
    deadline = time.monotonic() + 20
    while len(got) < 5 and time.monotonic() < deadline:
        m = group.poll(0.2)
        if m is not None and not m.error():
            got.append(m)
    assert len(got) == 5, "the group consumer did not read its input"

    p = producer(broker, "txn-1")
    p.init_transactions(20)
    p.begin_transaction()
    committed = send(p, "commit")
    p.send_offsets_to_transaction([TopicPartition("txn-src", 0, 5)], group.consumer_group_metadata(), 20)
    p.commit_transaction(20)

    p.begin_transaction()
    aborted = send(p, "abort")
    p.send_offsets_to_transaction([TopicPartition("txn-src", 0, 99)], group.consumer_group_metadata(), 20)
    p.abort_transaction(20)

    p.begin_transaction()
    committed |= send(p, "second", 1)
    p.commit_transaction(20)

    rc = consume_all(broker, TOPICS, "read_committed", expect=len(committed))
    assert {v for *_, v in rc} == committed
    assert len(rc) == len(committed), "a committed record was delivered twice"
    ru = consume_all(broker, TOPICS, "read_uncommitted", expect=len(committed) + len(aborted))
    assert {v for *_, v in ru} == committed | aborted

    offsets = group.committed([TopicPartition("txn-src", 0)], 10)
    assert offsets[0].offset == 5, f"the group's offset is {offsets[0].offset}, the transaction committed 5"
    group.close()
    p.flush(5)

    # a second producer with the same transactional.id fences the first
    p2 = producer(broker, "txn-1")
    p2.init_transactions(20)
    p.begin_transaction()
    p.produce(TOPICS[0], b"zombie", partition=0)
    with pytest.raises(KafkaException) as info:
        p.commit_transaction(20)
    err: KafkaError = info.value.args[0]
    assert err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                         KafkaError.INVALID_PRODUCER_EPOCH), err
    p2.begin_transaction()
    p2.produce(TOPICS[0], b"p2", partition=0)
    p2.commit_transaction(20)
    rc = consume_all(broker, (TOPICS[0],), "read_committed")
    values = {v for *_, v in rc}
    assert b"p2" in values and b"zombie" not in values

    # kafka-dump-log shows the markers as Kafka prints them
    log = Path(broker.log_dir) / "data" / "txn-a-0" / "00000000000000000000.log"
    out = subprocess.run([command("kafka-dump-log"), "--files", str(log), "--print-data-log"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert "endTxnMarker: COMMIT coordinatorEpoch: 0" in out.stdout, out.stdout[-2000:]
    assert "endTxnMarker: ABORT coordinatorEpoch: 0" in out.stdout
    txnindex = log.with_suffix(".txnindex")
    assert txnindex.exists() and txnindex.stat().st_size % 34 == 0 and txnindex.stat().st_size > 0


def test_open_transaction_aborted_after_kill(broker: BrokerProcess) -> None:
    create_topics(broker)
    p = producer(broker, "txn-crash")
    p.init_transactions(20)
    p.begin_transaction()
    committed = send(p, "before", 2)
    p.commit_transaction(20)
    p.begin_transaction()
    send(p, "open", 2)  # flushed, never committed
    broker.kill()
    broker.start()
    # the restarted coordinator aborts the open transaction: read_committed gets past it
    after = producer(broker, "txn-other")
    after.init_transactions(30)
    after.begin_transaction()
    for part in (0, 1):
        after.produce(TOPICS[0], f"after-{part}".encode(), partition=part)
        after.produce(TOPICS[1], f"after-{part}".encode(), partition=part)
    after.commit_transaction(30)
    expected = [*committed, *(f"after-{p}".encode() for p in (0, 1) for _topic in TOPICS)]
    rc = consume_all(broker, TOPICS, "read_committed", expect=len(expected))
    assert sorted(v for *_, v in rc) == sorted(expected), rc
    # the old producer's instance is fenced: its transactional id moved on to a new epoch
    with pytest.raises(KafkaException):
        p.begin_transaction()
        p.produce(TOPICS[0], b"late", partition=0)
        p.commit_transaction(10)


async def _inspect(b: BrokerProcess) -> tuple[Any, Any, Any, Any]:
    conn = BrokerConnection("127.0.0.1", b.port)
    await conn.connect()
    try:
        described = await conn.request(messages.DescribeTransactionsRequest(transactional_ids=["txn-open", "nope"]))
        listed = await conn.request(messages.ListTransactionsRequest(state_filters=["Ongoing", "Bogus"]))
        L = messages.ListOffsetsRequest
        offsets = []
        for isolation in (0, 1):
            offsets.append(await conn.request(L(replica_id=-1, isolation_level=isolation, topics=[
                L.ListOffsetsTopic(name=TOPICS[0], partitions=[L.ListOffsetsPartition(partition_index=0,
                                                                                       timestamp=-1)])])))
        return described, listed, offsets[0], offsets[1]
    finally:
        await conn.close()


def test_open_transaction_is_described_and_bounds_the_lso(broker: BrokerProcess) -> None:
    create_topics(broker)
    p = producer(broker, "txn-open")
    p.init_transactions(20)
    p.begin_transaction()
    p.produce(TOPICS[0], b"done", partition=0)
    p.commit_transaction(20)  # offsets 0 (record), 1 (marker)
    p.begin_transaction()
    p.produce(TOPICS[0], b"open", partition=0)
    p.flush(10)  # offset 2, transaction left open
    described, listed, uncommitted, committed = asyncio.run(_inspect(broker))
    found, missing = described.transaction_states
    assert found.error_code == 0 and found.transaction_state == "Ongoing"
    assert [(t.topic, t.partitions) for t in found.topics] == [(TOPICS[0], [0])]
    assert missing.error_code == 105  # TRANSACTIONAL_ID_NOT_FOUND
    assert [t.transactional_id for t in listed.transaction_states] == ["txn-open"]
    assert listed.unknown_state_filters == ["Bogus"]
    assert uncommitted.topics[0].partitions[0].offset == 3  # the high watermark
    assert committed.topics[0].partitions[0].offset == 2  # the LSO: the open transaction's first offset
    p.abort_transaction(20)
