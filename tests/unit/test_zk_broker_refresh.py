"""CreateTopics/CreatePartitions re-read /brokers/ids when the cached broker list is too short."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from kafkatools.broker.handlers.create_topics import refresh_brokers_if_short
from kafkatools.broker.zk.zk_cluster import ZkCluster, read_snapshot
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper


def _register(r: ClusterRegistry, broker_id: int) -> None:
    r.register_broker(zl.BrokerRegistration(
        broker_id, (zl.Endpoint("PLAINTEXT", f"h{broker_id}", 9000 + broker_id, "PLAINTEXT"),), 1))


@pytest.fixture()
def registry() -> Iterator[ClusterRegistry]:
    store: MemoryStore = MemoryZooKeeper().connect("/k")
    r = ClusterRegistry(store)
    r.ensure_persistent_paths()
    _register(r, 1)
    yield r
    store.close()


def _ctx(cluster: ZkCluster) -> Any:
    broker = SimpleNamespace(zk=SimpleNamespace(cluster=cluster),
                             live_brokers=lambda: [SimpleNamespace(node_id=n[0]) for n in cluster.nodes()])
    return SimpleNamespace(broker=broker)


def test_a_short_cache_is_refreshed_from_zookeeper(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    cluster.adopt(read_snapshot(registry))
    _register(registry, 2)
    _register(registry, 3)  # registered after the snapshot: the cache still says one broker
    assert [n[0] for n in cluster.nodes()] == [1]
    asyncio.run(refresh_brokers_if_short(_ctx(cluster), 3))
    assert [n[0] for n in cluster.nodes()] == [1, 2, 3]


def test_an_explicit_assignment_naming_an_uncached_broker_refreshes(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    cluster.adopt(read_snapshot(registry))
    _register(registry, 7)
    asyncio.run(refresh_brokers_if_short(_ctx(cluster), 0, {1, 7}))
    assert [n[0] for n in cluster.nodes()] == [1, 7]


def test_no_zookeeper_read_when_the_cache_suffices(registry: ClusterRegistry) -> None:
    cluster = ZkCluster(registry, 1, "cid")
    cluster.adopt(read_snapshot(registry))
    _register(registry, 2)
    asyncio.run(refresh_brokers_if_short(_ctx(cluster), 1))
    assert [n[0] for n in cluster.nodes()] == [1], "a satisfiable request must not pay for a ZooKeeper read"
