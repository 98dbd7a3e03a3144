"""Offsets sent inside a transaction survive a crash of the broker, and an aborted transaction's never show.

A confluent-kafka transactional producer sends one group's offsets in a transaction it commits and
another group's in one it aborts (plus a third left open); the broker is then killed with -9 and
restarted.  The committed group's offsets must come back from ``__consumer_offsets`` (they were
logged as transactional records and settled by the COMMIT marker there), the aborted group must
have none, ``kafka-consumer-groups --describe`` must show the committed offset, and the open
transaction's offsets must never become visible once the restarted coordinator aborts it.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkatools.broker.groups.coordinator import partition_for
from tests.integration.broker_process import BrokerProcess, command

pytestmark = pytest.mark.timeout(180)

SRC = "txo-src"
OUT = "txo-out"


def group_consumer(b: BrokerProcess, group_id: str) -> Consumer:
    return Consumer({"bootstrap.servers": b.bootstrap, "group.id": group_id, "enable.auto.commit": False,
                     "isolation.level": "read_committed"})


def committed(b: BrokerProcess, group_id: str) -> list[int]:
    c = group_consumer(b, group_id)
    try:
        return [tp.offset for tp in c.committed([TopicPartition(SRC, 0), TopicPartition(SRC, 1)], 20)]
    finally:
        c.close()


def transaction(p: Producer, b: BrokerProcess, group_id: str, offsets: tuple[int, int], *, commit: bool | None) -> None:
    """One transaction writing a record and ``offsets`` for partitions 0 and 1 of SRC; None leaves it open."""
    meta = group_consumer(b, group_id)
    try:
        p.begin_transaction()
        p.produce(OUT, f"{group_id}".encode(), partition=0)
        p.send_offsets_to_transaction([TopicPartition(SRC, 0, offsets[0]), TopicPartition(SRC, 1, offsets[1])],
                                      meta.consumer_group_metadata(), 20)
        if commit is True:
            p.commit_transaction(20)
        elif commit is False:
            p.abort_transaction(20)
        else:
            p.flush(10)
    finally:
        meta.close()


def describe_offsets(b: BrokerProcess, group_id: str) -> dict[int, str]:
    out = subprocess.run([command("kafka-consumer-groups"), "--bootstrap-server", b.bootstrap, "--describe",
                          "--group", group_id], capture_output=True, text=True, timeout=60, check=False)
    rows: dict[int, str] = {}
    for line in out.stdout.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[0] == group_id and cols[1] == SRC:
            rows[int(cols[2])] = cols[3]
    assert rows, f"no rows for {group_id}:\n{out.stdout}\n{out.stderr}"
    return rows


def test_transactional_offsets_survive_kill_and_aborted_ones_never_show(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(SRC, 2, 1), NewTopic(OUT, 1, 1)]).values():
        f.result(30)
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "txo", "linger.ms": 5,
                  "transaction.timeout.ms": 60000})
    p.init_transactions(20)
    transaction(p, broker, "txo-committed", (7, 11), commit=True)
    transaction(p, broker, "txo-aborted", (3, 4), commit=False)
    assert committed(broker, "txo-committed") == [7, 11]
    transaction(p, broker, "txo-open", (21, 22), commit=None)

    broker.kill()
    broker.start()

    deadline = time.monotonic() + 30
    while True:  # the restarted broker first settles the open transaction (COORDINATOR_LOAD_IN_PROGRESS)
        try:
            assert committed(broker, "txo-committed") == [7, 11], "the committed transaction's offsets were lost"
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert committed(broker, "txo-aborted") == [-1001, -1001], "an aborted transaction's offsets became visible"
    assert committed(broker, "txo-open") == [-1001, -1001], "the open transaction's offsets became visible"
    assert describe_offsets(broker, "txo-committed") == {0: "7", 1: "11"}

    # the offsets went to the group's __consumer_offsets partition as transactional records, then a marker
    index = partition_for("txo-committed", 50)
    log = broker.log_dir / "data" / f"__consumer_offsets-{index}" / "00000000000000000000.log"
    out = subprocess.run([command("kafka-dump-log"), "--files", str(log), "--offsets-decoder"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert "isTransactional: true" in out.stdout and "endTxnMarker: COMMIT" in out.stdout, out.stdout[-3000:]
