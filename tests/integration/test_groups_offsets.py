"""Committed offsets survive broker restarts; kafka-consumer-groups describes and resets them, and a
real consumer (confluent-kafka) resumes from what the tool wrote."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.broker_process import BrokerProcess, command

TOPIC = "orders"
GROUP = "billing"
OVERRIDES = {"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "5"}


@pytest.fixture()
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path / "broker", overrides=OVERRIDES).start()
    try:
        yield b
    finally:
        b.kill()


def tool(b: BrokerProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([command("kafka-consumer-groups"), "--bootstrap-server", b.bootstrap, *args],
                       check=False, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (r.stdout, r.stderr)
    return r


def describe(b: BrokerProcess) -> dict[int, tuple[str, str, str]]:
    """partition -> (CURRENT-OFFSET, LOG-END-OFFSET, LAG) parsed from the text table."""
    out = tool(b, "--describe", "--group", GROUP).stdout
    lines = out.split("\n")
    assert lines[0] == "" and lines[1].split()[:6] == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
                                                      "LOG-END-OFFSET", "LAG"], out
    rows = [line.split() for line in lines[2:]]
    return {int(r[2]): (r[3], r[4], r[5]) for r in rows if r[1] == TOPIC}


def setup_topic(b: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(30)
    p = Producer({"bootstrap.servers": b.bootstrap})
    for i in range(30):
        p.produce(TOPIC, key=str(i).encode(), value=b"v%d" % i, partition=i % 3)
    assert p.flush(30) == 0


def consumer(b: BrokerProcess) -> Consumer:
    return Consumer({"bootstrap.servers": b.bootstrap, "group.id": GROUP, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 6000})


def first_offsets(b: BrokerProcess, want: int) -> dict[int, int]:
    """Consume ``want`` records as the group; the first offset seen per partition."""
    c = consumer(b)
    c.subscribe([TOPIC])
    first: dict[int, int] = {}
    got = 0
    try:
        for _ in range(300):
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            first.setdefault(m.partition(), m.offset())
            got += 1
            if got >= want:
                break
    finally:
        c.close()
    assert got == want, f"consumed {got} of {want}"
    return first


def test_offsets_survive_restarts_and_reset_moves_the_group(broker: BrokerProcess) -> None:
    setup_topic(broker)
    c = consumer(broker)
    c.subscribe([TOPIC])
    seen = 0
    for _ in range(300):
        m = c.poll(0.2)
        if m is not None and not m.error():
            seen += 1
            if seen == 30:
                break
    assert seen == 30
    c.commit(offsets=[TopicPartition(TOPIC, 0, 4), TopicPartition(TOPIC, 1, 7), TopicPartition(TOPIC, 2, 10)],
             asynchronous=False)
    c.close()
    expected = {0: ("4", "10", "6"), 1: ("7", "10", "3"), 2: ("10", "10", "0")}
    assert describe(broker) == expected

    broker.stop()
    broker.start()
    assert describe(broker) == expected, "after a clean restart"
    broker.kill()
    broker.start()
    assert describe(broker) == expected, "after kill -9"

    refused = tool(broker, "--reset-offsets", "--group", "nobody-yet", "--topic", TOPIC, "--to-earliest",
                   "--dry-run")
    assert refused.stdout.split("\n")[1].split() == ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]

    dry = tool(broker, "--reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-earliest")
    assert dry.stderr.startswith("WARN: No action will be performed")
    assert describe(broker) == expected, "a dry run changes nothing"

    tool(broker, "--reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-earliest", "--execute")
    assert describe(broker) == {p: ("0", "10", "10") for p in range(3)}
    assert first_offsets(broker, 30) == {0: 0, 1: 0, 2: 0}

    tool(broker, "--reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-offset", "5", "--execute")
    assert {p: v[0] for p, v in describe(broker).items()} == {0: "5", 1: "5", 2: "5"}
    tool(broker, "--reset-offsets", "--group", GROUP, "--topic", f"{TOPIC}:1", "--shift-by", "-2", "--execute")
    assert {p: v[0] for p, v in describe(broker).items()} == {0: "5", 1: "3", 2: "5"}
    assert first_offsets(broker, 5 + 7 + 5) == {0: 5, 1: 3, 2: 5}


def test_reset_is_refused_while_the_group_has_members(broker: BrokerProcess) -> None:
    setup_topic(broker)
    c = consumer(broker)
    c.subscribe([TOPIC])
    try:
        for _ in range(100):
            m = c.poll(0.2)
            if m is not None and not m.error():
                break
        r = tool(broker, "--reset-offsets", "--group", GROUP, "--all-topics", "--to-earliest", "--execute",
                 check=False)
        assert r.returncode == 1
        assert r.stderr.strip().endswith(f"Assignments can only be reset if the group '{GROUP}' is inactive, but "
                                         "the current state is Stable."), r.stderr
        members = tool(broker, "--describe", "--group", GROUP, "--members", "--verbose").stdout
        assert members.split("\n")[1].split() == ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS",
                                                 "ASSIGNMENT"]
        assert members.split("\n")[2].split()[-2:] == ["3", "(0,1,2)"]
    finally:
        c.close()
    gone = tool(broker, "--describe", "--group", "no-such-group")
    assert gone.stdout == "\nError: Consumer group 'no-such-group' does not exist.\n"
