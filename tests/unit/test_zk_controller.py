"""The ZooKeeper controller's rules (``decide``) and its reconcile passes, on the in-memory ZooKeeper twin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.zk.controller import Decision, ZkController, decide
from kafkatools.broker.zk.isr_channel import ZkIsrChannel
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper


def state(leader: int, epoch: int, isr: list[int]) -> zl.PartitionState:
    return zl.PartitionState(leader, epoch, isr, 1)


def reg(broker_id: int) -> zl.BrokerRegistration:
    return zl.BrokerRegistration(broker_id, (zl.Endpoint("PLAINTEXT", "h", 9000 + broker_id, "PLAINTEXT"),), 1)


# --- decide ----------------------------------------------------------------------------------------


def test_new_partition_leader_is_first_live_replica() -> None:
    assert decide([2, 3, 1], None, {1, 3}) == Decision(3, [3, 1], False)


def test_new_partition_without_live_replicas_has_no_leader() -> None:
    assert decide([2, 3], None, set()) == Decision(-1, [2], False)


def test_healthy_partition_is_left_alone() -> None:
    assert decide([1, 2, 3], state(1, 4, [1, 2, 3]), {1, 2, 3}) is None


def test_dead_leader_replaced_by_first_live_isr_member_in_assignment_order() -> None:
    assert decide([1, 2, 3], state(1, 4, [3, 1, 2]), {2, 3}) == Decision(2, [3, 2], True)


def test_replica_outside_isr_is_never_elected_when_unclean_is_off() -> None:
    assert decide([1, 2, 3], state(1, 4, [1]), {2, 3}) == Decision(-1, [1], True)
    assert decide([1, 2, 3], state(-1, 5, [1]), {2, 3}) is None  # stays offline, no new epoch each pass


def test_unclean_election_takes_a_live_out_of_sync_replica() -> None:
    assert decide([1, 2, 3], state(1, 4, [1]), {2, 3}, unclean=True) == Decision(2, [2], True)


def test_dead_follower_leaves_the_isr() -> None:
    assert decide([1, 2, 3], state(1, 4, [1, 2, 3]), {1, 2}) == Decision(1, [1, 2], True)


def test_offline_partition_comes_back_with_its_last_isr_member() -> None:
    assert decide([1, 2, 3], state(-1, 5, [1]), {1, 2}) == Decision(1, [1], True)


# --- reconcile on the twin -------------------------------------------------------------------------


@pytest.fixture()
def zk() -> Iterator[tuple[MemoryZooKeeper, list[MemoryStore]]]:
    server = MemoryZooKeeper()
    sessions: list[MemoryStore] = []
    yield server, sessions
    for s in sessions:
        s.close()


def join(server: MemoryZooKeeper, sessions: list[MemoryStore], broker_id: int) -> ClusterRegistry:
    store = server.connect("/kafka")
    sessions.append(store)
    registry = ClusterRegistry(store)
    registry.ensure_persistent_paths()
    registry.register_broker(reg(broker_id))
    return registry


def test_controller_writes_states_and_fails_over(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c1, c2 = ZkController(regs[1], 1), ZkController(regs[2], 2)
    assert c1.elect() and not c2.elect()
    regs[1].create_topic("t", {0: [2, 3, 1], 1: [3, 1, 2]})
    assert c1.reconcile() == 2
    assert c1.reconcile() == 0  # nothing left to do
    assert regs[1].partition_state("t", 0) == (zl.PartitionState(2, 0, [2, 3, 1], 1), 0)

    server.expire(sessions[1])  # broker 2 (leader of t-0) loses its session
    assert c1.reconcile() == 2
    s0, v0 = regs[1].partition_state("t", 0) or (None, -1)
    assert s0 == zl.PartitionState(3, 1, [3, 1], 1) and v0 == 1
    s1, _ = regs[1].partition_state("t", 1) or (None, -1)
    assert s1 is not None and (s1.leader, s1.leader_epoch, s1.isr) == (3, 1, [3, 1])

    sessions[0].close()  # the controller dies: broker 3 takes over with a higher controller epoch
    c3 = ZkController(regs[3], 3)
    assert c3.elect() and c3.claim is not None and c3.claim.epoch == 2
    assert c3.reconcile() == 2
    s0, _ = regs[3].partition_state("t", 0) or (None, -1)
    assert s0 == zl.PartitionState(3, 2, [3], 2)


def test_deposed_controller_cannot_write(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2)}
    c1 = ZkController(regs[1], 1)
    assert c1.elect()
    regs[1].create_topic("t", {0: [1, 2]})
    stale = c1.claim
    server.expire(sessions[0])  # broker 1's session ends; broker 2 wins epoch 2
    c2 = ZkController(regs[2], 2)
    assert c2.elect()
    c1.claim = stale  # a controller that has not noticed yet
    assert c1.reconcile() == 0
    assert regs[2].partition_state("t", 0) is None
    assert c2.reconcile() == 1


def test_topic_deletion_removes_its_znodes(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r = join(server, sessions, 1)
    c = ZkController(r, 1)
    assert c.elect()
    r.create_topic("gone", {0: [1]}, {"retention.ms": "1"})
    c.reconcile()
    r.mark_topic_for_deletion("gone")
    c.reconcile()
    assert r.topics() == [] and r.store.exists(zp.topic_config_path("gone")) is None
    assert r.store.children(zp.DELETE_TOPICS) == []


def test_isr_channel_write_is_conditional_on_leader_and_epoch(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c = ZkController(regs[1], 1)
    assert c.elect()
    regs[1].create_topic("t", {0: [1, 2, 3]})
    c.reconcile()
    channel = ZkIsrChannel(regs[1])
    accepted = channel.write("t", 0, PartitionState(1, 0, [1, 2, 3], [1, 2]))
    assert accepted == PartitionState(1, 0, [1, 2, 3], [1, 2])
    assert regs[1].partition_state("t", 0) == (zl.PartitionState(1, 0, [1, 2], 1), 1)
    assert channel.write("t", 0, PartitionState(1, 1, [1, 2, 3], [1])) is None  # wrong epoch
    assert channel.write("t", 0, PartitionState(2, 0, [1, 2, 3], [2])) is None  # not the leader
    assert channel.write("nope", 0, PartitionState(1, 0, [1], [1])) is None


def test_bad_znodes_are_skipped_not_fatal(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r = join(server, sessions, 1)
    r.store.create(zp.broker_path(7), b"garbage", ephemeral=True)  # a registration nobody can parse
    r.store.create(zp.topic_path("bad"), b"{", make_parents=True)
    r.create_topic("good", {0: [1, 7]})
    c = ZkController(r, 1)
    assert c.elect()
    assert c.reconcile() == 1
    assert r.partition_state("good", 0) == (zl.PartitionState(1, 0, [1, 7], 1), 0)  # 7 is registered, so live
