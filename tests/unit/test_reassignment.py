"""The ZooKeeper-era reassignment state machine (broker/zk/reassignment.py) on the in-memory ZooKeeper twin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkatools import errors
from kafkatools.broker.zk import reassignment as ra
from kafkatools.broker.zk.controller import ZkController
from kafkatools.coordination import zk_admin as za
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper

TP = za.TopicPartition


def reg(broker_id: int) -> zl.BrokerRegistration:
    return zl.BrokerRegistration(broker_id, (zl.Endpoint("PLAINTEXT", "h", 9000 + broker_id, "PLAINTEXT"),), 1)


@pytest.fixture()
def cluster() -> Iterator[tuple[ClusterRegistry, ZkController]]:
    """Brokers 1-4 registered, broker 1 controller, topic t-0 on [1, 2] led by 1 with a full ISR."""
    server = MemoryZooKeeper()
    sessions: list[MemoryStore] = []
    regs = []
    for b in (1, 2, 3, 4):
        store = server.connect("/kafka")
        sessions.append(store)
        r = ClusterRegistry(store)
        r.ensure_persistent_paths()
        r.register_broker(reg(b))
        regs.append(r)
    controller = ZkController(regs[0], 1)
    assert controller.elect()
    regs[0].create_topic("t", {0: [1, 2], 1: [2, 1]})
    controller.reconcile()
    yield regs[0], controller
    for s in sessions:
        s.close()


def set_isr(registry: ClusterRegistry, isr: list[int], partition: int = 0) -> None:
    found = registry.partition_state("t", partition)
    assert found is not None
    state, version = found
    registry.update_partition_state("t", partition, zl.PartitionState(state.leader, state.leader_epoch, isr,
                                                                       state.controller_epoch), version)


def state(registry: ClusterRegistry, partition: int = 0) -> zl.PartitionState:
    found = registry.partition_state("t", partition)
    assert found is not None
    return found[0]


def assignment(registry: ClusterRegistry) -> zl.TopicAssignment:
    found = registry.topic_assignment("t")
    assert found is not None
    return found


# --- pure rules ---------------------------------------------------------------------------------------


def test_plan_follows_kafka_rs_formula() -> None:
    move = ra.plan([1, 2], [2, 3])
    assert (move.replicas, move.adding, move.removing) == ([2, 3, 1], [3], [1])
    assert move.target == [2, 3] and move.origin == [2, 1]
    assert ra.plan([1, 2, 3], [3, 2, 1]) == ra.Ongoing([3, 2, 1], [], [])


def test_invalid_targets_are_named() -> None:
    assert ra.invalid_target([], {1}) == "Empty replica list specified in partition reassignment."
    assert "Duplicate replica ids" in (ra.invalid_target([1, 1], {1}) or "")
    assert ra.invalid_target([1, 9], {1, 2}) == ("Replica assignment has brokers that are not alive. Replica list: "
                                                 "1,9, live broker list: 1,2")
    assert ra.invalid_target([2, 1], {1, 2}) is None


def test_settle_moves_leader_into_target_and_trims_isr() -> None:
    s = zl.PartitionState(1, 4, [1, 2, 3], 1)
    assert ra.settle([2, 3], s, {1, 2, 3}, 7) == zl.PartitionState(2, 5, [2, 3], 7)
    assert ra.settle([1, 3], s, {1, 2, 3}, 7) == zl.PartitionState(1, 5, [1, 3], 7)
    assert ra.settle([4], s, {1, 2, 3, 4}, 7) is None  # nobody in sync to lead


# --- the API path and the controller pass ----------------------------------------------------------------


def test_api_reassignment_runs_to_completion(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    out = ra.submit(r, c.claim, {TP("t", 0): [2, 3]}, {1, 2, 3, 4})
    assert out == {TP("t", 0): ra.OK}
    a = assignment(r)
    assert (a.partitions[0], a.adding_replicas, a.removing_replicas) == ([2, 3, 1], {0: [3]}, {0: [1]})
    assert list(ra.list_ongoing(r)) == [TP("t", 0)]
    assert c.reconcile() == 0 and state(r).leader == 1  # broker 3 not in sync yet: nothing moves

    set_isr(r, [1, 2, 3])  # the leader let broker 3 into the ISR
    before = state(r)
    assert ra.advance(r, c.claim, {1, 2, 3, 4}) == 2
    after = state(r)
    assert (after.leader, after.isr, after.leader_epoch) == (2, [2, 3], before.leader_epoch + 1)
    a = assignment(r)
    assert (a.partitions[0], a.adding_replicas, a.removing_replicas) == ([2, 3], {}, {})
    assert a.partitions[1] == [2, 1]  # the other partition untouched
    assert ra.list_ongoing(r) == {}
    assert ra.advance(r, c.claim, {1, 2, 3, 4}) == 0


def test_znode_request_started_completed_and_removed(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    r.store.create(zp.REASSIGN_PARTITIONS, za.encode_reassignment({TP("t", 1): [2, 4], TP("t", 9): [1]}))
    c.reconcile()
    a = assignment(r)
    assert (a.partitions[1], a.adding_replicas, a.removing_replicas) == ([2, 4, 1], {1: [4]}, {1: [1]})
    assert ra.read_requests(r)[0] == {TP("t", 1): [2, 4]}  # the unknown partition was dropped
    c.reconcile()
    assert ra.read_requests(r)[0] == {TP("t", 1): [2, 4]}  # still in progress
    set_isr(r, [2, 1, 4], partition=1)
    c.reconcile()
    assert assignment(r).partitions[1] == [2, 4] and state(r, 1).isr == [2, 4] and state(r, 1).leader == 2
    assert r.store.exists(zp.REASSIGN_PARTITIONS) is None


def test_cancel_reverts_to_the_original_replicas(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    ra.submit(r, c.claim, {TP("t", 0): [3, 4]}, {1, 2, 3, 4})
    set_isr(r, [1, 2, 3])  # 3 caught up, 4 not: not complete
    assert ra.advance(r, c.claim, {1, 2, 3, 4}) == 0
    out = ra.submit(r, c.claim, {TP("t", 0): None, TP("t", 1): None}, {1, 2, 3, 4})
    assert out[TP("t", 0)] == ra.OK
    assert out[TP("t", 1)][0] is errors.BY_NAME["NO_REASSIGNMENT_IN_PROGRESS"]
    a = assignment(r)
    assert (a.partitions[0], a.adding_replicas, a.removing_replicas) == ([1, 2], {}, {})
    assert state(r).isr == [1, 2] and state(r).leader == 1  # broker 3 left the ISR with the cancel


def test_api_errors_per_partition(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    out = ra.submit(r, c.claim, {TP("t", 0): [1, 7], TP("t", 5): [1], TP("nope", 0): [1], TP("t", 1): [2, 1]},
                    {1, 2, 3, 4})
    assert out[TP("t", 0)][0] is errors.INVALID_REPLICA_ASSIGNMENT
    assert out[TP("t", 5)][0] is errors.UNKNOWN_TOPIC_OR_PARTITION
    assert out[TP("nope", 0)][0] is errors.UNKNOWN_TOPIC_OR_PARTITION
    assert out[TP("t", 1)] == ra.OK  # already there: a no-op success
    assert assignment(r).partitions == {0: [1, 2], 1: [2, 1]}


def test_api_request_takes_its_partition_out_of_the_znode(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    r.store.create(zp.REASSIGN_PARTITIONS, za.encode_reassignment({TP("t", 0): [3, 4], TP("t", 1): [2, 3]}))
    ra.submit(r, c.claim, {TP("t", 0): [1, 3]}, {1, 2, 3, 4})
    assert ra.read_requests(r)[0] == {TP("t", 1): [2, 3]}
    c.reconcile()
    assert ra.list_ongoing(r)[TP("t", 0)].target == [1, 3]
    assert ra.list_ongoing(r)[TP("t", 1)].target == [2, 3]


def test_deposed_controller_cannot_start_a_reassignment(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    stale = ra.ControllerClaim(1, c.claim.epoch, c.claim.epoch_zk_version - 1)
    out = ra.submit(r, stale, {TP("t", 0): [2, 3]}, {1, 2, 3, 4}, attempts=2)
    assert out[TP("t", 0)][0] is ra.REASSIGNMENT_IN_PROGRESS
    assert assignment(r).adding_replicas == {}


def test_empty_request_znode_is_deleted(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    r.store.create(zp.REASSIGN_PARTITIONS, za.encode_reassignment({}))
    assert ra.advance(r, c.claim, {1, 2, 3, 4}) == 1
    assert r.store.exists(zp.REASSIGN_PARTITIONS) is None


def test_names_that_cannot_be_topics_are_unknown(cluster: tuple[ClusterRegistry, ZkController]) -> None:
    r, c = cluster
    assert c.claim is not None
    out = ra.submit(r, c.claim, {TP("a/b", 0): [1], TP("", 0): [1]}, {1, 2, 3, 4})
    assert {e for e, _ in out.values()} == {errors.UNKNOWN_TOPIC_OR_PARTITION}
    assert ra.list_ongoing(r, {"a/b": [0], "..": [1]}) == {}


def test_new_controller_finishes_a_move_the_old_one_started() -> None:
    """The move lives in ZooKeeper only: after fail-over the next controller completes it."""
    server = MemoryZooKeeper()
    stores = [server.connect("/kafka") for _ in range(3)]
    regs = [ClusterRegistry(s) for s in stores]
    for b, r in enumerate(regs, start=1):
        r.ensure_persistent_paths()
        r.register_broker(reg(b))
    old, new = ZkController(regs[0], 1), ZkController(regs[1], 2)
    assert old.elect() and old.claim is not None
    regs[0].create_topic("t", {0: [1, 2]})
    old.reconcile()
    assert ra.submit(regs[0], old.claim, {TP("t", 0): [2, 3]}, {1, 2, 3}) == {TP("t", 0): ra.OK}
    stores[0].close()  # the controller (and leader) dies
    assert new.elect() and new.claim is not None
    new.reconcile()
    assert state(regs[1]).leader == 2
    set_isr(regs[1], [2, 3])
    new.reconcile()
    a = assignment(regs[1])
    assert (a.partitions[0], a.adding_replicas, a.removing_replicas) == ([2, 3], {}, {})
    assert state(regs[1]).controller_epoch == new.claim.epoch
    for s in stores[1:]:
        s.close()
