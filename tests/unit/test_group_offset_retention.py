"""Offset retention (``offsets.retention.minutes``): only Empty groups lose offsets, and only old ones."""

from __future__ import annotations

import asyncio
import time

from kafkatools import errors
from kafkatools.broker.groups.coordinator import GroupCoordinator, MemoryStore
from kafkatools.broker.groups.group import Member
from kafkatools.broker.groups.states import GroupState

RETENTION_MS = 60_000


def _coordinator() -> tuple[GroupCoordinator, MemoryStore]:
    store = MemoryStore()
    return GroupCoordinator(store, offsets_retention_ms=RETENTION_MS), store


def test_old_offsets_of_empty_groups_expire_and_the_group_goes_away() -> None:
    coord, store = _coordinator()
    assert asyncio.run(coord.commit_offsets("g", -1, "", None, [("t", 0, 5, -1, ""), ("t", 1, 7, -1, "")])) == {
        ("t", 0): errors.NONE, ("t", 1): errors.NONE}
    now = int(time.time() * 1000)
    assert coord.expire_offsets(now + RETENTION_MS // 2) == 0  # not old enough
    assert coord.fetch_offsets("g", None).keys() == {("t", 0), ("t", 1)}
    assert coord.expire_offsets(now + RETENTION_MS + 5_000) == 2
    assert coord.fetch_offsets("g", None) == {}
    assert "g" not in coord.groups
    kinds = [kind for kind, _ in store.writes]
    assert kinds[-2:] == ["delete_offsets", "delete_group"]  # tombstones reach the offsets topic


def test_groups_with_members_keep_their_offsets() -> None:
    coord, _ = _coordinator()
    asyncio.run(coord.commit_offsets("active", -1, "", None, [("t", 0, 3, -1, "")]))
    group = coord.groups["active"]
    group.add(Member("m-1", None, "c", "/h", 10_000, 10_000, "consumer", [("range", b"")]))
    group.state = GroupState.STABLE
    assert coord.expire_offsets(int(time.time() * 1000) + 10 * RETENTION_MS) == 0
    assert coord.fetch_offsets("active", [("t", 0)])[("t", 0)] is not None
