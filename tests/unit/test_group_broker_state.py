"""BrokerState wires the coordinator to replication: a standalone broker loads its groups at start-up
exactly once, and ``ReplicaManager.apply`` moving leadership of an offsets partition away and back
unloads and reloads that partition's groups from the log on disk.  A real BrokerState on a tmp dir,
no listener, no sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.config import load_config
from kafkatools.broker.groups.coordinator import partition_for
from kafkatools.broker.groups.store import OFFSETS_TOPIC
from kafkatools.broker.state import BrokerState

GROUP = "billing"
PARTITIONS = 3


def open_state(tmp_path: Path) -> BrokerState:
    config = load_config({"log.dirs": str(tmp_path / "data"), "broker.id": "1",
                          "offsets.topic.num.partitions": str(PARTITIONS), "listeners": "PLAINTEXT://127.0.0.1:0"})
    return BrokerState.open(config)


def commit(state: BrokerState, offset: int) -> dict[tuple[str, int], errors.ErrorCode]:
    assert state.groups.group_error(GROUP) is None
    return asyncio.run(state.groups.commit_offsets(GROUP, -1, "", None, [("orders", 0, offset, -1, "")]))


def committed(state: BrokerState) -> int | None:
    found = state.groups.fetch_offsets(GROUP, [("orders", 0)])[("orders", 0)]
    return None if found is None else found.offset


def test_standalone_groups_survive_a_restart_and_load_once(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    state.create_topic("orders", [[1]], {})
    assert commit(state, 42) == {("orders", 0): errors.NONE}
    state.close()

    again = open_state(tmp_path)
    try:
        owner = partition_for(GROUP, PARTITIONS)
        assert again.group_ownership.loaded == set(range(PARTITIONS))  # every partition led: loaded at start-up
        assert committed(again) == 42
        reads: list[int] = []
        original = again.group_ownership.read
        again.group_ownership.read = lambda p: (reads.append(p), original(p))[1]  # type: ignore[assignment]
        assert again.groups.group_error(GROUP) is None and again.groups.list_groups()[0].group_id == GROUP
        assert reads == [], f"partition {owner} replayed again after start-up"
    finally:
        again.close()


def test_leadership_moves_unload_and_reload_the_group(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    try:
        state.create_topic("orders", [[1]], {})
        assert commit(state, 7) == {("orders", 0): errors.NONE}
        owner = partition_for(GROUP, PARTITIONS)
        part = state.partitions[(OFFSETS_TOPIC, owner)]
        epoch = part.leader_epoch

        # the controller makes broker 2 the leader: this broker follows, the group is gone from memory
        assert state.replicas.apply(OFFSETS_TOPIC, owner, PartitionState(2, epoch + 1, [1, 2], [1, 2])) is None
        assert not part.is_leader
        assert GROUP not in state.groups.groups
        assert state.groups.group_error(GROUP) is errors.NOT_COORDINATOR
        assert state.groups.list_groups() == []

        # leadership comes back: the group is replayed from the log, with its commit
        assert state.replicas.apply(OFFSETS_TOPIC, owner, PartitionState(1, epoch + 2, [1, 2], [1])) is None
        assert part.is_leader and GROUP in state.groups.groups
        assert committed(state) == 7
        assert state.groups.group_error(GROUP) is None
    finally:
        state.close()


def test_a_commit_waits_for_the_follower_to_replicate_it(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    try:
        state.create_topic("orders", [[1]], {})
        assert state.groups.group_error(GROUP) is None  # creates __consumer_offsets on first use
        owner = partition_for(GROUP, PARTITIONS)
        part = state.partitions[(OFFSETS_TOPIC, owner)]
        # RF 2 with both in the ISR: the HW moves only when broker 2 fetches past the commit
        assert state.replicas.apply(OFFSETS_TOPIC, owner, PartitionState(1, part.leader_epoch + 1, [1, 2],
                                                                         [1, 2])) is None

        async def body() -> None:
            assert state.groups.group_error(GROUP) is None
            pending = asyncio.ensure_future(state.groups.commit_offsets(GROUP, -1, "", None,
                                                                        [("orders", 0, 9, -1, "")]))
            await asyncio.sleep(0.05)
            assert not pending.done(), "the commit was answered before the ISR had it"
            assert committed(state) is None
            assert state.replicas.on_follower_fetch(part, 2, part.log_end_offset) is None  # follower caught up
            assert await asyncio.wait_for(pending, 5) == {("orders", 0): errors.NONE}
            assert committed(state) == 9
        asyncio.run(body())
    finally:
        state.close()


def test_offsets_topic_takes_its_segment_size_and_policy_from_the_broker_config(tmp_path: Path) -> None:
    config = load_config({"log.dirs": str(tmp_path / "data"), "broker.id": "1", "offsets.topic.num.partitions": "2",
                          "offsets.topic.segment.bytes": "2000000", "listeners": "PLAINTEXT://127.0.0.1:0"})
    state = BrokerState.open(config)
    try:
        assert state.ensure_offsets_topic()
        configs = state.cluster.topics[OFFSETS_TOPIC].configs
        assert configs["segment.bytes"] == "2000000" and configs["cleanup.policy"] == "compact"
    finally:
        state.close()
