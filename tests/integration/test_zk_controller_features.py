"""ZooKeeper-mode controller features on real broker processes and a real ZooKeeper.

Controlled shutdown on SIGTERM (leadership and ISR seats move *before* the broker's registration
vanishes: compared by zxid, not by timing), preferred leader election through the ElectLeaders API
and through the auto rebalance, and broker.id generation from /brokers/seqid.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from tests.integration.broker_process import BrokerProcess
from tests.integration.test_zk_cluster import (  # noqa: F401 - fixtures
    SESSION_MS,
    chroot,
    registry,
    wait_for,
    wait_state,
)
from tests.integration.test_zookeeper_store import ZooKeeperProcess, zookeeper  # noqa: F401 - fixture

Cluster = Callable[..., list[BrokerProcess]]


@pytest.fixture()
def cluster(zookeeper: ZooKeeperProcess, tmp_path: Path, chroot: str) -> Iterator[Cluster]:  # noqa: F811
    """Start brokers 1..n with extra settings; all killed at the end."""
    started: list[BrokerProcess] = []

    def start(n: int = 3, **overrides: str) -> list[BrokerProcess]:
        procs = [BrokerProcess(tmp_path / f"b{i}", node_id=i, overrides={
            "zookeeper.connect": zookeeper.connect + chroot, "zookeeper.session.timeout.ms": str(SESSION_MS),
            "replica.lag.time.max.ms": "3000", "controlled.shutdown.retry.backoff.ms": "500",
            **overrides}) for i in range(1, n + 1)]
        started.extend(procs)
        for p in procs:
            p.start()
        return procs

    yield start
    for p in started:
        p.kill()


def call(port: int, req: Any, version: int | None = None) -> Any:
    async def go() -> Any:
        conn = BrokerConnection("127.0.0.1", port, client_id="zk-features-test")
        await conn.connect()
        try:
            assert 7 in conn.versions and 43 in conn.versions, f"ApiVersions lacks ControlledShutdown/ElectLeaders: " \
                f"{sorted(conn.versions)}"
            return await conn.request(req, version=version)
        finally:
            await conn.close()

    return asyncio.run(go())


def registered(registry: ClusterRegistry, ids: list[int]) -> Callable[[], bool]:  # noqa: F811
    return lambda: sorted(registry.live_brokers()) == ids


def state_and_zxid(registry: ClusterRegistry, topic: str, partition: int) -> tuple[zl.PartitionState, int]:  # noqa: F811
    path = zp.partition_state_path(topic, partition)
    data, stat = registry.store.get(path)
    return zl.decode_partition_state(path, data), stat.mzxid


class BackgroundProducer:
    """acks=all, idempotent, to partition 0, until stopped; every failure is kept."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "message.timeout.ms": 30000, "linger.ms": 5})
        self.topic, self.sent = topic, 0
        self.failures: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.producer.produce(self.topic, f"v{self.sent}".encode(), partition=0,
                                  on_delivery=lambda err, _m: self.failures.append(err) if err else None)
            self.sent += 1
            self.producer.poll(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        assert self.producer.flush(40) == 0, "records still in flight 40 s after the shutdowns"


def test_sigterm_moves_leadership_before_leaving(cluster: Cluster, registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"auto.leader.rebalance.enable": "false"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    controller = wait_for("a controller", registry.controller_id)
    plain, last = [b for b in (1, 2, 3) if b != controller]
    registry.create_topic("cs", {0: [plain, controller, last], 1: [controller, last, plain]})
    for p, leader in ((0, plain), (1, controller)):
        wait_state(registry, f"cs-{p} led by {leader} with a full ISR",
                   lambda s, leader=leader: s.leader == leader and len(s.isr) == 3, topic="cs", partition=p)
    by_id = {b.node_id: b for b in brokers}
    producer = BackgroundProducer(",".join(b.bootstrap for b in brokers), "cs")
    wait_for("some records acknowledged", lambda: producer.sent > 200)

    # a broker that leads cs-0 and follows cs-1
    assert by_id[plain].stop(timeout=30) == 0
    gone_at = registry.store.exists(zp.BROKER_IDS).pzxid  # type: ignore[union-attr]  # its registration's deletion
    for p in (0, 1):
        st, written_at = state_and_zxid(registry, "cs", p)
        assert st.leader not in (plain, -1) and plain not in st.isr, st
        assert written_at < gone_at, f"cs-{p} changed after broker {plain} deregistered"
    out = (by_id[plain].output or Path()).read_text()
    assert "Controlled shutdown request returned successfully" in out, out[-3000:]

    # the controller itself, leading cs-1: it moves its leaderships, resigns, and another broker takes over
    assert by_id[controller].stop(timeout=30) == 0
    gone_at = registry.store.exists(zp.BROKER_IDS).pzxid  # type: ignore[union-attr]
    st, written_at = state_and_zxid(registry, "cs", 1)
    assert (st.leader, st.isr) == (last, [last]) and written_at < gone_at, st
    assert wait_for("the last broker to take over as controller", lambda: registry.controller_id() == last)
    out = (by_id[controller].output or Path()).read_text()
    assert "Controlled shutdown request returned successfully" in out, out[-3000:]

    producer.stop()
    assert producer.failures == [], f"acks=all deliveries failed across controlled shutdowns: {producer.failures[:5]}"
    got = read_partition(by_id[last].bootstrap, "cs", producer.sent)
    assert got == [f"v{i}" for i in range(producer.sent)]


def read_partition(bootstrap: str, topic: str, count: int) -> list[str]:
    """Partition 0 from the beginning, without a group coordinator (no offsets topic needed)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got: list[str] = []

    def more() -> bool:
        got.extend((m.value() or b"").decode() for m in c.consume(500, 0.5) if m.error() is None)
        return len(got) >= count

    try:
        wait_for(f"{count} records", more, timeout=50)
    finally:
        c.close()
    return got


def elect(port: int, topics: dict[str, list[int]] | None, version: int = 2,
          election_type: int = 0) -> messages.ElectLeadersResponse:
    parts = None if topics is None else [messages.ElectLeadersRequest.TopicPartitions(topic=t, partitions=p)
                                         for t, p in topics.items()]
    resp: messages.ElectLeadersResponse = call(port, messages.ElectLeadersRequest(
        election_type=election_type, topic_partitions=parts, timeout_ms=20000), version)
    return resp


def results(resp: messages.ElectLeadersResponse) -> dict[tuple[str, int], int]:
    return {(r.topic, p.partition_id): p.error_code for r in resp.replica_election_results for p in r.partition_result}


def kill_and_restart_preferred(brokers: list[BrokerProcess], registry: ClusterRegistry,  # noqa: F811
                               preferred: int) -> None:
    victim = next(b for b in brokers if b.node_id == preferred)
    victim.kill()
    wait_state(registry, "a new leader", lambda s: s.leader not in (-1, preferred), topic="pe")
    victim.start()
    wait_state(registry, "the preferred replica back in the ISR", lambda s: len(s.isr) == 3, topic="pe",
               timeout=50)


def test_elect_leaders_api_puts_the_preferred_replica_back(cluster: Cluster,
                                                           registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"auto.leader.rebalance.enable": "false"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    controller = wait_for("a controller", registry.controller_id)
    preferred = next(b for b in (1, 2, 3) if b != controller)
    registry.create_topic("pe", {0: [preferred] + [b for b in (1, 2, 3) if b != preferred]})
    wait_state(registry, "pe-0 with a full ISR", lambda s: s.leader == preferred and len(s.isr) == 3, topic="pe")
    kill_and_restart_preferred(brokers, registry, preferred)
    assert (st := wait_state(registry, "pe-0", lambda s: True, topic="pe")).leader != preferred, st

    port = {b.node_id: b.port for b in brokers}
    other = next(b for b in (1, 2, 3) if b != controller)
    refused = elect(port[other], {"pe": [0]})
    assert refused.error_code == 41 and results(refused) == {("pe", 0): 41}  # NOT_CONTROLLER

    answer = elect(port[controller], {"pe": [0, 5], "nope": [0]})
    assert answer.error_code == 0
    assert results(answer) == {("pe", 0): 0, ("pe", 5): 3, ("nope", 0): 3}
    st = wait_state(registry, "the preferred leader", lambda s: s.leader == preferred, topic="pe")
    assert len(st.isr) == 3
    assert results(elect(port[controller], {"pe": [0]}, version=0)) == {("pe", 0): 84}  # ELECTION_NOT_NEEDED
    everything = elect(port[controller], None, version=1)
    assert everything.error_code == 0 and results(everything) == {}  # nothing needed: left out, as Kafka does

    for version in (0, 1, 2, 3):  # v0 travels with request header v0
        nobody = messages.ControlledShutdownRequest(broker_id=77, broker_epoch=-1)
        assert call(port[controller], nobody, version).error_code == 8  # BROKER_NOT_AVAILABLE
        assert call(port[other], nobody, version).error_code == 41  # NOT_CONTROLLER


def test_auto_rebalance_moves_leadership_back(cluster: Cluster, registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"leader.imbalance.check.interval.seconds": "2"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    controller = wait_for("a controller", registry.controller_id)
    preferred = next(b for b in (1, 2, 3) if b != controller)
    registry.create_topic("pe", {0: [preferred] + [b for b in (1, 2, 3) if b != preferred]})
    wait_state(registry, "pe-0 with a full ISR", lambda s: s.leader == preferred and len(s.isr) == 3, topic="pe")
    victim = next(b for b in brokers if b.node_id == preferred)
    victim.kill()
    wait_state(registry, "a new leader", lambda s: s.leader not in (-1, preferred), topic="pe")
    victim.start()
    wait_state(registry, "leadership back on the preferred replica", lambda s: s.leader == preferred, topic="pe",
               timeout=50)


def test_broker_id_generation_and_meta_properties(zookeeper: ZooKeeperProcess, tmp_path: Path,  # noqa: F811
                                                  chroot: str, registry: ClusterRegistry) -> None:  # noqa: F811
    settings = {"zookeeper.connect": zookeeper.connect + chroot, "zookeeper.session.timeout.ms": str(SESSION_MS)}
    b = BrokerProcess(tmp_path / "gen", node_id=-1, overrides=settings)
    try:
        b.start()
        assert wait_for("a generated registration", lambda: list(registry.live_brokers()) == [1001])
        meta = tmp_path / "gen" / "data" / "meta.properties"
        assert "broker.id=1001" in wait_for("meta.properties", lambda: meta.exists() and meta.read_text())
        assert b.stop() == 0
        b.start()  # meta.properties wins: same id again, no new seqid draw
        assert wait_for("the same id again", lambda: list(registry.live_brokers()) == [1001])
        assert b.stop() == 0
    finally:
        b.kill()
    wrong = BrokerProcess(tmp_path / "gen", node_id=5, overrides=settings)
    try:
        with pytest.raises(RuntimeError, match="exited with 1") as failed:
            wrong.start()
        assert "Configured broker.id 5 doesn't match stored broker.id Some(1001)" in str(failed.value)
    finally:
        wrong.kill()


def test_replica_moved_away_is_stopped_and_deleted(cluster: Cluster, registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"auto.leader.rebalance.enable": "false"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    registry.create_topic("mv", {0: [1, 2, 3]})
    wait_state(registry, "mv-0 with a full ISR", lambda s: s.leader == 1 and len(s.isr) == 3, topic="mv")
    gone = brokers[2].log_dir / "data" / "mv-0"
    assert gone.is_dir()
    # the last step of a reassignment, as the controller writes it: broker 3 leaves the replicas and the ISR
    found = registry.partition_state("mv", 0)
    assert found is not None
    registry.update_partition_state("mv", 0, zl.PartitionState(1, found[0].leader_epoch + 1, [1, 2],
                                                               found[0].controller_epoch), found[1])
    current = registry.topic_assignment("mv")
    assert current is not None
    registry.store.set(zp.topic_path("mv"), zl.encode_topic(zl.TopicAssignment({0: [1, 2]}, current.topic_id)))
    wait_for("broker 3's replica to be deleted", lambda: not gone.exists())
    assert (brokers[0].log_dir / "data" / "mv-0").is_dir() and (brokers[1].log_dir / "data" / "mv-0").is_dir()
    assert "moved away from this broker: stopped and deleted" in (brokers[2].output or Path()).read_text()


def test_standalone_broker_answers_elect_leaders_as_its_own_controller(tmp_path: Path) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    b = BrokerProcess(tmp_path / "solo", node_id=0).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("solo", 2, 1)])["solo"].result(20)
        answer = elect(b.port, {"solo": [0, 1, 2]})
        assert answer.error_code == 0 and results(answer) == {("solo", 0): 84, ("solo", 1): 84, ("solo", 2): 3}
        assert results(elect(b.port, None, election_type=1)) == {}
        assert call(b.port, messages.ControlledShutdownRequest(broker_id=0), 1).error_code == 41  # no ZooKeeper
    finally:
        b.kill()
