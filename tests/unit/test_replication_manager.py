"""ReplicaManager on the leader side with real logs and a fake clock (no sockets: no follower role here)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kafkatools import errors
from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.config import load_config
from kafkatools.broker.partition import Partition
from kafkatools.broker.replication.delayed_produce import PendingAck, await_acks
from kafkatools.broker.replication.manager import ReplicaManager
from kafkatools.broker.replication.roles import AcceptingIsrChannel
from kafkatools.storage.config import LogConfig
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition
from kafkatools.wire.records import build_batch


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        return self.now


def batch(n: int) -> bytes:
    return build_batch([(None, b"v%d" % i) for i in range(n)])


def setup(tmp_path: Path, min_isr: int = 1) -> tuple[ReplicaManager, Partition, Clock, AcceptingIsrChannel]:
    config = LogConfig(min_insync_replicas=min_isr)
    plog = PartitionLog(str(tmp_path / "t-0"), TopicPartition("t", 0), config)
    part = Partition("t", 0, plog, PartitionState(1, 0, [1, 2, 3], [1, 2, 3]), config)
    clock = Clock()
    channel = AcceptingIsrChannel()
    mgr = ReplicaManager(1, {("t", 0): part}, load_config({"replica.lag.time.max.ms": "10000"}),
                         isr_channel=channel, clock=clock)
    return mgr, part, clock, channel


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_leader_hw_follows_slowest_isr_member(tmp_path: Path) -> None:
    mgr, part, _, _ = setup(tmp_path)
    assert mgr.apply("t", 0, PartitionState(1, 1, [1, 2, 3], [1, 2, 3])) is None
    assert part.is_leader and part.log.leader_epoch_cache.latest_epoch == 1
    part.append_from_client(batch(3), acks=-1, legacy=False)
    assert part.high_watermark == 0
    assert mgr.on_follower_fetch(part, 2, 3) is None
    assert part.high_watermark == 0  # follower 3 has not fetched yet
    assert mgr.on_follower_fetch(part, 3, 2) is None
    assert part.high_watermark == 2
    mgr.on_follower_fetch(part, 3, 3)
    assert part.high_watermark == 3
    assert mgr.on_follower_fetch(part, 7, 3) is errors.NOT_LEADER_OR_FOLLOWER


def test_isr_shrinks_after_lag_and_rejoins(tmp_path: Path) -> None:
    async def go() -> None:
        mgr, part, clock, channel = setup(tmp_path)
        mgr.apply("t", 0, PartitionState(1, 1, [1, 2, 3], [1, 2, 3]))
        part.append_from_client(batch(2), acks=1, legacy=False)
        mgr.on_follower_fetch(part, 2, 2)
        mgr.on_follower_fetch(part, 3, 0)
        clock.now += 10_001
        mgr.on_follower_fetch(part, 2, 2)
        mgr.check_isr()
        await settle()
        assert part.state.isr == [1, 2]
        assert channel.changes[-1][2].isr == [1, 2] and channel.changes[-1][2].leader_epoch == 1
        assert part.high_watermark == 2  # no longer held back by follower 3
        mgr.on_follower_fetch(part, 3, 2)
        await settle()
        assert part.state.isr == [1, 2, 3]
    asyncio.run(go())


def test_stale_epoch_is_fenced_and_follower_role_refuses(tmp_path: Path) -> None:
    mgr, part, _, _ = setup(tmp_path)
    mgr.apply("t", 0, PartitionState(1, 2, [1, 2, 3], [1, 2, 3]))
    assert mgr.apply("t", 0, PartitionState(2, 1, [1, 2, 3], [1, 2, 3])) is errors.FENCED_LEADER_EPOCH
    assert mgr.apply("t", 0, PartitionState(2, 2, [1, 2, 3], [1, 2, 3])) is errors.FENCED_LEADER_EPOCH
    assert part.is_leader
    mgr.stop_replica("t", 0)
    assert not part.is_leader and part.on_leader_append is None


@pytest.mark.parametrize(("scenario", "expected"), [
    ("followers_fetch", None),
    ("followers_die", errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND),  # ISR shrinks to the leader: HW moves, ISR < 2
    ("nothing_happens", errors.REQUEST_TIMED_OUT),
])
def test_delayed_produce_outcomes(tmp_path: Path, scenario: str, expected: errors.ErrorCode | None) -> None:
    async def go() -> None:
        mgr, part, clock, _ = setup(tmp_path, min_isr=2)
        mgr.apply("t", 0, PartitionState(1, 1, [1, 2, 3], [1, 2, 3]))
        result = part.append_from_client(batch(4), acks=-1, legacy=False)
        pending = PendingAck(part, result.last_offset + 1, part.leader_epoch)

        async def followers() -> None:
            await asyncio.sleep(0.01)
            if scenario == "followers_fetch":
                mgr.on_follower_fetch(part, 2, 4)
                mgr.on_follower_fetch(part, 3, 4)
            elif scenario == "followers_die":
                clock.now += 10_001
                mgr.check_isr()

        async def wait(parts: list[Partition], timeout: float) -> None:
            await asyncio.wait([p.waiter() for p in parts], timeout=timeout)

        task = asyncio.create_task(followers())
        await await_acks([pending], 0.3, wait)
        await task
        assert pending.done and pending.error is expected
        if scenario == "followers_die":
            assert part.state.isr == [1] and part.high_watermark == 4
    asyncio.run(go())


def test_delayed_produce_answers_not_leader_after_role_change(tmp_path: Path) -> None:
    async def go() -> None:
        mgr, part, _, _ = setup(tmp_path)
        mgr.apply("t", 0, PartitionState(1, 1, [1, 2, 3], [1, 2, 3]))
        result = part.append_from_client(batch(1), acks=-1, legacy=False)
        pending = PendingAck(part, result.last_offset + 1, part.leader_epoch)

        async def wait(parts: list[Partition], timeout: float) -> None:
            await asyncio.wait([p.waiter() for p in parts], timeout=timeout)

        async def demote() -> None:
            await asyncio.sleep(0.01)
            mgr.apply("t", 0, PartitionState(2, 2, [1, 2, 3], [2, 3]))  # no broker 2 address: fetcher just waits

        task = asyncio.create_task(demote())
        await await_acks([pending], 5.0, wait)
        await task
        assert pending.error is errors.NOT_LEADER_OR_FOLLOWER
        assert not part.is_leader
        await mgr.close()
    asyncio.run(go())


def test_single_replica_leader_commits_on_append(tmp_path: Path) -> None:
    mgr, part, _, _ = setup(tmp_path)
    mgr.apply("t", 0, PartitionState(1, 1, [1], [1]))
    part.append_from_client(batch(2), acks=-1, legacy=False)
    assert part.on_leader_append is None and part.high_watermark == 2
