"""Fault test: an idempotent acks=all producer rides through kill -9 of leaders and of the controller.

Three ``kafka-server-start`` processes on a real ZooKeeper (session timeout 6 s); topic ``faults``
with one partition, replication factor 3 and ``min.insync.replicas=2``.  A confluent-kafka
(librdkafka) producer with ``enable.idempotence`` and generous timeouts sends keyed records whose
values carry their sequence number, as a steady paced stream, so that records are in flight at
every kill (SIGKILL).  The first test kills the partition leader three times and the controller once
(100,000 records), restarting each victim once the controller has dropped it from the ISR and
waiting for it to rejoin; the second kills the next leader while the last victim is still catching
up (the ISR can fall below ``min.insync.replicas``) and the controller together with the leader.
Afterwards:

* every acknowledged record is in the log exactly once, at the offset its acknowledgement gave,
  and the log holds the sequence numbers in increasing order (records the producer never saw
  acknowledged may be present or not, but nothing is duplicated or reordered); no delivery failed;
* all three replicas hold the same batches: ``kafka-dump-log`` of every replica's segments,
  compared batch by batch once the ISR is back to three (only the file paths and per-segment
  positions may differ), all with one producer id and epoch (the client never had to reset)."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkatools.coordination.cluster_registry import ClusterRegistry
from tests.integration.broker_process import BrokerProcess, command
from tests.integration.test_zk_cluster import chroot, registry, wait_for, wait_state  # noqa: F401 - fixtures
from tests.integration.test_zookeeper_store import ZooKeeperProcess, zookeeper  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(420)

TOPIC = "faults"
RECORDS = 100_000
SESSION_MS = 6000
PAD = b"." * 64
RATE = 2500  # records/s: 100,000 records take 40 s, long enough for the four kill cycles
STREAMING = 5000  # records acknowledged through the current leader before the next kill


@pytest.fixture()
def cluster(zookeeper: ZooKeeperProcess, tmp_path: Path, chroot: str) -> Iterator[list[BrokerProcess]]:  # noqa: F811
    procs = [BrokerProcess(tmp_path / f"b{i}", node_id=i, overrides={
        "zookeeper.connect": zookeeper.connect + chroot, "zookeeper.session.timeout.ms": str(SESSION_MS),
        "replica.lag.time.max.ms": "3000", "min.insync.replicas": "2", "default.replication.factor": "3",
        "offsets.topic.num.partitions": "3", "offsets.topic.replication.factor": "3"}) for i in (1, 2, 3)]
    try:
        for p in procs:
            p.start()
        yield procs
    finally:
        for p in procs:
            p.kill()


class PacedProducer(threading.Thread):
    """Sends records 0..records-1 at ``rate`` per second (a steady stream, so that every kill finds
    records in flight and batches stay small); records every acknowledgement."""

    def __init__(self, bootstrap: str, records: int = RECORDS, rate: int = RATE) -> None:
        super().__init__(daemon=True)
        self.records, self.rate = records, rate
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
            "message.timeout.ms": 300_000, "request.timeout.ms": 15_000, "retry.backoff.ms": 100,
            "topic.metadata.refresh.interval.ms": 1000})
        self.sent = 0
        self.acked: dict[int, int] = {}  # sequence number -> offset
        self.failed: list[tuple[int, str]] = []
        self.fatal: list[str] = []
        self.done = threading.Event()

    def _report(self, err: Any, msg: Any) -> None:
        seq = int(msg.value()[:7])
        if err is None:
            self.acked[seq] = msg.offset()
        else:
            self.failed.append((seq, str(err)))
            if err.fatal():
                self.fatal.append(str(err))

    def run(self) -> None:
        try:
            start = time.monotonic()
            while self.sent < self.records and not self.fatal:
                ahead = start + self.sent / self.rate - time.monotonic()
                if ahead > 0:
                    self.producer.poll(min(ahead, 0.05))
                    continue
                value = b"%07d" % self.sent + PAD
                try:
                    self.producer.produce(TOPIC, value, key=b"key-%d" % (self.sent % 64), partition=0,
                                          on_delivery=self._report)
                except BufferError:
                    self.producer.poll(0.1)
                    continue
                self.sent += 1
                self.producer.poll(0)
            self.producer.flush(240)
        finally:
            self.done.set()


def leader_of(registry: ClusterRegistry) -> int:  # noqa: F811
    found = registry.partition_state(TOPIC, 0)
    return found[0].leader if found else -1


def full_isr(registry: ClusterRegistry, what: str) -> None:  # noqa: F811
    wait_state(registry, what, lambda s: s.leader > 0 and sorted(s.isr) == [1, 2, 3], topic=TOPIC, timeout=90)


def create_topic(admin: AdminClient) -> bool:
    """Create the topic; False while the controller does not count three live brokers yet."""
    try:
        admin.create_topics([NewTopic(TOPIC, 1, 3, config={"min.insync.replicas": "2"})])[TOPIC].result(30)
    except KafkaException as e:
        if e.args[0].code() == KafkaError.INVALID_REPLICATION_FACTOR:
            return False
        raise
    return True


def consume_everything(bootstrap: str) -> list[tuple[int, int]]:
    """(offset, sequence number) of every record below the high watermark, read from offset 0."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "fault-check", "enable.auto.commit": False,
                  "fetch.max.bytes": 4 << 20})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=30)
        c.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
        out: list[tuple[int, int]] = []
        deadline = time.monotonic() + 90
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error() is not None:
                    assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    continue
                out.append((m.offset(), int((m.value() or b"")[:7])))
        assert out and out[-1][0] == high - 1, f"read up to {out[-1][0] if out else None}, high watermark {high}"
        return out
    finally:
        c.close()


def dump_batches(b: BrokerProcess) -> list[str]:
    """kafka-dump-log of the replica's segments, one line per batch, minus the per-segment position."""
    segments = sorted((b.log_dir / "data" / f"{TOPIC}-0").glob("*.log"))
    assert segments, f"broker {b.node_id} has no segment of {TOPIC}-0"
    res = subprocess.run([command("kafka-dump-log"), "--files", ",".join(map(str, segments))],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("baseOffset: ")]
    return [" ".join(w for i, w in enumerate(ln.split(" ")) if not _is_position(ln.split(" "), i)) for ln in lines]


def _row(rows: list[str], i: int | None) -> str:
    return rows[i] if i is not None and i < len(rows) else (rows[-1] if rows else "(empty)")


def _field(line: str, name: str) -> int:
    words = line.split(" ")
    return int(words[words.index(name) + 1])


def _is_position(words: list[str], i: int) -> bool:
    return words[i] == "position:" or (i > 0 and words[i - 1] == "position:")


class Faults:
    """The cluster, the producer and what was done to them (for failure messages)."""

    def __init__(self, cluster: list[BrokerProcess], registry: ClusterRegistry,  # noqa: F811
                 records: int = RECORDS, rate: int = RATE) -> None:
        self.cluster = cluster
        self.registry = registry
        self.by_id = {b.node_id: b for b in cluster}
        self.bootstrap = ",".join(b.bootstrap for b in cluster)
        self.history: list[str] = []
        wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        wait_for("every broker in the metadata", lambda: len(admin.list_topics(timeout=10).brokers) == 3)
        wait_for("the topic created", lambda: create_topic(admin))
        full_isr(registry, "the topic led with a full ISR")
        self.producer = PacedProducer(self.bootstrap, records, rate)
        self.producer.start()

    def streaming(self, count: int = STREAMING) -> None:
        """Wait until ``count`` more records are acknowledged (the producer still has more to send)."""
        p = self.producer
        floor = len(p.acked) + count
        wait_for(f"{count} more records acknowledged", lambda: len(p.acked) >= floor or p.fatal or p.done.is_set(),
                 timeout=120)
        assert not p.fatal, p.fatal
        assert not p.done.is_set(), f"the producer finished before the next kill: {self.history}"

    def kill(self, what: str, *ids: int) -> None:
        p = self.producer
        state = self.registry.partition_state(TOPIC, 0)
        for i in ids:
            self.by_id[i].kill()
        self.history.append(f"{what} {ids} killed with {p.sent - len(p.acked)} records unacknowledged "
                            f"({len(p.acked)} acknowledged; state was {state[0] if state else None})")

    def gone(self, *ids: int) -> None:
        """Wait until the controller has noticed: a live leader, none of ``ids`` in the ISR.  Only then is a
        later full ISR proof that a restarted broker caught up (before, its stale ISR entry lingers for
        a session timeout, and the controller may even rewrite it, e.g. in a preferred-leader election)."""
        wait_state(self.registry, f"{ids} out of the ISR and a live leader",
                   lambda s: s.leader > 0 and s.leader not in ids and not set(ids) & set(s.isr), topic=TOPIC,
                   timeout=90)

    def controller(self) -> int:
        found: int = wait_for("a controller", self.registry.controller_id)
        return found

    def verify(self) -> None:
        p = self.producer
        p.done.wait(300)
        p.join(10)
        assert not p.fatal, p.fatal
        assert p.sent == p.records, f"sent {p.sent}"
        # every acknowledged record exactly once, at its acknowledged offset; no duplicates, no reordering
        log = consume_everything(self.bootstrap)
        seqs = [s for _, s in log]
        assert len(set(seqs)) == len(seqs), f"duplicates: {len(seqs) - len(set(seqs))} ({self.history})"
        assert seqs == sorted(seqs), f"records out of order ({self.history})"
        at = dict(log)
        wrong = [(s, o, at.get(o)) for s, o in p.acked.items() if at.get(o) != s]
        assert not wrong, f"{len(wrong)} acknowledged records missing or moved, e.g. {wrong[:5]} ({self.history})"
        assert len(p.acked) + len(p.failed) == p.records
        assert not p.failed, f"{len(p.failed)} failed deliveries, e.g. {p.failed[:3]}"

        # all replicas hold the same batches once they have settled
        full_isr(self.registry, "the ISR back to three at the end")

        def same_batches() -> list[str] | None:
            dumps = [dump_batches(b) for b in self.cluster]
            return dumps[0] if dumps[0] == dumps[1] == dumps[2] and dumps[0] else None

        try:
            batches = wait_for("identical replica logs", same_batches, timeout=60)
        except AssertionError:
            dumps = [dump_batches(b) for b in self.cluster]
            first = next((i for i, rows in enumerate(zip(*dumps, strict=False)) if len(set(rows)) > 1), None)
            detail = "\n".join(f"broker {b.node_id}: {len(d)} batches; {_row(d, first)}"
                               for b, d in zip(self.cluster, dumps, strict=True))
            raise AssertionError(f"replica logs differ (first differing batch #{first}):\n{detail}\n"
                                 f"{self.history}") from None
        print("fault history:", self.history, f"{len(batches)} batches")
        assert batches[0].startswith("baseOffset: 0 ")
        assert sum(int(ln.split(" count: ")[1].split(" ")[0]) for ln in batches) == len(log)
        # one producer id and epoch throughout: the client never had to reset its idempotence state
        # (what it does after OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID from a new leader)
        producers = {(_field(ln, "producerId:"), _field(ln, "producerEpoch:")) for ln in batches}
        assert len(producers) == 1 and -1 not in next(iter(producers)), producers


def test_idempotent_acks_all_producer_survives_leader_and_controller_kills(
        cluster: list[BrokerProcess], registry: ClusterRegistry) -> None:  # noqa: F811
    f = Faults(cluster, registry)
    # leader, leader, controller, leader: each kill once records flow through the current leader; the
    # victim restarts once the controller has moved on, and is back in the ISR before the next kill
    for step, target in enumerate(("leader", "leader", "controller", "leader")):
        f.streaming()
        victim = leader_of(registry) if target == "leader" else f.controller()
        f.kill(target, victim)
        if target == "controller":
            wait_for("a new controller", lambda v=victim: (c if (c := registry.controller_id()) not in (None, v)
                                                            else None), timeout=60)
        f.gone(victim)
        f.by_id[victim].start()
        full_isr(registry, f"step {step}: broker {victim} back in the ISR")
    f.verify()


def test_idempotent_producer_survives_double_failures(cluster: list[BrokerProcess],
                                                      registry: ClusterRegistry) -> None:  # noqa: F811
    """Harsher: the next leader dies while the previous victim may still be catching up (the ISR can
    fall below min.insync.replicas: NOT_ENOUGH_REPLICAS until someone rejoins), and the controller
    dies together with the leader (or with a follower when it leads itself)."""
    f = Faults(cluster, registry, records=80_000, rate=1200)  # six kill events: a slower stream
    for _ in range(2):
        f.streaming(3000)
        first = leader_of(registry)
        f.kill("leader", first)
        f.gone(first)
        f.by_id[first].start()  # and at once: the restarted broker is still catching up, the ISR drops to one
        second = leader_of(registry)
        f.kill("next leader", second)
        f.gone(second)
        f.by_id[second].start()
        full_isr(registry, "the ISR back to three")
        f.streaming(3000)
        controller, leader = f.controller(), leader_of(registry)
        pair = (controller, leader) if controller != leader else (controller, next(
            i for i in (1, 2, 3) if i != controller))
        f.kill("controller and leader" if controller != leader else "controller-leader and a follower", *pair)
        f.gone(*pair)
        for i in pair:
            f.by_id[i].start()
        full_isr(registry, "the ISR back to three")
    f.verify()
