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


def test_bad_partition_state_skips_only_that_partition(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r = join(server, sessions, 1)
    r.create_topic("t", {0: [1], 1: [1]})
    r.store.create(zp.partition_state_path("t", 0), b"not json", make_parents=True)
    c = ZkController(r, 1)
    assert c.elect()
    assert c.reconcile() == 1  # partition 1 gets its state; partition 0 is reported and left alone
    assert r.partition_state("t", 1) == (zl.PartitionState(1, 0, [1], 1), 0)
    assert r.store.get(zp.partition_state_path("t", 0))[0] == b"not json"


def test_persistent_garbage_controller_znode_is_removed_then_elected(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r = join(server, sessions, 1)
    r.store.create(zp.CONTROLLER, b"\xff garbage")  # persistent: no live broker's claim
    c = ZkController(r, 1)
    assert not c.elect()  # reported, deleted
    assert r.store.exists(zp.CONTROLLER) is None
    assert c.elect() and r.controller_id() == 1


def test_garbage_in_another_sessions_controller_znode_is_waited_out(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r1, r2 = join(server, sessions, 1), join(server, sessions, 2)
    c1 = ZkController(r1, 1)
    assert c1.elect()
    r1.store.set(zp.CONTROLLER, b"garbage")
    assert c1.elect()  # still ours: keep the claim
    assert not ZkController(r2, 2).elect()  # another live session holds it
    server.expire(sessions[0])
    assert ZkController(r2, 2).elect()


# --- controlled shutdown -------------------------------------------------------------------------------


def test_decide_moves_leadership_off_a_shutting_down_broker() -> None:
    assert decide([1, 2, 3], state(1, 4, [1, 2, 3]), {1, 2, 3}, shutting_down={1}) == Decision(2, [2, 3], True)


def test_decide_drops_shutting_down_follower_from_isr() -> None:
    assert decide([1, 2, 3], state(1, 4, [1, 2, 3]), {1, 2, 3}, shutting_down={3}) == Decision(1, [1, 2], True)


def test_decide_keeps_single_replica_and_unreplaceable_leaders() -> None:
    assert decide([1], state(1, 0, [1]), {1}, shutting_down={1}) is None
    assert decide([1, 2], state(1, 3, [1]), {1, 2}, shutting_down={1}) is None  # 2 is out of sync
    assert decide([1, 2], state(1, 3, [1]), {1, 2}, unclean=True, shutting_down={1}) is None  # no data loss for it


def test_decide_prefers_a_shutting_down_isr_member_to_no_leader() -> None:
    assert decide([1, 2, 3], state(1, 4, [1, 2]), {2, 3}, shutting_down={2}) == Decision(2, [2], True)


def test_controlled_shutdown_moves_everything_and_reports_what_is_left(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c = ZkController(regs[1], 1)
    assert c.elect()
    regs[1].create_topic("t", {0: [2, 3, 1], 1: [3, 2, 1], 2: [2], 3: [2, 3]})
    c.reconcile()
    channel = ZkIsrChannel(regs[2])  # t-3's ISR shrinks to its leader 2 alone: 2 cannot leave it
    assert channel.write("t", 3, PartitionState(2, 0, [2, 3], [2])) is not None
    epoch = regs[2].store.get(zp.broker_path(2))[1].czxid
    error, remaining = c.controlled_shutdown(2, epoch)
    assert error.name == "NONE" and remaining == [("t", 3)]  # t-2 has a single replica: not listed
    assert regs[1].partition_state("t", 0)[0] == zl.PartitionState(3, 1, [3, 1], 1)  # type: ignore[index]
    assert regs[1].partition_state("t", 1)[0] == zl.PartitionState(3, 1, [3, 1], 1)  # type: ignore[index]
    assert regs[1].partition_state("t", 2)[0].leader == 2  # type: ignore[index]
    assert c.reconcile() == 0  # stays moved while broker 2 is shutting down
    assert c.controlled_shutdown(2, epoch + 12345)[0].name == "STALE_BROKER_EPOCH"
    assert c.controlled_shutdown(9)[0].name == "BROKER_NOT_AVAILABLE"
    assert ZkController(regs[3], 3).controlled_shutdown(2)[0].name == "NOT_CONTROLLER"
    sessions[1].close()  # broker 2 goes; when it comes back it is an ordinary broker again
    c.reconcile()
    assert c.shutting_down == set()


def test_a_shutting_down_broker_that_restarts_quickly_is_ordinary_again(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2)}
    c = ZkController(regs[1], 1)
    assert c.elect()
    regs[1].create_topic("t", {0: [2, 1]})
    c.reconcile()
    assert c.controlled_shutdown(2)[0].name == "NONE" and c.shutting_down == {2}
    sessions[1].close()
    join(server, sessions, 2)  # re-registered before the controller's next pass
    c.reconcile()
    assert c.shutting_down == set()


# --- elections -----------------------------------------------------------------------------------------


Zk = tuple[MemoryZooKeeper, list[MemoryStore]]


def make_led_elsewhere(zk: Zk) -> tuple[ZkController, dict[int, ClusterRegistry]]:
    """t-0 [1,2,3] led by 2 (1 went away and came back, in the ISR again); t-1 [2,3,1] led by 2."""
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c = ZkController(regs[3], 3)
    assert c.elect()
    regs[3].create_topic("t", {0: [1, 2, 3], 1: [2, 3, 1]})
    c.reconcile()
    found = regs[3].partition_state("t", 0)
    assert found is not None
    regs[3].update_partition_state("t", 0, zl.PartitionState(2, 5, [2, 3, 1], 1), found[1])
    return c, regs


def test_preferred_election_results(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    c, regs = make_led_elsewhere(zk)
    results = c.elect_leaders([("t", 0), ("t", 1), ("t", 7), ("nope", 0)], 0)
    assert {k: r[0].name for k, r in results.items()} == {
        ("t", 0): "NONE", ("t", 1): "ELECTION_NOT_NEEDED", ("t", 7): "UNKNOWN_TOPIC_OR_PARTITION",
        ("nope", 0): "UNKNOWN_TOPIC_OR_PARTITION"}
    assert regs[3].partition_state("t", 0)[0] == zl.PartitionState(1, 6, [2, 3, 1], 1)  # type: ignore[index]
    everything = c.elect_leaders(None, 0)  # every partition: both already led by their preferred replica
    assert sorted(everything) == [("t", 0), ("t", 1)]
    assert {r[0].name for r in everything.values()} == {"ELECTION_NOT_NEEDED"}


def test_preferred_leader_not_available_when_out_of_isr_or_dead(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    c, regs = make_led_elsewhere(zk)
    found = regs[3].partition_state("t", 0)
    assert found is not None
    regs[3].update_partition_state("t", 0, zl.PartitionState(2, 6, [2, 3], 1), found[1])
    assert c.elect_leaders([("t", 0)], 0)[("t", 0)][0].name == "PREFERRED_LEADER_NOT_AVAILABLE"


def test_unclean_election(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    _, sessions = zk
    c, regs = make_led_elsewhere(zk)
    assert c.elect_leaders([("t", 1)], 1)[("t", 1)][0].name == "ELECTION_NOT_NEEDED"
    found = regs[3].partition_state("t", 1)
    assert found is not None  # leader 2 with ISR [2]; 2 dies: only out-of-sync 3 and 1 are left
    regs[3].update_partition_state("t", 1, zl.PartitionState(2, 3, [2], 1), found[1])
    sessions[1].close()
    c.reconcile()
    assert regs[3].partition_state("t", 1)[0].leader == -1  # type: ignore[index]  # clean: offline
    assert c.elect_leaders([("t", 1)], 1)[("t", 1)][0].name == "NONE"
    assert regs[3].partition_state("t", 1)[0].leader == 3  # type: ignore[index]  # first live replica
    assert regs[3].partition_state("t", 1)[0].isr == [3]  # type: ignore[index]


def test_unclean_without_live_replicas(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2)}
    c = ZkController(regs[1], 1)
    assert c.elect()
    regs[1].create_topic("u", {0: [2]})
    c.reconcile()
    sessions[1].close()
    c.reconcile()
    assert c.elect_leaders([("u", 0)], 1)[("u", 0)][0].name == "ELIGIBLE_LEADERS_NOT_AVAILABLE"


def test_admin_preferred_replica_election_znode(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    from kafkatools.coordination import zk_admin as za

    c, regs = make_led_elsewhere(zk)
    regs[3].store.create(zp.PREFERRED_REPLICA_ELECTION,
                         za.encode_partitions([za.TopicPartition("t", 0), za.TopicPartition("t", 1)]))
    c.reconcile()
    assert regs[3].partition_state("t", 0)[0].leader == 1  # type: ignore[index]
    assert regs[3].store.exists(zp.PREFERRED_REPLICA_ELECTION) is None
    regs[3].store.create(zp.PREFERRED_REPLICA_ELECTION, b"{bad")
    c.reconcile()  # reported and removed, no crash, no retry loop
    assert regs[3].store.exists(zp.PREFERRED_REPLICA_ELECTION) is None


def test_auto_rebalance_after_the_interval(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    now = [0.0]
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c = ZkController(regs[3], 3, auto_rebalance=True, imbalance_interval_s=10, imbalance_percentage=10,
                     clock=lambda: now[0])
    assert c.elect()
    regs[3].create_topic("t", {0: [1, 2, 3], 1: [2, 3, 1]})
    c.reconcile()
    found = regs[3].partition_state("t", 0)
    assert found is not None
    regs[3].update_partition_state("t", 0, zl.PartitionState(2, 5, [2, 3, 1], 1), found[1])
    now[0] = 4.0
    c.reconcile()
    assert regs[3].partition_state("t", 0)[0].leader == 2  # type: ignore[index]  # not due yet
    now[0] = 5.0
    c.reconcile()
    assert regs[3].partition_state("t", 0)[0].leader == 1  # type: ignore[index]


def test_imbalance_ratio_per_broker() -> None:
    from kafkatools.broker.zk.elections import imbalanced

    placements = {("t", p): ([1, 2], state(2 if p < 1 else 1, 0, [1, 2])) for p in range(10)}
    assert imbalanced(placements, 10) == []  # 1 of 10 = 10 %: not above
    assert imbalanced(placements, 9) == [("t", 0)]


def test_auto_rebalance_leaves_partitions_being_reassigned_alone(
        zk: tuple[MemoryZooKeeper, list[MemoryStore]], monkeypatch: pytest.MonkeyPatch) -> None:
    from kafkatools.broker.zk import reassignment

    monkeypatch.setattr(reassignment, "advance", lambda *_: 0)  # a reassignment frozen mid-way
    server, sessions = zk
    regs = {b: join(server, sessions, b) for b in (1, 2, 3)}
    c = ZkController(regs[3], 3, auto_rebalance=True, imbalance_interval_s=1, clock=lambda: 100.0)
    assert c.elect()
    regs[3].create_topic("t", {0: [1, 2, 3]})
    c.reconcile()
    found = regs[3].partition_state("t", 0)
    assert found is not None
    regs[3].update_partition_state("t", 0, zl.PartitionState(2, 5, [2, 3, 1], 1), found[1])
    current = regs[3].topic_assignment("t")
    assert current is not None
    regs[3].store.set(zp.topic_path("t"), zl.encode_topic(zl.TopicAssignment(
        {0: [1, 2, 3]}, current.topic_id, adding_replicas={0: [1]})))
    c._next_rebalance = 0.0
    c.reconcile()
    assert regs[3].partition_state("t", 0)[0].leader == 2  # type: ignore[index]  # left to the reassignment


def test_garbage_controller_epoch_blocks_only_the_election(zk: tuple[MemoryZooKeeper, list[MemoryStore]]) -> None:
    server, sessions = zk
    r = join(server, sessions, 1)
    r.store.create(zp.CONTROLLER_EPOCH, b"twelve")
    c = ZkController(r, 1)
    assert not c.elect() and not c.elect()  # reported once, no exception, no claim
    assert r.controller_id() is None
    r.store.set(zp.CONTROLLER_EPOCH, b"12")
    assert c.elect() and c.claim is not None and c.claim.epoch == 13
