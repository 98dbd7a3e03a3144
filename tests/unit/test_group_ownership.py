"""The coordinator follows __consumer_offsets leadership: load on becoming leader, drop on losing it,
NOT_COORDINATOR for groups led elsewhere, and writes that count only once replicated.

In-process fakes: the offsets "logs" are lists of the batches ``OffsetsTopicStore`` produced, and a
write's replication is an asyncio future the test resolves.  No sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kafkatools import errors
from kafkatools.broker.groups.coordinator import GroupCoordinator, partition_for
from kafkatools.broker.groups.membership import JoinRequest
from kafkatools.broker.groups.ownership import Ownership
from kafkatools.broker.groups.states import GroupState
from kafkatools.broker.groups.store import OffsetsTopicStore

E = errors.BY_NAME
T = TypeVar("T")
PARTITIONS = 3


def run(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(body())  # type: ignore[arg-type]


class Replication:
    """A write that becomes durable when the test says so (or fails with the error it names)."""

    def __init__(self) -> None:
        self.fut: asyncio.Future[errors.ErrorCode | None] = asyncio.get_running_loop().create_future()

    async def wait(self) -> errors.ErrorCode | None:
        return await self.fut


class FakeOffsetsTopic:
    """Partition logs as lists of batches; ``leading`` is the set of partitions this broker leads."""

    def __init__(self, leading: set[int]) -> None:
        self.logs: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        self.leading = leading
        self.reads: list[int] = []
        self.replicate_later = False
        self.pending: list[Replication] = []

    def append(self, partition: int, batch: bytes) -> Replication | None:
        if partition not in self.leading:
            raise errors.KafkaError(errors.NOT_COORDINATOR, "not the leader")
        self.logs[partition].append(batch)
        if not self.replicate_later:
            return None
        write = Replication()
        self.pending.append(write)
        return write

    def read(self, partition: int) -> list[bytes]:
        self.reads.append(partition)
        return list(self.logs[partition])


def make(leading: set[int], topic: FakeOffsetsTopic | None = None
         ) -> tuple[GroupCoordinator, Ownership, FakeOffsetsTopic]:
    """A coordinator on ``topic`` (a fresh one by default, leading ``leading``)."""
    if topic is None:
        topic = FakeOffsetsTopic(leading)
    topic.leading = leading
    coordinator = GroupCoordinator(OffsetsTopicStore(lambda: PARTITIONS, topic.append), initial_delay_ms=0)
    ownership = Ownership(coordinator, lambda: PARTITIONS, lambda p: p in topic.leading, topic.read)
    return coordinator, ownership, topic


def groups_on(partition: int, count: int) -> list[str]:
    """``count`` group ids whose offsets partition is ``partition``."""
    found = [f"group-{i}" for i in range(200) if partition_for(f"group-{i}", PARTITIONS) == partition]
    assert len(found) >= count, "not enough group ids hash to the partition"
    return found[:count]


def join_req(group: str, member_id: str = "") -> JoinRequest:
    return JoinRequest(group, member_id, None, "consumer", [("range", b"m")], 10000, 5000, "client",
                       "/127.0.0.1", True)


def test_groups_load_when_leadership_arrives_and_go_when_it_leaves() -> None:
    async def body() -> None:
        a0, b0 = groups_on(0, 2)
        (a1,) = groups_on(1, 1)
        # the old leader (this broker earlier, or another one: the log is what counts) wrote the commits
        writer, writer_ownership, topic = make({0, 1, 2})
        writer_ownership.refresh()
        for gid, offset in ((a0, 5), (b0, 7), (a1, 9)):
            assert await writer.commit_offsets(gid, -1, "", None, [("t", 0, offset, -1, "")]) == {
                ("t", 0): errors.NONE}

        # this broker, until now a follower: the same log, no leadership
        coordinator, ownership, _ = make(set(), topic)
        assert coordinator.group_error(a0) is errors.NOT_COORDINATOR
        assert coordinator.groups == {}

        topic.leading.add(0)
        ownership.on_role_change(0, True)
        assert sorted(coordinator.groups) == sorted([a0, b0])  # only partition 0's groups
        assert coordinator.group_error(a0) is None
        assert coordinator.group_error(a1) is errors.NOT_COORDINATOR
        offset = coordinator.fetch_offsets(b0, [("t", 0)])[("t", 0)]
        assert offset is not None and offset.offset == 7
        assert coordinator.groups[a0].state is GroupState.EMPTY

        topic.leading.discard(0)
        ownership.on_role_change(0, False)
        assert coordinator.groups == {}
        assert coordinator.group_error(a0) is errors.NOT_COORDINATOR
        assert coordinator.list_groups() == []
    run(body)


def test_a_partition_is_replayed_once_per_leadership() -> None:
    async def body() -> None:
        (gid,) = groups_on(2, 1)
        coordinator, ownership, topic = make({2})
        ownership.on_role_change(2, True)
        ownership.on_role_change(2, True)  # same leader, new epoch or ISR change: nothing to reload
        assert coordinator.group_error(gid) is None
        ownership.refresh()
        assert topic.reads == [2]
        ownership.on_role_change(2, False)
        ownership.on_role_change(2, True)
        assert topic.reads == [2, 2]
    run(body)


def test_a_led_partition_never_announced_is_loaded_on_first_use() -> None:
    async def body() -> None:
        (gid,) = groups_on(1, 1)
        coordinator, ownership, topic = make({1})
        assert ownership.loaded == set()
        assert coordinator.group_error(gid) is None
        assert ownership.loaded == {1} and topic.reads == [1]
        # listing brings every led partition in, and only those
        assert coordinator.list_groups() == []
        assert sorted(topic.reads) == [1]
    run(body)


async def join_new(coordinator: GroupCoordinator, gid: str) -> asyncio.Future[object]:
    """KIP-394 first round, then the real join (left running: it may park)."""
    first = await coordinator.membership.join(join_req(gid))
    assert first.error is E["MEMBER_ID_REQUIRED"]
    fut = asyncio.ensure_future(coordinator.membership.join(join_req(gid, first.member_id)))
    await asyncio.sleep(0.01)
    return fut


def test_unloading_tells_waiting_members_not_coordinator() -> None:
    async def body() -> None:
        (gid,) = groups_on(0, 1)
        coordinator, ownership, topic = make({0})
        assert coordinator.group_error(gid) is None
        a = await join_new(coordinator, gid)
        assert a.done() and a.result().error is errors.NONE  # type: ignore[attr-defined]
        b = await join_new(coordinator, gid)  # parks: the group waits for the first member to rejoin
        assert not b.done() and coordinator.groups[gid].state is GroupState.PREPARING_REBALANCE
        group = coordinator.groups[gid]

        topic.leading.discard(0)
        ownership.on_role_change(0, False)
        assert (await b).error is errors.NOT_COORDINATOR  # type: ignore[attr-defined]
        assert group.state is GroupState.DEAD and gid not in coordinator.groups
        assert group.rebalance_timer is None
        assert coordinator.group_error(gid) is errors.NOT_COORDINATOR
    run(body)


def test_the_assignment_is_answered_only_once_replicated() -> None:
    async def body() -> None:
        (gid,) = groups_on(1, 1)
        coordinator, _, topic = make({1})
        joined = (await join_new(coordinator, gid)).result()
        topic.replicate_later = True
        sync = asyncio.ensure_future(coordinator.membership.sync(
            gid, 1, joined.member_id, None, None, None, {joined.member_id: b"parts"}))  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
        assert not sync.done() and coordinator.groups[gid].state is GroupState.COMPLETING_REBALANCE
        assert len(topic.pending) == 1 and len(topic.logs[1]) == 1  # appended, waiting for the ISR
        topic.pending[0].fut.set_result(None)
        result = await sync
        assert result.error is errors.NONE and result.assignment == b"parts"
        assert coordinator.groups[gid].state is GroupState.STABLE
    run(body)


def test_an_assignment_that_cannot_be_replicated_makes_the_group_rebalance() -> None:
    async def body() -> None:
        (gid,) = groups_on(1, 1)
        coordinator, _, topic = make({1})
        joined = (await join_new(coordinator, gid)).result()
        topic.replicate_later = True
        sync = asyncio.ensure_future(coordinator.membership.sync(
            gid, 1, joined.member_id, None, None, None, {joined.member_id: b"parts"}))  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
        topic.pending[0].fut.set_result(errors.REQUEST_TIMED_OUT)
        assert (await sync).error is errors.COORDINATOR_NOT_AVAILABLE
        assert coordinator.groups[gid].state is GroupState.PREPARING_REBALANCE
        assert coordinator.groups[gid].members[joined.member_id].assignment == b""  # type: ignore[attr-defined]
    run(body)


def test_a_commit_counts_only_once_replicated() -> None:
    async def body() -> None:
        (gid,) = groups_on(2, 1)
        coordinator, _, topic = make({2})
        assert coordinator.group_error(gid) is None
        topic.replicate_later = True
        commit = asyncio.ensure_future(coordinator.commit_offsets(gid, -1, "", None, [("t", 0, 10, -1, "")]))
        await asyncio.sleep(0.01)
        assert not commit.done()
        assert coordinator.fetch_offsets(gid, [("t", 0)]) == {("t", 0): None}  # not visible before the ISR has it
        topic.pending[-1].fut.set_result(None)
        assert await commit == {("t", 0): errors.NONE}
        stored = coordinator.fetch_offsets(gid, [("t", 0)])[("t", 0)]
        assert stored is not None and stored.offset == 10

        for failure, answer in ((errors.REQUEST_TIMED_OUT, errors.REQUEST_TIMED_OUT),
                                (E["NOT_ENOUGH_REPLICAS_AFTER_APPEND"], errors.COORDINATOR_NOT_AVAILABLE),
                                (errors.NOT_LEADER_OR_FOLLOWER, errors.NOT_COORDINATOR)):
            commit = asyncio.ensure_future(coordinator.commit_offsets(gid, -1, "", None, [("t", 0, 99, -1, "")]))
            await asyncio.sleep(0.01)
            topic.pending[-1].fut.set_result(failure)
            assert await commit == {("t", 0): answer}
            kept = coordinator.fetch_offsets(gid, [("t", 0)])[("t", 0)]
            assert kept is not None and kept.offset == 10, f"a commit failing with {failure.name} changed offsets"
    run(body)


def test_a_commit_to_a_partition_lost_before_the_append_is_refused() -> None:
    async def body() -> None:
        (gid,) = groups_on(0, 1)
        coordinator, ownership, topic = make({0})
        assert coordinator.group_error(gid) is None
        topic.leading.discard(0)  # lost, and the role change has not arrived yet
        assert await coordinator.commit_offsets(gid, -1, "", None, [("t", 0, 1, -1, "")]) == {
            ("t", 0): errors.NOT_COORDINATOR}
        assert coordinator.group_error(gid) is errors.NOT_COORDINATOR  # the check itself notices and unloads
        assert ownership.loaded == set()
    run(body)
