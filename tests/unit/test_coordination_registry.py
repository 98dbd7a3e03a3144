"""ClusterRegistry (broker registration, controller election, topics, partition state, producer ids).

``RegistryContract`` runs here on the in-memory twin and in tests/integration/test_zookeeper_store.py
on real ZooKeeper; every test works in its own chroot.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest

from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.errors import BadVersionError, CoordinationError
from kafkatools.coordination.store import ZkStore
from kafkatools.errors import KafkaError
from tests.unit.test_coordination_contract import Harness, MemoryHarness, Recorder


def broker(broker_id: int, port: int = 9092) -> zl.BrokerRegistration:
    return zl.BrokerRegistration(broker_id, (zl.Endpoint("PLAINTEXT", "localhost", port, "PLAINTEXT"),), 1729500000000)


class RegistryContract:
    @pytest.fixture()
    def chroot(self) -> str:
        return f"/registry-{uuid.uuid4().hex[:12]}"

    @pytest.fixture()
    def sessions(self, harness: Harness, chroot: str) -> Iterator[list[ZkStore]]:
        opened: list[ZkStore] = []
        yield opened
        for s in opened:
            s.close()

    def open(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> ClusterRegistry:
        store = harness.connect(chroot)
        sessions.append(store)
        return ClusterRegistry(store, clock_ms=lambda: 1729500000000, rng=random.Random(len(sessions)))

    def test_cluster_id_first_broker_wins(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> None:
        a, b = self.open(harness, chroot, sessions), self.open(harness, chroot, sessions)
        a.ensure_persistent_paths()
        first = a.get_or_create_cluster_id()
        assert len(first) == 22 and b.get_or_create_cluster_id() == first
        assert a.store.get("/cluster/id")[0] == zl.encode_cluster_id(first)
        assert a.store.children("/config") == ["brokers", "changes", "clients", "ips", "topics", "users"]

    def test_broker_registration_and_epoch(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> None:
        a, b = self.open(harness, chroot, sessions), self.open(harness, chroot, sessions)
        a.ensure_persistent_paths()
        epoch_1 = a.register_broker(broker(1))
        assert a.register_broker(broker(1)) == epoch_1  # our own live registration: same epoch
        with pytest.raises(CoordinationError, match="node already exists and owner"):
            b.register_broker(broker(1, 9093))
        epoch_2 = b.register_broker(broker(2, 9093))
        assert epoch_2 > epoch_1
        live = a.live_brokers()
        assert list(live) == [1, 2] and live[2] == (broker(2, 9093), epoch_2)
        assert a.store.get("/brokers/ids/1")[0] == zl.encode_broker(broker(1))
        gone = Recorder()
        a.live_brokers(watch=gone)
        b.store.close()
        assert gone.wait(1)
        assert list(a.live_brokers()) == [1]

    def test_controller_election(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> None:
        a, b = self.open(harness, chroot, sessions), self.open(harness, chroot, sessions)
        assert a.controller_id() is None and a.controller_epoch() is None
        claim = a.try_become_controller(1)
        assert claim is not None and claim.epoch == 1
        assert b.try_become_controller(2) is None
        assert b.controller_id() == 1 and b.controller_epoch() == (1, claim.epoch_zk_version)
        assert b.store.get("/controller_epoch")[0] == b"1"
        moved = Recorder()
        assert b.controller_id(watch=moved) == 1
        a.resign(claim)
        assert moved.wait(1)
        second = b.try_become_controller(2)
        assert second is not None and second.epoch == 2 and b.controller_id() == 2
        a.resign(claim)  # not ours any more: untouched
        assert b.controller_id() == 2

    def test_topics_and_partition_state(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> None:
        reg = self.open(harness, chroot, sessions)
        reg.ensure_persistent_paths()
        topic_id = reg.create_topic("orders", {0: [1, 2], 1: [2, 1]}, {"retention.ms": "1000"})
        assert reg.topics() == ["orders"]
        assert reg.topic_assignment("orders") == zl.TopicAssignment({0: [1, 2], 1: [2, 1]}, topic_id)
        assert reg.topic_config("orders") == {"retention.ms": "1000"}
        assert reg.store.get("/config/topics/orders")[1].czxid < reg.store.get("/brokers/topics/orders")[1].czxid
        with pytest.raises(KafkaError, match=r"Topic 'orders' already exists\."):
            reg.create_topic("orders", {0: [1]})
        reg.create_topic("a.b", {0: [1]})
        with pytest.raises(KafkaError, match=r"collides with existing topics: a\.b"):
            reg.create_topic("a_b", {0: [1]})
        reg.mark_topic_for_deletion("gone")
        with pytest.raises(KafkaError, match="marked for deletion"):
            reg.create_topic("gone", {0: [1]})
        claim = reg.try_become_controller(1)
        assert claim is not None
        state = zl.PartitionState(1, 0, [1, 2], claim.epoch)
        assert reg.partition_state("orders", 0) is None
        reg.create_partition_state("orders", 0, state, claim.epoch_zk_version)
        assert reg.partition_state("orders", 0) == (state, 0)
        shrunk = zl.PartitionState(1, 0, [1], claim.epoch)
        assert reg.update_partition_state("orders", 0, shrunk, 0) == 1
        with pytest.raises(BadVersionError):
            reg.update_partition_state("orders", 0, state, 0)
        with pytest.raises(BadVersionError):  # fenced: a stale controller epoch version
            reg.create_partition_state("orders", 1, state, claim.epoch_zk_version + 5)
        reg.set_topic_config("orders", {"cleanup.policy": "compact"})
        assert reg.store.children("/config/changes") == ["config_change_0000000000"]
        assert reg.store.get("/config/changes/config_change_0000000000")[0] == (
            b'{"version":2,"entity_path":"topics/orders"}'
        )

    def test_producer_id_blocks(self, harness: Harness, chroot: str, sessions: list[ZkStore]) -> None:
        a, b = self.open(harness, chroot, sessions), self.open(harness, chroot, sessions)
        a.ensure_persistent_paths()
        assert (a.claim_producer_id_block(1).block_start, a.claim_producer_id_block(1).block_start) == (0, 1000)
        block = b.claim_producer_id_block(2)
        assert (block.broker_id, block.block_start, block.block_end) == (2, 2000, 2999)
        assert a.store.get("/latest_producer_id_block")[0] == (
            b'{"version":1,"broker":2,"block_start":"2000","block_end":"2999"}'
        )


class TestMemoryRegistry(RegistryContract):
    @pytest.fixture()
    def harness(self) -> MemoryHarness:
        return MemoryHarness()
