"""The classic group coordinator on its in-memory store: state transitions, KIP-394, static members,
generations, session expiry and offset-commit rules.  No sockets: an event loop and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kafkatools import errors
from kafkatools.broker.groups.coordinator import GroupCoordinator, MemoryStore
from kafkatools.broker.groups.membership import JoinRequest, JoinResult
from kafkatools.broker.groups.states import GroupState

E = errors.BY_NAME
S = GroupState
T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock | None = None) -> tuple[GroupCoordinator, MemoryStore]:
    store = MemoryStore()
    return GroupCoordinator(store, initial_delay_ms=0, clock=clock or Clock()), store


def req(member_id: str = "", *, group: str = "g", instance: str | None = None, session: int = 10000,
        protocols: list[tuple[str, bytes]] | None = None, kip394: bool = True) -> JoinRequest:
    return JoinRequest(group, member_id, instance, "consumer", protocols or [("range", b"m")], session, 5000,
                       "client", "/127.0.0.1", kip394)


def run(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(body())  # type: ignore[arg-type]


async def join_new(c: GroupCoordinator, **kw: object) -> JoinResult:
    first = await c.membership.join(req(**kw))  # type: ignore[arg-type]
    assert first.error is E["MEMBER_ID_REQUIRED"] and first.member_id
    return await c.membership.join(req(first.member_id, **kw))  # type: ignore[arg-type]


def test_kip394_first_join_gets_member_id_then_group_completes_rebalance() -> None:
    async def body() -> None:
        c, store = make()
        joined = await join_new(c)
        g = c.groups["g"]
        assert joined.error is errors.NONE and joined.generation == 1 and joined.leader == joined.member_id
        assert g.state is S.COMPLETING_REBALANCE and joined.members[0][0] == joined.member_id
        synced = await c.membership.sync("g", 1, joined.member_id, None, "consumer", "range",
                                         {joined.member_id: b"assignment"})
        assert synced.error is errors.NONE and synced.assignment == b"assignment" and g.state is S.STABLE
        # the assignment is stored (and replicated) before the group turns Stable, as Kafka's storeGroup
        assert ("group", ("g", 1, "CompletingRebalance")) in store.writes
    run(body)


def test_join_validation_errors() -> None:
    async def body() -> None:
        c, _ = make()
        assert (await c.membership.join(req(group=""))).error is E["INVALID_GROUP_ID"]
        assert (await c.membership.join(req(session=10))).error is E["INVALID_SESSION_TIMEOUT"]
        assert (await c.membership.join(req("ghost"))).error is E["UNKNOWN_MEMBER_ID"]
        a = await join_new(c)
        other = await c.membership.join(JoinRequest("g", "", None, "connect", [("x", b"")], 10000, 5000, "c", "/h",
                                                    False))
        assert other.error is E["INCONSISTENT_GROUP_PROTOCOL"]
        bad_sync = await c.membership.sync("g", a.generation, a.member_id, None, "consumer", "roundrobin", {})
        assert bad_sync.error is E["INCONSISTENT_GROUP_PROTOCOL"]
    run(body)


def test_second_member_bumps_generation_and_stale_generation_is_rejected() -> None:
    async def body() -> None:
        c, _ = make()
        a = await join_new(c)
        await c.membership.sync("g", 1, a.member_id, None, None, None, {a.member_id: b""})
        first_b = await c.membership.join(req())
        b_task = asyncio.create_task(c.membership.join(req(first_b.member_id)))
        await asyncio.sleep(0)
        assert c.groups["g"].state is S.PREPARING_REBALANCE
        assert c.membership.heartbeat("g", 1, a.member_id, None) is E["REBALANCE_IN_PROGRESS"]
        a2 = await c.membership.join(req(a.member_id))
        b = await b_task
        assert a2.generation == b.generation == 2
        assert c.membership.heartbeat("g", 1, a.member_id, None) is E["ILLEGAL_GENERATION"]
        commit = await c.commit_offsets("g", 1, a.member_id, None, [("t", 0, 5, -1, "")])
        assert commit[("t", 0)] is E["REBALANCE_IN_PROGRESS"]  # CompletingRebalance
        await asyncio.gather(c.membership.sync("g", 2, a.member_id, None, None, None, {}),
                             c.membership.sync("g", 2, b.member_id, None, None, None, {}))
        assert (await c.commit_offsets("g", 1, a.member_id, None, [("t", 0, 5, -1, "")]))[("t", 0)] is \
            E["ILLEGAL_GENERATION"]
        assert (await c.commit_offsets("g", 2, "nobody", None, [("t", 0, 5, -1, "")]))[("t", 0)] is \
            E["UNKNOWN_MEMBER_ID"]
        assert (await c.commit_offsets("g", 2, a.member_id, None, [("t", 0, 5, -1, "x" * 5000)]))[("t", 0)] is \
            E["OFFSET_METADATA_TOO_LARGE"]
        assert (await c.commit_offsets("g", 2, a.member_id, None, [("t", 0, 5, -1, "")]))[("t", 0)] is errors.NONE
        assert c.fetch_offsets("g", [("t", 0)])[("t", 0)].offset == 5  # type: ignore[union-attr]
    run(body)


def test_leave_and_session_expiry_rebalance_to_empty() -> None:
    async def body() -> None:
        clock = Clock()
        c, _ = make(clock)
        a = await join_new(c, session=6000)
        await c.membership.sync("g", 1, a.member_id, None, None, None, {})
        top, per = c.membership.leave("g", [(a.member_id, None), ("ghost", None)])
        assert top is errors.NONE and per == [errors.NONE, E["UNKNOWN_MEMBER_ID"]]
        assert c.groups["g"].state is S.EMPTY and c.groups["g"].generation == 2
        b = await join_new(c, session=6000)
        await c.membership.sync("g", b.generation, b.member_id, None, None, None, {})
        clock.now += 5
        assert c.membership.expire_members() == 0
        clock.now += 2
        assert c.membership.expire_members() == 1
        assert c.groups["g"].state is S.EMPTY and not c.groups["g"].members
        assert c.membership.heartbeat("g", b.generation, b.member_id, None) is E["UNKNOWN_MEMBER_ID"]
    run(body)


def test_static_member_rejoin_fences_the_old_member_id_without_rebalance() -> None:
    async def body() -> None:
        c, _ = make()
        a = await c.membership.join(req(instance="i-1"))
        assert a.error is errors.NONE  # static members skip KIP-394
        await c.membership.sync("g", 1, a.member_id, "i-1", None, None, {a.member_id: b"parts"})
        again = await c.membership.join(req(instance="i-1"))
        assert again.error is errors.NONE and again.member_id != a.member_id and again.generation == 1
        assert c.groups["g"].state is S.STABLE
        assert c.membership.heartbeat("g", 1, a.member_id, "i-1") is E["FENCED_INSTANCE_ID"]
        synced = await c.membership.sync("g", 1, again.member_id, "i-1", None, None, {})
        assert synced.assignment == b"parts"
    run(body)


def test_simple_commits_delete_and_list() -> None:
    async def body() -> None:
        c, store = make()
        assert (await c.commit_offsets("", -1, "", None, [("t", 0, 1, -1, "")]))[("t", 0)] is E["INVALID_GROUP_ID"]
        assert (await c.commit_offsets("admin", 3, "", None, [("t", 0, 1, -1, "")]))[("t", 0)] is \
            E["ILLEGAL_GENERATION"]
        assert (await c.commit_offsets("admin", -1, "", None, [("t", 0, 7, -1, "")]))[("t", 0)] is errors.NONE
        assert [g.group_id for g in c.list_groups({"empty"})] == ["admin"]
        assert c.list_groups({"stable"}) == []
        top, per = c.delete_offsets("admin", [("t", 0)])
        assert top is errors.NONE and per[("t", 0)] is errors.NONE and c.fetch_offsets("admin", None) == {}
        assert c.delete_groups(["admin", "none"]) == {"admin": errors.NONE, "none": E["GROUP_ID_NOT_FOUND"]}
        assert ("delete_group", ("admin", [])) in store.writes and "admin" not in c.groups
    run(body)


def test_non_empty_group_cannot_be_deleted() -> None:
    async def body() -> None:
        c, _ = make()
        a = await join_new(c)
        await c.membership.sync("g", 1, a.member_id, None, None, None, {})
        assert c.delete_groups(["g"]) == {"g": E["NON_EMPTY_GROUP"]}
    run(body)
