"""A ZooKeeper-mode cluster riding out ZooKeeper trouble: an expired session, a paused ZooKeeper, bad znodes.

Real broker processes on a real ZooKeeper.  A broker's session is expired deterministically by
SIGSTOPping the broker longer than its session timeout (ZooKeeper keeps running and expires it);
"ZooKeeper paused" SIGSTOPs a private ZooKeeper (the shared one serves other tests).  What must
hold: no broker process restarts or dies, the lost connection is said once, the broker that lost
its session steps down and comes back (new registration, back in the ISR), and bad znode contents
produce one clear error naming the znode while the rest of the cluster keeps working.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.kazoo_store import KazooStore
from kafkatools.coordination.store import CreateOp, DeleteOp, SetOp
from tests.integration.broker_process import BrokerProcess, free_port
from tests.integration.test_zk_cluster import SESSION_MS, chroot, registry, wait_for, wait_state  # noqa: F401
from tests.integration.test_zk_controller_features import (  # noqa: F401 - fixture
    BackgroundProducer,
    Cluster,
    cluster,
    read_partition,
    registered,
)
from tests.integration.test_zookeeper_store import ZooKeeperProcess, zookeeper  # noqa: F401 - fixture


def output(b: BrokerProcess) -> str:
    assert b.output is not None
    return b.output.read_text(errors="replace")


def test_broker_whose_session_expires_steps_down_and_rejoins(cluster: Cluster,  # noqa: F811
                                                             registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"auto.leader.rebalance.enable": "false"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    controller = wait_for("a controller", registry.controller_id)
    registry.create_topic("sx", {0: [controller] + [b for b in (1, 2, 3) if b != controller]})
    wait_state(registry, "sx-0 led by the controller", lambda s: s.leader == controller and len(s.isr) == 3,
               topic="sx")
    victim = next(b for b in brokers if b.node_id == controller)
    assert victim.proc is not None
    pid, epoch_before = victim.proc.pid, registry.live_brokers()[controller][1]

    os.kill(pid, signal.SIGSTOP)  # frozen longer than its session timeout: ZooKeeper expires the session
    try:
        wait_for("the frozen broker's session to expire", lambda: controller not in registry.live_brokers())
        moved = wait_state(registry, "leadership off the frozen broker",
                           lambda s: s.leader not in (-1, controller) and controller not in s.isr, topic="sx")
        successor = wait_for("another controller", lambda: (c if (c := registry.controller_id()) not in
                                                          (None, controller) else None))
    finally:
        os.kill(pid, signal.SIGCONT)

    wait_for("a new registration of the thawed broker", lambda: controller in (live := registry.live_brokers())
             and live[controller][1] != epoch_before)
    wait_state(registry, "the thawed broker back in the ISR", lambda s: len(s.isr) == 3, topic="sx", timeout=50)
    assert victim.proc.poll() is None and victim.proc.pid == pid, "the broker restarted or died"
    assert registry.controller_id() != controller or successor != controller
    assert moved.leader != controller
    out = output(victim)
    assert "ZooKeeper session expired: stepping down as controller" in out, out[-3000:]
    assert "Registered in ZooKeeper" in out.split("ZooKeeper session expired")[1], "no re-registration logged"
    producer = BackgroundProducer(",".join(b.bootstrap for b in brokers), "sx")
    wait_for("records acknowledged", lambda: producer.sent >= 50)
    producer.stop()
    assert producer.failures == []
    assert read_partition(victim.bootstrap, "sx", producer.sent) == [f"v{i}" for i in range(producer.sent)]


@pytest.fixture()
def private_zookeeper(tmp_path: Path) -> Iterator[ZooKeeperProcess]:
    (tmp_path / "zk").mkdir()
    zk = ZooKeeperProcess(tmp_path / "zk" / "data", free_port()).start()
    try:
        yield zk
    finally:
        if zk.process is not None and zk.process.poll() is None:
            zk.process.send_signal(signal.SIGCONT)
        zk.kill()


def test_zookeeper_paused_brokers_keep_running_and_recover(private_zookeeper: ZooKeeperProcess,
                                                           tmp_path: Path) -> None:
    zk = private_zookeeper
    brokers = [BrokerProcess(tmp_path / f"b{i}", node_id=i, overrides={
        "zookeeper.connect": zk.connect + "/paused", "zookeeper.session.timeout.ms": str(SESSION_MS),
        "replica.lag.time.max.ms": "3000"}) for i in (1, 2, 3)]
    store = None
    try:
        for b in brokers:
            b.start()
        store = KazooStore(zk.connect + "/paused", connect_timeout_s=20.0, session_timeout_s=30.0)
        reg = ClusterRegistry(store)
        wait_for("three registrations", registered(reg, [1, 2, 3]))
        reg.create_topic("zp", {0: [1, 2, 3]})
        wait_state(reg, "zp-0 with a full ISR", lambda s: s.leader > 0 and len(s.isr) == 3, topic="zp")
        pids = [b.proc.pid for b in brokers if b.proc is not None]
        assert zk.process is not None
        zk.process.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        try:  # paused well past the session timeout; the brokers must not die meanwhile
            wait_for("every broker to notice", lambda: all("Lost the connection to ZooKeeper" in output(b)
                                                           for b in brokers), timeout=30)
            assert brokers[2].stop(timeout=30) == 0  # SIGTERM now: no controlled shutdown possible, still a clean exit
            assert "ZooKeeper is unreachable: skipping controlled shutdown" in output(brokers[2])
            time.sleep(max(0.0, 2 * SESSION_MS / 1000 - (time.monotonic() - paused)))
            assert brokers[0].alive() and brokers[1].alive()
        finally:
            zk.process.send_signal(signal.SIGCONT)
        wait_for("the two running brokers registered again", registered(reg, [1, 2]), timeout=50)
        wait_for("a controller", reg.controller_id)
        wait_state(reg, "zp-0 led by a running broker, without the stopped one",
                   lambda s: s.leader in (1, 2) and sorted(s.isr) == [1, 2], topic="zp", timeout=50)
        assert [b.proc.pid for b in brokers[:2] if b.proc is not None and b.alive()] == pids[:2], \
            "a broker restarted or died"
        for b in brokers:
            out = output(b)
            assert out.count("Lost the connection to ZooKeeper") == 1, out[-3000:]
            assert "Traceback" not in out, out[-3000:]
        producer = BackgroundProducer(",".join(b.bootstrap for b in brokers[:2]), "zp")
        wait_for("records acknowledged", lambda: producer.sent >= 50)
        producer.stop()
        assert producer.failures == []
        assert read_partition(brokers[0].bootstrap, "zp", producer.sent) == [f"v{i}" for i in range(producer.sent)]
    finally:
        if store is not None:
            store.close()
        for b in brokers:
            b.kill()


def reports(out: str, path: str) -> int:
    return sum(1 for line in out.splitlines() if "Ignoring bad znode" in line and f"{path}:" in line)


def test_bad_znodes_give_one_clear_error_and_the_rest_keeps_working(cluster: Cluster,  # noqa: F811
                                                                    registry: ClusterRegistry) -> None:  # noqa: F811
    brokers = cluster(3, **{"auto.leader.rebalance.enable": "false"})
    wait_for("three registrations", registered(registry, [1, 2, 3]))
    for topic in ("good", "badtopic", "badstate", "badconfig"):
        registry.create_topic(topic, {0: [1, 2, 3], 1: [2, 3, 1]}, {"retention.ms": "86400000"})
        for p in (0, 1):
            wait_state(registry, f"{topic}-{p} with a full ISR", lambda s: len(s.isr) == 3, topic=topic, partition=p)
    store = registry.store
    store.set(zp.topic_path("badtopic"), b"{garbage")
    store.set(zp.partition_state_path("badstate", 0), b"nope")
    store.set(zp.topic_config_path("badconfig"), b"[]")
    store.create(zp.broker_path(99), b"\x00\x01", ephemeral=True)
    store.transaction([DeleteOp(zp.CONTROLLER), CreateOp(zp.CONTROLLER, b"not a claim"),  # persistent garbage
                       SetOp(zp.CONTROLLER_EPOCH, b"garbage")])

    bad = [zp.topic_path("badtopic"), zp.partition_state_path("badstate", 0), zp.topic_config_path("badconfig"),
           zp.broker_path(99)]
    for b in brokers:
        wait_for(f"broker {b.node_id} to report every bad znode",
                 lambda b=b: all(reports(output(b), p) for p in bad))
    wait_for("the election to be refused on the bad epoch",
             lambda: any("Cannot run the controller election: /controller_epoch" in output(b) for b in brokers))
    assert registry.controller_id() is None and all(b.alive() for b in brokers)
    store.set(zp.CONTROLLER_EPOCH, b"100")
    wait_for("a controller again (the garbage /controller removed)", registry.controller_id)
    assert any("Deleting /controller: it is not a broker's ephemeral claim" in output(b) for b in brokers)

    registry.create_topic("after", {0: [3, 1, 2]})  # the controller still works
    wait_state(registry, "a new topic led", lambda s: s.leader == 3 and len(s.isr) == 3, topic="after")
    producer = BackgroundProducer(",".join(b.bootstrap for b in brokers), "good")
    wait_for("records acknowledged", lambda: producer.sent >= 50)
    producer.stop()
    assert producer.failures == []
    assert read_partition(brokers[0].bootstrap, "good", producer.sent) == [f"v{i}" for i in range(producer.sent)]
    for b in brokers:
        assert b.alive(), f"broker {b.node_id} died:\n{b.log_tail()}"
        assert (b.log_dir / "data" / "badtopic-0").is_dir(), "a bad topic znode must not delete the topic's data"
        out = output(b)
        for p in bad:  # said once, not once per pass
            assert reports(out, p) == 1, (p, out[-3000:])
        assert "Traceback" not in out, out[-3000:]


def test_repeated_watches_on_a_quiet_znode_do_not_pile_up(zookeeper: ZooKeeperProcess) -> None:  # noqa: F811
    store = KazooStore(zookeeper.connect + "/quiet", connect_timeout_s=20.0)
    try:
        store.ensure_path("/q")
        fired: list[str] = []

        def watch(event: object) -> None:
            fired.append(str(event))

        for _ in range(50):  # as the broker's refresh does every few seconds
            store.get("/q", watch)
            store.children("/q", watch)
        client = store._client
        watchers = {f"{kind}:{p}": len(w) for kind, table in (("data", client._data_watchers),
                                                              ("child", client._child_watchers))
                    for p, w in table.items() if p.endswith("/q")}
        assert watchers and all(n == 1 for n in watchers.values()), watchers
        store.set("/q", b"x")
        wait_for("the watch to fire", lambda: fired)
    finally:
        store.close()
