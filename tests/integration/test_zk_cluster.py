"""Three broker processes on one real ZooKeeper: registration, controller, RF 3 topic, kill -9 of the leader.

The brokers run ``kafka-server-start`` with ``zookeeper.connect``; the test reads ZooKeeper itself
(through KazooStore) to check Kafka's znodes, and uses confluent-kafka (librdkafka) as the client.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # type: ignore[attr-defined]

from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.kazoo_store import KazooStore
from tests.integration.broker_process import BrokerProcess, command
from tests.integration.test_zookeeper_store import ZooKeeperProcess, zookeeper  # noqa: F401 - fixture

SESSION_MS = 6000


def wait_for(what: str, check: Callable[[], Any], timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last seen: {last!r})")


@pytest.fixture()
def chroot(request: pytest.FixtureRequest) -> str:
    """Each test its own cluster in the shared ZooKeeper (a killed broker's znodes linger for a session timeout)."""
    name: str = request.node.name
    return "/" + name.split("[", maxsplit=1)[0]


@pytest.fixture()
def registry(zookeeper: ZooKeeperProcess, chroot: str) -> Iterator[ClusterRegistry]:  # noqa: F811
    store = KazooStore(zookeeper.connect + chroot, connect_timeout_s=20.0)
    try:
        yield ClusterRegistry(store)
    finally:
        store.close()


@pytest.fixture()
def brokers(zookeeper: ZooKeeperProcess, tmp_path: Path, chroot: str) -> Iterator[list[BrokerProcess]]:  # noqa: F811
    procs = [BrokerProcess(tmp_path / f"b{i}", node_id=i, overrides={
        "zookeeper.connect": zookeeper.connect + chroot, "zookeeper.session.timeout.ms": str(SESSION_MS),
        "replica.lag.time.max.ms": "3000", "offsets.topic.num.partitions": "3",
        "offsets.topic.replication.factor": "3"}) for i in (1, 2, 3)]
    try:
        for p in procs:
            p.start()
        yield procs
    finally:
        for p in procs:
            p.kill()


def state_of(registry: ClusterRegistry, topic: str, partition: int = 0) -> zl.PartitionState | None:
    found = registry.partition_state(topic, partition)
    return found[0] if found else None


def wait_state(registry: ClusterRegistry, what: str, accept: Callable[[zl.PartitionState], bool],
               topic: str = "rep", timeout: float = 40.0, partition: int = 0) -> zl.PartitionState:
    def check() -> zl.PartitionState | None:
        s = state_of(registry, topic, partition)
        return s if s is not None and accept(s) else None

    result: zl.PartitionState = wait_for(what, check, timeout)
    return result


def produce(bootstrap: str, topic: str, values: list[str]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "message.timeout.ms": 60000})
    failures: list[Any] = []
    for v in values:
        p.produce(topic, v.encode(), on_delivery=lambda err, _m: failures.append(err) if err else None)
    assert p.flush(60) == 0, "messages still in flight after 60 s"
    assert failures == [], f"delivery failures: {failures}"


def consume_all(bootstrap: str, topic: str, count: int) -> list[str]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{time.monotonic_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(got) < count and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got.append((m.value() or b"").decode())
    finally:
        c.close()
    return got


def test_three_brokers_register_elect_and_replicate(brokers: list[BrokerProcess], registry: ClusterRegistry) -> None:
    live = wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    assert live
    reg, _ = registry.live_brokers()[2]
    assert reg.version == 5 and reg.plaintext is not None and reg.plaintext.port == brokers[1].port
    controller = wait_for("a controller", registry.controller_id)
    assert controller in (1, 2, 3)
    cluster_id = registry.get_or_create_cluster_id()
    for b in brokers:
        meta = (b.log_dir / "data" / "meta.properties").read_text()
        assert f"cluster.id={cluster_id}" in meta

    bootstrap = ",".join(b.bootstrap for b in brokers)
    admin = AdminClient({"bootstrap.servers": brokers[0].bootstrap})
    def three_brokers() -> Any:
        md = admin.list_topics(timeout=10)
        return md if len(md.brokers) == 3 else None

    meta = wait_for("metadata of all brokers", three_brokers)
    admin.create_topics([NewTopic("rep", 1, 3)])["rep"].result(30)
    assert meta.controller_id == controller
    assignment = registry.topic_assignment("rep")
    assert assignment is not None and assignment.topic_id and sorted(assignment.partitions[0]) == [1, 2, 3]
    assert registry.topic_config("rep") == {}
    first = wait_state(registry, "partition state with full ISR", lambda s: sorted(s.isr) == [1, 2, 3] and s.leader > 0)
    assert first.leader == assignment.partitions[0][0]

    produce(bootstrap, "rep", [f"m{i}" for i in range(200)])
    assert consume_all(bootstrap, "rep", 200) == [f"m{i}" for i in range(200)]
    for b in brokers:  # every replica holds the log
        assert any((b.log_dir / "data" / "rep-0").glob("*.log")), f"broker {b.node_id} has no rep-0 log"

    # kill -9 the leader: the controller (maybe a new one) elects another ISR member at a higher epoch
    victim = next(b for b in brokers if b.node_id == first.leader)
    victim.kill()
    moved = wait_state(registry, "a new leader", lambda s: s.leader not in (-1, victim.node_id))
    assert moved.leader_epoch > first.leader_epoch
    assert victim.node_id not in moved.isr and len(moved.isr) == 2
    survivors = ",".join(b.bootstrap for b in brokers if b is not victim)
    produce(survivors, "rep", [f"n{i}" for i in range(100)])
    expected = [f"m{i}" for i in range(200)] + [f"n{i}" for i in range(100)]
    assert consume_all(survivors, "rep", 300) == expected

    # the restarted broker catches up and rejoins the ISR through its leader's conditional write
    victim.start()
    wait_state(registry, "the ISR to grow back", lambda s: sorted(s.isr) == [1, 2, 3], timeout=60)

    # kill -9 the controller: another broker takes /controller at a higher epoch and keeps the partition led
    epoch_before = registry.controller_epoch()
    assert epoch_before is not None
    old_controller = wait_for("a controller", registry.controller_id)
    dead = next(b for b in brokers if b.node_id == old_controller)
    dead.kill()
    new_controller = wait_for("a new controller",
                              lambda: (c if (c := registry.controller_id()) not in (None, old_controller) else None))
    epoch_after = registry.controller_epoch()
    assert epoch_after is not None and epoch_after[0] > epoch_before[0]
    final = wait_state(registry, "a partition without the dead broker",
                       lambda s: s.leader not in (-1, old_controller) and old_controller not in s.isr)
    assert final.leader != old_controller and new_controller != old_controller
    rest = ",".join(b.bootstrap for b in brokers if b.alive())
    assert consume_all(rest, "rep", 300) == expected


def has_dir(path: Path) -> Callable[[], bool]:
    return path.is_dir


def no_logs(data_dir: Path, topic: str) -> Callable[[], bool]:
    return lambda: not list(data_dir.glob(f"{topic}-*"))


def kafka_topics(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command("kafka-topics"), *args], capture_output=True, text=True, timeout=60, check=False)


def test_kafka_topics_on_zookeeper_create_describe_list_delete(brokers: list[BrokerProcess],
                                                               registry: ClusterRegistry,
                                                               zookeeper: ZooKeeperProcess,  # noqa: F811
                                                               chroot: str) -> None:
    zk = zookeeper.connect + chroot
    wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    made = kafka_topics("--create", "--zookeeper", zk, "--replication-factor", "3", "--partitions", "2",
                        "--topic", "my-replicated-topic", "--config", "retention.ms=600000")
    assert (made.returncode, made.stdout, made.stderr) == (0, "Created topic my-replicated-topic.\n", "")
    assert registry.topic_config("my-replicated-topic") == {"retention.ms": "600000"}
    for p in (0, 1):
        wait_state(registry, f"partition {p} led with a full ISR", lambda s: s.leader > 0 and len(s.isr) == 3,
                   topic="my-replicated-topic")
    described = kafka_topics("--describe", "--zookeeper", zk, "--topic", "my-replicated-topic")
    assert described.returncode == 0, described.stderr
    lines = described.stdout.splitlines()
    assignment = registry.topic_assignment("my-replicated-topic")
    assert assignment is not None
    assert lines[0] == (f"Topic: my-replicated-topic\tTopicId: {assignment.topic_id}\tPartitionCount: 2\t"
                        "ReplicationFactor: 3\tConfigs: retention.ms=600000")
    for p, line in enumerate(lines[1:]):
        s = state_of(registry, "my-replicated-topic", p)
        assert s is not None
        replicas = ",".join(map(str, assignment.partitions[p]))
        assert line == (f"\tTopic: my-replicated-topic\tPartition: {p}\tLeader: {s.leader}\tReplicas: {replicas}\t"
                        f"Isr: {','.join(map(str, s.isr))}")
    assert len(lines) == 3

    bootstrap = ",".join(b.bootstrap for b in brokers)
    produce(bootstrap, "my-replicated-topic", ["my test message 1", "my test message 2"])
    assert sorted(consume_all(bootstrap, "my-replicated-topic", 2)) == ["my test message 1", "my test message 2"]
    consumed = subprocess.run([command("kafka-console-consumer"), "--zookeeper", zk, "--from-beginning", "--topic",
                               "my-replicated-topic", "--max-messages", "2", "--timeout-ms", "30000"],
                              capture_output=True, text=True, timeout=60, check=False)
    assert consumed.returncode == 0, consumed.stderr
    assert sorted(consumed.stdout.splitlines()) == ["my test message 1", "my test message 2"]
    # the admin API on the cluster: CreatePartitions and DeleteTopics go through ZooKeeper too
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_partitions([NewPartitions("my-replicated-topic", 3)])["my-replicated-topic"].result(30)
    wait_state(registry, "the new partition led with a full ISR", lambda s: s.leader > 0 and len(s.isr) == 3,
               topic="my-replicated-topic", partition=2)
    for b in brokers:
        wait_for(f"broker {b.node_id} to open the new partition", has_dir(b.log_dir / "data" / "my-replicated-topic-2"))
    admin.create_topics([NewTopic("short-lived", 1, 2)])["short-lived"].result(30)
    wait_state(registry, "short-lived led", lambda s: s.leader > 0, topic="short-lived")
    admin.delete_topics(["short-lived"])["short-lived"].result(30)
    wait_for("short-lived to leave ZooKeeper", lambda: "short-lived" not in registry.topics())
    for b in brokers:
        wait_for(f"broker {b.node_id} to drop short-lived", no_logs(b.log_dir / "data", "short-lived"))
    listed = kafka_topics("--list", "--zookeeper", zk)
    assert "my-replicated-topic\n" in listed.stdout

    gone = kafka_topics("--delete", "--zookeeper", zk, "--topic", "my-replicated-topic")
    assert gone.returncode == 0 and gone.stdout.startswith("Topic my-replicated-topic is marked for deletion.\n")
    wait_for("the controller to finish the deletion", lambda: "my-replicated-topic" not in registry.topics())
    for b in brokers:
        wait_for(f"broker {b.node_id} to delete its logs", no_logs(b.log_dir / "data", "my-replicated-topic"))
    missing = kafka_topics("--describe", "--zookeeper", zk, "--topic", "my-replicated-topic")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
