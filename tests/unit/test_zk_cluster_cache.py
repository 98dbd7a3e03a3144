"""ZkCluster: the broker's cached view of ZooKeeper (read_snapshot + adopt) and its writes, on the twin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkatools.broker.cluster import PartitionState, uuid_to_base64
from kafkatools.broker.zk.controller import ZkController
from kafkatools.broker.zk.zk_cluster import ZkCluster, read_snapshot
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper
from kafkatools.coordination.store import WatchEvent


@pytest.fixture()
def registry() -> Iterator[ClusterRegistry]:
    store: MemoryStore = MemoryZooKeeper().connect("/k")
    r = ClusterRegistry(store)
    r.ensure_persistent_paths()
    r.register_broker(zl.BrokerRegistration(1, (zl.Endpoint("PLAINTEXT", "h1", 9001, "PLAINTEXT"),), 1))
    yield r
    store.close()


def test_create_topic_writes_config_then_v3_assignment(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    topic = cluster.create_topic("orders", [[1], [1]], {"retention.ms": "1000"})
    data, _ = registry.store.get(zp.topic_path("orders"))
    assignment = zl.decode_topic(zp.topic_path("orders"), data)
    assert assignment.partitions == {0: [1], 1: [1]} and assignment.topic_id == uuid_to_base64(topic.topic_id)
    assert b'"version":3' in data
    assert registry.topic_config("orders") == {"retention.ms": "1000"}
    assert cluster.topic_by_id(topic.topic_id) is topic


def test_snapshot_carries_states_brokers_and_controller(registry: ClusterRegistry) -> None:
    writer = ZkCluster(registry, 1, "cid")
    writer.create_topic("t", [[1]], {})
    controller = ZkController(registry, 1)
    assert controller.elect()
    fired: list[WatchEvent] = []
    snap = read_snapshot(registry, fired.append)
    assert snap.topics["t"].states == [None]  # the controller has not written it yet
    controller.reconcile()
    assert fired, "the watch armed on the missing state znode must fire when it is created"
    snap = read_snapshot(registry)
    assert snap.controller_id == 1 and list(snap.brokers) == [1]
    assert snap.topics["t"].states == [PartitionState(1, 0, [1], [1])]

    reader = ZkCluster(registry, 2, "cid")
    new, removed = reader.adopt(snap)
    assert [t.name for t in new] == ["t"] and removed == []
    assert reader.controller_id == 1 and reader.nodes() == [(1, "h1", 9001, None)]
    writer.add_partitions("t", [[1]])
    new, _ = reader.adopt(read_snapshot(registry))
    assert new == [] and len(reader.topics["t"].partitions) == 2


def test_topic_marked_for_deletion_disappears_from_the_cache(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    cluster.create_topic("t", [[1]], {})
    other = ZkCluster(registry, 2, "cid")
    other.adopt(read_snapshot(registry))
    cluster.delete_topic("t")
    assert "t" not in cluster.topics
    _, removed = other.adopt(read_snapshot(registry))
    assert [t.name for t in removed] == ["t"] and "t" not in other.topics


def test_bad_znode_is_reported_not_fatal(registry: ClusterRegistry) -> None:
    registry.store.create(zp.topic_path("bad"), b"{not json", make_parents=True)
    ZkCluster(registry, 1, "cid").create_topic("good", [[1]], {})
    snap = read_snapshot(registry)
    assert list(snap.topics) == ["good"]
    assert any("bad" in p for p in snap.problems)


def test_config_changes_are_reported_once(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    cluster.create_topic("t", [[1]], {})
    reader = ZkCluster(registry, 2, "cid")
    reader.adopt(read_snapshot(registry))
    assert reader.reconfigured == []
    cluster.set_topic_configs("t", {"retention.ms": "5"})
    reader.adopt(read_snapshot(registry))
    assert [t.name for t in reader.reconfigured] == ["t"] and reader.topics["t"].configs == {"retention.ms": "5"}
    reader.adopt(read_snapshot(registry))
    assert reader.reconfigured == []


def test_bad_broker_registration_hides_only_itself(registry: ClusterRegistry) -> None:
    registry.store.create(zp.broker_path(9), b"{\"version\":5}", ephemeral=True)
    snap = read_snapshot(registry)
    assert list(snap.brokers) == [1]
    assert any("/brokers/ids/9" in p for p in snap.problems)


def test_a_topic_whose_znode_turns_bad_is_kept_not_deleted(registry: ClusterRegistry) -> None:
    ZkCluster(registry, 1, "cid").create_topic("t", [[1]], {"retention.ms": "5"})
    reader = ZkCluster(registry, 1, "cid")
    reader.adopt(read_snapshot(registry))
    registry.store.set(zp.topic_path("t"), b"garbage")
    snap = read_snapshot(registry)
    assert snap.unreadable == {"t"} and any(zp.topic_path("t") in p for p in snap.problems)
    new, removed = reader.adopt(snap)
    assert (new, removed) == ([], []) and "t" in reader.topics  # a bad znode is not a deletion


def test_bad_topic_config_keeps_the_cached_configs(registry: ClusterRegistry) -> None:
    ZkCluster(registry, 1, "cid").create_topic("t", [[1]], {"cleanup.policy": "compact"})
    reader = ZkCluster(registry, 1, "cid")
    reader.adopt(read_snapshot(registry))
    registry.store.set(zp.topic_config_path("t"), b"[1,2")
    snap = read_snapshot(registry)
    assert snap.topics["t"].configs is None and any(zp.topic_config_path("t") in p for p in snap.problems)
    reader.adopt(snap)
    assert reader.topics["t"].configs == {"cleanup.policy": "compact"} and reader.reconfigured == []


def test_bad_partition_state_hides_only_that_partition(registry: ClusterRegistry) -> None:
    ZkCluster(registry, 1, "cid").create_topic("t", [[1], [1]], {})
    controller = ZkController(registry, 1)
    assert controller.elect()
    controller.reconcile()
    registry.store.set(zp.partition_state_path("t", 0), b"{}")
    snap = read_snapshot(registry)
    assert snap.topics["t"].states[0] is None and snap.topics["t"].states[1] is not None
    assert any(zp.partition_state_path("t", 0) in p for p in snap.problems)


def test_controller_zero_is_not_no_controller(registry: ClusterRegistry) -> None:
    registry.register_broker(zl.BrokerRegistration(0, (zl.Endpoint("PLAINTEXT", "h0", 9000, "PLAINTEXT"),), 1))
    assert ZkController(registry, 0).elect()
    assert read_snapshot(registry).controller_id == 0
