"""Every group API answers NOT_COORDINATOR for a group whose __consumer_offsets partition another
broker leads, in the place each response version has for it (checked by encoding and decoding the
answer at that version).  The handlers run on an in-memory broker: a coordinator with ``Ownership``
over fake offsets partitions.  No sockets."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.groups.coordinator import GroupCoordinator, MemoryStore, partition_for
from kafkatools.broker.groups.ownership import Ownership
from kafkatools.broker.handlers import (
    delete_groups,
    describe_groups,
    heartbeat,
    join_group,
    leave_group,
    list_groups,
    offset_commit,
    offset_delete,
    offset_fetch,
    sync_group,
)
from kafkatools.codec import RequestHeader, messages

NOT_COORDINATOR = errors.NOT_COORDINATOR.code
PARTITIONS = 3
LED = 0
MINE = next(f"g{i}" for i in range(100) if partition_for(f"g{i}", PARTITIONS) == LED)
ELSEWHERE = next(f"g{i}" for i in range(100) if partition_for(f"g{i}", PARTITIONS) != LED)


def broker() -> Any:
    coordinator = GroupCoordinator(MemoryStore(), initial_delay_ms=0)
    Ownership(coordinator, lambda: PARTITIONS, lambda p: p == LED, lambda p: [])
    return SimpleNamespace(groups=coordinator, ensure_offsets_topic=lambda: True)


def call(module: Any, request: Any, version: int, b: Any | None = None) -> Any:
    """Run the handler and return its answer as a client would read it at ``version``."""
    ctx = RequestContext(RequestHeader(module.API_KEY, version, 1, "client"), b or broker(), "127.0.0.1")
    response = asyncio.run(module.handle(ctx, request))
    return type(response).decode(response.encode(version), version)


def join(group: str) -> messages.JoinGroupRequest:
    return messages.JoinGroupRequest(group_id=group, session_timeout_ms=10000, rebalance_timeout_ms=5000,
                                     member_id="", protocol_type="consumer",
                                     protocols=[messages.JoinGroupRequest.JoinGroupRequestProtocol(name="range",
                                                                                                   metadata=b"")])


@pytest.mark.parametrize("version", [0, 4, 7, 9])
def test_join_group(version: int) -> None:
    assert call(join_group, join(ELSEWHERE), version).error_code == NOT_COORDINATOR
    assert call(join_group, join(""), version).error_code == errors.BY_NAME["INVALID_GROUP_ID"].code
    if version >= 4:  # the coordinator itself answers: KIP-394's first round
        assert call(join_group, join(MINE), version).error_code == errors.BY_NAME["MEMBER_ID_REQUIRED"].code


@pytest.mark.parametrize("version", [0, 3, 5])
def test_sync_group_and_heartbeat(version: int) -> None:
    sync = messages.SyncGroupRequest(group_id=ELSEWHERE, generation_id=1, member_id="m")
    assert call(sync_group, sync, version).error_code == NOT_COORDINATOR
    beat = messages.HeartbeatRequest(group_id=ELSEWHERE, generation_id=1, member_id="m")
    assert call(heartbeat, beat, min(version, 4)).error_code == NOT_COORDINATOR
    beat_mine = messages.HeartbeatRequest(group_id=MINE, generation_id=1, member_id="m")
    assert call(heartbeat, beat_mine, min(version, 4)).error_code == errors.BY_NAME["UNKNOWN_MEMBER_ID"].code


@pytest.mark.parametrize("version", [0, 2, 3, 5])
def test_leave_group_error_is_top_level(version: int) -> None:
    L = messages.LeaveGroupRequest
    req = L(group_id=ELSEWHERE, member_id="m", members=[L.MemberIdentity(member_id="m")])
    answer = call(leave_group, req, version)
    assert answer.error_code == NOT_COORDINATOR
    if version >= 3:
        assert answer.members == []


@pytest.mark.parametrize("version", [0, 2, 8, 9])
def test_offset_commit_error_in_every_partition(version: int) -> None:
    R = messages.OffsetCommitRequest
    req = R(group_id=ELSEWHERE, generation_id_or_member_epoch=-1, member_id="", topics=[
        R.OffsetCommitRequestTopic(name="t", partitions=[R.OffsetCommitRequestPartition(partition_index=p,
                                                                                        committed_offset=5)
                                                         for p in (0, 1)])])
    answer = call(offset_commit, req, version)
    assert [p.error_code for t in answer.topics for p in t.partitions] == [NOT_COORDINATOR] * 2


@pytest.mark.parametrize("version", [0, 1, 2, 7, 8])
def test_offset_fetch_error_where_the_version_keeps_it(version: int) -> None:
    F = messages.OffsetFetchRequest
    if version >= 8:
        req = F(groups=[F.OffsetFetchRequestGroup(group_id=ELSEWHERE, topics=None),
                        F.OffsetFetchRequestGroup(group_id=MINE, topics=None)])
        answer = call(offset_fetch, req, version)
        assert [(g.group_id, g.error_code) for g in answer.groups] == [(ELSEWHERE, NOT_COORDINATOR), (MINE, 0)]
        return
    req = F(group_id=ELSEWHERE, topics=[F.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])])
    answer = call(offset_fetch, req, version)
    if version >= 2:
        assert answer.error_code == NOT_COORDINATOR and answer.topics == []
    else:
        assert [(p.partition_index, p.error_code, p.committed_offset) for t in answer.topics
                for p in t.partitions] == [(0, NOT_COORDINATOR, -1), (1, NOT_COORDINATOR, -1)]


@pytest.mark.parametrize("version", [0, 5])
def test_describe_and_delete_groups_per_group(version: int) -> None:
    described = call(describe_groups, messages.DescribeGroupsRequest(groups=[ELSEWHERE, MINE]), version)
    assert [(g.group_id, g.error_code, g.group_state) for g in described.groups] == [
        (ELSEWHERE, NOT_COORDINATOR, ""), (MINE, 0, "Dead")]
    deleted = call(delete_groups, messages.DeleteGroupsRequest(groups_names=[ELSEWHERE, MINE]), min(version, 2))
    assert [(r.group_id, r.error_code) for r in deleted.results] == [
        (ELSEWHERE, NOT_COORDINATOR), (MINE, errors.BY_NAME["GROUP_ID_NOT_FOUND"].code)]


def test_offset_delete_top_level() -> None:
    D = messages.OffsetDeleteRequest
    req = D(group_id=ELSEWHERE, topics=[D.OffsetDeleteRequestTopic(name="t", partitions=[
        D.OffsetDeleteRequestPartition(partition_index=0)])])
    assert call(offset_delete, req, 0).error_code == NOT_COORDINATOR


def test_list_groups_shows_only_coordinated_groups() -> None:
    b = broker()

    async def commits() -> None:
        assert b.groups.group_error(MINE) is None  # loads the led partition
        for gid in (MINE, ELSEWHERE):
            b.groups.groups.pop(gid, None)
            await b.groups.commit_offsets(gid, -1, "", None, [("t", 0, 1, -1, "")])
    asyncio.run(commits())  # straight into the coordinator: ELSEWHERE is a stray the listing must not show
    listed = call(list_groups, messages.ListGroupsRequest(), 4, b)
    assert [g.group_id for g in listed.groups] == [MINE]
