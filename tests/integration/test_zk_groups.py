"""A consumer group on a three-broker ZooKeeper cluster survives kill -9 of its coordinator.

The coordinator is the leader of the group's ``__consumer_offsets`` partition (RF 3).  A
confluent-kafka consumer commits after every message; the coordinator dies with SIGKILL; leadership
of that partition moves, the new leader loads the group from its replica of the log, and the
consumer carries on: no message before the last successful commit is delivered again, none is
skipped.  A second consumer in the same group starts exactly where the first one's commits ended,
and ``kafka-consumer-groups --describe`` on a surviving broker shows the committed offsets.
"""

from __future__ import annotations

import subprocess
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkatools.broker.groups.coordinator import partition_for
from kafkatools.coordination.cluster_registry import ClusterRegistry
from tests.integration.broker_process import BrokerProcess, command
from tests.integration.test_zk_cluster import (  # noqa: F401 - fixtures
    brokers,
    chroot,
    produce,
    registry,
    wait_for,
    wait_state,
)
from tests.integration.test_zookeeper_store import zookeeper  # noqa: F401 - fixture

TOPIC = "orders"
GROUP = "billing"
OFFSETS = "__consumer_offsets"
OFFSETS_PARTITIONS = 3  # the ``brokers`` fixture's offsets.topic.num.partitions
TOTAL = 300


class Tracker:
    """Checks every delivery against the last successful commit: never before it, never past a gap."""

    def __init__(self, committed: int = 0) -> None:
        self.committed = committed
        self.next = committed
        self.seen: list[int] = []
        self.commit_failures: list[str] = []

    def deliver(self, offset: int, value: bytes | None) -> None:
        assert offset >= self.committed, f"offset {offset} delivered again after the commit of {self.committed}"
        assert offset <= self.next, f"offset {self.next} skipped: next delivery was {offset}"
        assert value == f"m{offset}".encode(), f"offset {offset} holds {value!r}"
        self.seen.append(offset)
        self.next = offset + 1

    def commit(self, consumer: Consumer) -> None:
        try:
            done = consumer.commit(offsets=[TopicPartition(TOPIC, 0, self.next)], asynchronous=False)
        except KafkaException as e:  # during the fail-over: the message may come again (at-least-once), which
            # is allowed as long as it is not before the last commit that succeeded
            self.commit_failures.append(str(e))
            return
        failed = [tp.error for tp in done or [] if tp.error is not None]
        if failed or not done or done[0].offset != self.next:
            self.commit_failures.append(f"{failed} {done}")
            return
        self.committed = self.next


def consumer(bootstrap: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})


def consume(c: Consumer, tracker: Tracker, until: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while tracker.committed < until:
        assert time.monotonic() < deadline, (
            f"stuck at committed={tracker.committed} next={tracker.next}; commit failures: "
            f"{tracker.commit_failures[-3:]}")
        m = c.poll(0.2)
        if m is None or m.error() is not None:
            continue
        tracker.deliver(m.offset(), m.value())
        tracker.commit(c)


def describe(b: BrokerProcess) -> list[list[str]]:
    out = subprocess.run([command("kafka-consumer-groups"), "--bootstrap-server", b.bootstrap, "--describe",
                          "--group", GROUP], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[1].split()[:6] == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"], \
        out.stdout
    return [line.split() for line in lines[2:] if line.strip()]


def test_group_survives_kill_of_its_coordinator(brokers: list[BrokerProcess],  # noqa: F811
                                                registry: ClusterRegistry) -> None:  # noqa: F811
    wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    bootstrap = ",".join(b.bootstrap for b in brokers)
    for b in brokers:  # every broker must see the others before any of them may create an RF 3 topic
        single = AdminClient({"bootstrap.servers": b.bootstrap})
        wait_for(f"broker {b.node_id} to see all brokers", lambda a=single: len(a.list_topics(timeout=10).brokers) == 3)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, 3)])[TOPIC].result(30)
    wait_state(registry, "orders led with a full ISR", lambda s: s.leader > 0 and len(s.isr) == 3, topic=TOPIC)
    produce(bootstrap, TOPIC, [f"m{i}" for i in range(TOTAL)])

    first = consumer(bootstrap)
    first.subscribe([TOPIC])
    tracker = Tracker()
    consume(first, tracker, 100)
    assert tracker.seen == list(range(100))

    # the coordinator: leader of the group's offsets partition, whose ISR holds every commit so far
    owner = partition_for(GROUP, OFFSETS_PARTITIONS)
    state = wait_state(registry, "the group's offsets partition with a full ISR", lambda s: len(s.isr) == 3,
                       topic=OFFSETS, partition=owner)
    victim = next(b for b in brokers if b.node_id == state.leader)
    victim.kill()
    moved = wait_state(registry, "a new coordinator", lambda s: s.leader not in (-1, victim.node_id), topic=OFFSETS,
                       partition=owner)
    assert moved.leader_epoch > state.leader_epoch

    consume(first, tracker, 200)  # the same consumer carries on through the fail-over
    assert sorted(set(tracker.seen)) == list(range(200))
    first.close()

    survivor = next(b for b in brokers if b.node_id == moved.leader)
    rows = describe(survivor)
    assert [(r[1], r[2], r[3]) for r in rows] == [(TOPIC, "0", "200")], rows

    # a new member of the group starts exactly at the last commit
    second = consumer(",".join(b.bootstrap for b in brokers if b is not victim))
    second.subscribe([TOPIC])
    resumed = Tracker(committed=200)
    consume(second, resumed, TOTAL)
    second.close()
    assert resumed.seen[0] == 200 and sorted(set(resumed.seen)) == list(range(200, TOTAL))
    other = next(b for b in brokers if b not in (victim, survivor))
    rows = describe(other)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [(TOPIC, "0", str(TOTAL), str(TOTAL), "0")], rows
