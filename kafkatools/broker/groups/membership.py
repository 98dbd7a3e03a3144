"""Join, sync, heartbeat and leave: the rebalance protocol of Kafka's classic group coordinator.

A rebalance: the group enters PreparingRebalance; every member must (re)send JoinGroup within the
rebalance timeout (members that don't are removed); then the generation advances, a protocol is
chosen, everyone gets its JoinGroup answer (the leader with all members' metadata) and the group
waits in CompletingRebalance for the leader's SyncGroup, whose assignments are handed to every
member's SyncGroup answer.  Heartbeats keep members alive between rebalances (session timeout)
and tell them a rebalance is under way (REBALANCE_IN_PROGRESS).

Kafka behaviours kept: KIP-394 (JoinGroup v4+ with an empty member id gets MEMBER_ID_REQUIRED and
a fresh id first), the initial rebalance delay of an empty group (``group.initial.rebalance.delay.ms``,
extended while new members keep arriving, capped by the rebalance timeout), static members
(``group.instance.id``; a rejoin with a new member id fences the old one: FENCED_INSTANCE_ID), and a
leader that never sends SyncGroup makes the group rebalance again after the rebalance timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.groups.group import Group, Member
from kafkatools.broker.groups.states import GroupState

if TYPE_CHECKING:
    from kafkatools.broker.groups.coordinator import PendingWrite

E = errors.BY_NAME
S = GroupState
log = logging.getLogger("kafkatools.broker.groups")


# Kafka's mapping of a failed group-metadata append to the SyncGroup error (storeGroup).
_GROUP_WRITE_ERRORS = {
    "UNKNOWN_TOPIC_OR_PARTITION": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS": "COORDINATOR_NOT_AVAILABLE",
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND": "COORDINATOR_NOT_AVAILABLE",
    "REQUEST_TIMED_OUT": "COORDINATOR_NOT_AVAILABLE",
    "NOT_LEADER_OR_FOLLOWER": "NOT_COORDINATOR",
    "KAFKA_STORAGE_ERROR": "NOT_COORDINATOR",
}


@dataclass
class JoinResult:
    error: errors.ErrorCode
    member_id: str = ""
    generation: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    members: list[tuple[str, str | None, bytes]] = field(default_factory=list)


@dataclass
class SyncResult:
    error: errors.ErrorCode
    assignment: bytes = b""
    protocol_type: str | None = None
    protocol_name: str | None = None


@dataclass(frozen=True, slots=True)
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    session_timeout_ms: int
    rebalance_timeout_ms: int
    client_id: str
    client_host: str
    require_known_member_id: bool


class Membership:
    """Owns the groups' membership state; ``on_group_change`` persists group metadata."""

    def __init__(self, groups: dict[str, Group], *, min_session_ms: int, max_session_ms: int,
                 initial_delay_ms: int, on_group_change: Callable[[Group], PendingWrite | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.groups = groups
        self.min_session_ms = min_session_ms
        self.max_session_ms = max_session_ms
        self.initial_delay_ms = initial_delay_ms
        self._on_group_change = on_group_change
        self.clock = clock
        self._delayed: set[str] = set()  # groups inside their initial rebalance delay

    def on_group_change(self, group: Group) -> PendingWrite | None:
        """Persist group metadata; a failed write is logged, the in-memory group stays authoritative."""
        try:
            return self._on_group_change(group)
        except errors.KafkaError as e:
            log.warning("Could not store metadata of group %s: %s", group.group_id, e)
            return None

    def unload(self, group: Group) -> None:
        """This broker stopped coordinating ``group``: members waiting in Join/Sync get NOT_COORDINATOR."""
        self._cancel_timer(group)
        for m in group.members.values():
            waiter, m.join_waiter = m.join_waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(JoinResult(errors.NOT_COORDINATOR, m.member_id))
            waiter, m.sync_waiter = m.sync_waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(SyncResult(errors.NOT_COORDINATOR))
        group.transition(S.DEAD)

    # -- JoinGroup ----------------------------------------------------------------------------
    async def join(self, req: JoinRequest) -> JoinResult:
        if not req.group_id:
            return JoinResult(E["INVALID_GROUP_ID"], req.member_id)
        if not self.min_session_ms <= req.session_timeout_ms <= self.max_session_ms:
            return JoinResult(E["INVALID_SESSION_TIMEOUT"], req.member_id)
        group = self.groups.get(req.group_id)
        if group is None:
            if req.member_id:
                return JoinResult(E["UNKNOWN_MEMBER_ID"], req.member_id)
            group = self.groups[req.group_id] = Group(req.group_id)
        if group.in_state(S.DEAD):
            return JoinResult(E["COORDINATOR_NOT_AVAILABLE"], req.member_id)
        if not group.supports(req.protocol_type, req.protocols):
            return JoinResult(E["INCONSISTENT_GROUP_PROTOCOL"], req.member_id)
        if not req.member_id:
            return await self._join_unknown(group, req)
        return await self._join_known(group, req)

    def _new_member(self, req: JoinRequest, member_id: str) -> Member:
        return Member(member_id, req.group_instance_id, req.client_id, req.client_host, req.session_timeout_ms,
                      req.rebalance_timeout_ms if req.rebalance_timeout_ms > 0 else req.session_timeout_ms,
                      req.protocol_type, list(req.protocols))

    async def _join_unknown(self, group: Group, req: JoinRequest) -> JoinResult:
        new_id = f"{req.group_instance_id or req.client_id}-{uuid.uuid4()}"
        if req.group_instance_id is not None:
            old_id = group.static_members.get(req.group_instance_id)
            if old_id is not None:
                return await self._replace_static(group, old_id, new_id, req)
        elif req.require_known_member_id:
            group.pending_members.add(new_id)
            loop = asyncio.get_running_loop()
            loop.call_later(req.session_timeout_ms / 1000, self._expire_pending, group, new_id)
            return JoinResult(E["MEMBER_ID_REQUIRED"], new_id)
        return await self._add_and_wait(group, self._new_member(req, new_id))

    async def _replace_static(self, group: Group, old_id: str, new_id: str, req: JoinRequest) -> JoinResult:
        old = group.members[old_id]
        if old.join_waiter is not None and not old.join_waiter.done():
            old.join_waiter.set_result(JoinResult(E["FENCED_INSTANCE_ID"], old_id))
        if old.sync_waiter is not None and not old.sync_waiter.done():
            old.sync_waiter.set_result(SyncResult(E["FENCED_INSTANCE_ID"]))
        group.remove(old_id)
        member = self._new_member(req, new_id)
        member.assignment = old.assignment
        if group.leader_id is None or group.leader_id == old_id:
            group.leader_id = new_id
        if group.in_state(S.STABLE) and old.same_protocols(req.protocols):
            group.add(member)
            self._touch(member)
            self.on_group_change(group)
            return JoinResult(errors.NONE, new_id, group.generation, group.protocol_type, group.protocol_name,
                              group.leader_id or "")
        return await self._add_and_wait(group, member)

    async def _join_known(self, group: Group, req: JoinRequest) -> JoinResult:
        if req.member_id in group.pending_members:
            group.pending_members.discard(req.member_id)
            return await self._add_and_wait(group, self._new_member(req, req.member_id))
        member = group.members.get(req.member_id)
        if member is None:
            return JoinResult(E["UNKNOWN_MEMBER_ID"], req.member_id)
        if req.group_instance_id is not None and group.static_members.get(req.group_instance_id) != req.member_id:
            return JoinResult(E["FENCED_INSTANCE_ID"], req.member_id)
        if group.in_state(S.PREPARING_REBALANCE):
            member.protocols = list(req.protocols)
            return await self._wait_join(group, member)
        if group.in_state(S.COMPLETING_REBALANCE):
            if member.same_protocols(req.protocols):
                return self._join_answer(group, member)
            member.protocols = list(req.protocols)
            self._prepare_rebalance(group)
            return await self._wait_join(group, member)
        if group.in_state(S.STABLE):
            if member.member_id == group.leader_id or not member.same_protocols(req.protocols):
                member.protocols = list(req.protocols)
                self._prepare_rebalance(group)
                return await self._wait_join(group, member)
            return self._join_answer(group, member)
        return JoinResult(E["UNKNOWN_MEMBER_ID"], req.member_id)

    async def _add_and_wait(self, group: Group, member: Member) -> JoinResult:
        member.is_new = True
        group.add(member)
        group.new_member_added = True
        if not group.in_state(S.PREPARING_REBALANCE):
            self._prepare_rebalance(group)
        return await self._wait_join(group, member)

    async def _wait_join(self, group: Group, member: Member) -> JoinResult:
        fut: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        member.join_waiter = fut
        self._touch(member)
        self._maybe_complete_join(group)
        return await fut

    def _join_answer(self, group: Group, member: Member) -> JoinResult:
        self._touch(member)
        members: list[tuple[str, str | None, bytes]] = []
        if member.member_id == group.leader_id and group.protocol_name is not None:
            members = [(m.member_id, m.group_instance_id, m.metadata_for(group.protocol_name))
                       for m in group.members.values()]
        return JoinResult(errors.NONE, member.member_id, group.generation, group.protocol_type, group.protocol_name,
                          group.leader_id or "", members)

    # -- rebalance ----------------------------------------------------------------------------
    def _prepare_rebalance(self, group: Group) -> None:
        if group.in_state(S.COMPLETING_REBALANCE):
            for m in group.members.values():
                m.assignment = b""
                if m.sync_waiter is not None and not m.sync_waiter.done():
                    m.sync_waiter.set_result(SyncResult(E["REBALANCE_IN_PROGRESS"]))
                m.sync_waiter = None
        was_empty = group.in_state(S.EMPTY)
        group.transition(S.PREPARING_REBALANCE)
        self._cancel_timer(group)
        loop = asyncio.get_running_loop()
        timeout = group.max_rebalance_timeout_ms()
        if was_empty and self.initial_delay_ms > 0:
            delay = min(self.initial_delay_ms, timeout)
            group.new_member_added = False
            self._delayed.add(group.group_id)
            group.rebalance_timer = loop.call_later(delay / 1000, self._initial_delay_expired, group,
                                                    max(timeout - delay, 0))
        else:
            group.rebalance_timer = loop.call_later(timeout / 1000, self._rebalance_deadline, group)

    def _initial_delay_expired(self, group: Group, remaining_ms: int) -> None:
        group.rebalance_timer = None
        if not group.in_state(S.PREPARING_REBALANCE):
            return
        if group.new_member_added and remaining_ms > 0:
            delay = min(self.initial_delay_ms, remaining_ms)
            group.new_member_added = False
            group.rebalance_timer = asyncio.get_running_loop().call_later(
                delay / 1000, self._initial_delay_expired, group, remaining_ms - delay)
            return
        self._delayed.discard(group.group_id)
        self._complete_join(group)

    def _rebalance_deadline(self, group: Group) -> None:
        group.rebalance_timer = None
        if group.in_state(S.PREPARING_REBALANCE):
            self._complete_join(group)

    def _maybe_complete_join(self, group: Group) -> None:
        """Complete as soon as every member has rejoined — except during the initial delay."""
        in_initial_delay = group.group_id in self._delayed
        if group.in_state(S.PREPARING_REBALANCE) and group.all_joined() and not in_initial_delay:
            self._cancel_timer(group)
            self._complete_join(group)

    def _complete_join(self, group: Group) -> None:
        for m in list(group.members.values()):
            if m.join_waiter is None:  # did not rejoin in time
                group.remove(m.member_id)
        group.pending_members.clear()
        group.generation += 1
        if not group.members:
            group.protocol_name = None
            group.leader_id = None
            group.transition(S.EMPTY)
            self.on_group_change(group)
            return
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        group.transition(S.COMPLETING_REBALANCE)
        for m in group.members.values():
            waiter, m.join_waiter = m.join_waiter, None
            m.is_new = False
            result = self._join_answer(group, m)
            if waiter is not None and not waiter.done():
                waiter.set_result(result)
        loop = asyncio.get_running_loop()
        group.rebalance_timer = loop.call_later(group.max_rebalance_timeout_ms() / 1000, self._sync_deadline,
                                                group, group.generation)

    def _sync_deadline(self, group: Group, generation: int) -> None:
        """The leader never sent SyncGroup: drop the members that did not sync and rebalance."""
        group.rebalance_timer = None
        if group.in_state(S.COMPLETING_REBALANCE) and group.generation == generation:
            for m in list(group.members.values()):
                if m.sync_waiter is None:
                    group.remove(m.member_id)
            self._after_removal(group)

    def _cancel_timer(self, group: Group) -> None:
        self._delayed.discard(group.group_id)
        if group.rebalance_timer is not None:
            group.rebalance_timer.cancel()
            group.rebalance_timer = None

    def _expire_pending(self, group: Group, member_id: str) -> None:
        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            self._maybe_complete_join(group)

    def _after_removal(self, group: Group) -> None:
        if group.in_state(S.STABLE) or group.in_state(S.COMPLETING_REBALANCE):
            self._prepare_rebalance(group)
            self._maybe_complete_join(group)  # the last member left: Empty at once, as Kafka's join purgatory does
        elif group.in_state(S.PREPARING_REBALANCE):
            if not group.members:
                self._cancel_timer(group)
                self._complete_join(group)
            else:
                self._maybe_complete_join(group)

    # -- SyncGroup ----------------------------------------------------------------------------
    def _check_member(self, group: Group | None, member_id: str, instance_id: str | None,
                      generation: int) -> errors.ErrorCode | None:
        if group is None:
            return E["UNKNOWN_MEMBER_ID"]
        if group.in_state(S.DEAD):
            return E["COORDINATOR_NOT_AVAILABLE"]
        member = group.members.get(member_id)
        if member is None:
            if instance_id is not None and instance_id in group.static_members:
                return E["FENCED_INSTANCE_ID"]
            return E["UNKNOWN_MEMBER_ID"]
        if instance_id is not None and group.static_members.get(instance_id) != member_id:
            return E["FENCED_INSTANCE_ID"]
        if generation != group.generation:
            return E["ILLEGAL_GENERATION"]
        return None

    async def sync(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
                   protocol_type: str | None, protocol_name: str | None,
                   assignments: dict[str, bytes]) -> SyncResult:
        group = self.groups.get(group_id)
        problem = self._check_member(group, member_id, instance_id, generation)
        if problem is not None:
            return SyncResult(problem)
        assert group is not None
        if (protocol_type is not None and protocol_type != group.protocol_type) or (
                protocol_name is not None and protocol_name != group.protocol_name):
            return SyncResult(E["INCONSISTENT_GROUP_PROTOCOL"])
        member = group.members[member_id]
        self._touch(member)
        if group.in_state(S.PREPARING_REBALANCE):
            return SyncResult(E["REBALANCE_IN_PROGRESS"])
        if group.in_state(S.STABLE):
            return SyncResult(errors.NONE, member.assignment, group.protocol_type, group.protocol_name)
        if not group.in_state(S.COMPLETING_REBALANCE):
            return SyncResult(E["UNKNOWN_MEMBER_ID"])
        fut: asyncio.Future[SyncResult] = asyncio.get_running_loop().create_future()
        member.sync_waiter = fut
        if member_id == group.leader_id:
            self._cancel_timer(group)
            await self._store_assignment(group, {m: assignments.get(m, b"") for m in group.members})
        return await fut

    async def _store_assignment(self, group: Group, assignments: dict[str, bytes]) -> None:
        """The leader's assignment: persist it (waiting for replication, as Kafka's storeGroup does),
        then hand it out and become Stable -- unless the group moved on or the write failed meanwhile."""
        generation = group.generation
        for m in group.members.values():
            m.assignment = assignments.get(m.member_id, b"")
        pending = self.on_group_change(group)
        failed = None if pending is None else await pending.wait()
        if not group.in_state(S.COMPLETING_REBALANCE) or group.generation != generation:
            return  # a join, leave or unload decided while the write was in flight, and told the waiters
        if failed is not None:
            error = _GROUP_WRITE_ERRORS.get(failed.name, "UNKNOWN_SERVER_ERROR")
            log.warning("Group %s: assignment of generation %d not stored (%s): rebalancing", group.group_id,
                        generation, failed.name)
            for m in group.members.values():
                m.assignment = b""
                waiter, m.sync_waiter = m.sync_waiter, None
                if waiter is not None and not waiter.done():
                    waiter.set_result(SyncResult(E[error]))
            self._prepare_rebalance(group)
            return
        group.transition(S.STABLE)
        for m in group.members.values():
            waiter, m.sync_waiter = m.sync_waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(SyncResult(errors.NONE, m.assignment, group.protocol_type, group.protocol_name))

    # -- Heartbeat / LeaveGroup ------------------------------------------------------------------
    def heartbeat(self, group_id: str, generation: int, member_id: str, instance_id: str | None) -> errors.ErrorCode:
        group = self.groups.get(group_id)
        if group is not None and group.in_state(S.EMPTY):
            return E["UNKNOWN_MEMBER_ID"]
        problem = self._check_member(group, member_id, instance_id, generation)
        if problem is not None:
            return problem
        assert group is not None
        self._touch(group.members[member_id])
        if group.in_state(S.PREPARING_REBALANCE):
            return E["REBALANCE_IN_PROGRESS"]
        return errors.NONE

    def leave(self, group_id: str, identities: list[tuple[str, str | None]]) -> tuple[errors.ErrorCode,
                                                                                         list[errors.ErrorCode]]:
        group = self.groups.get(group_id)
        if group is None or group.in_state(S.DEAD):
            err = E["UNKNOWN_MEMBER_ID"] if group is None else E["COORDINATOR_NOT_AVAILABLE"]
            return err, [err] * len(identities)
        results: list[errors.ErrorCode] = []
        removed = False
        for member_id, instance_id in identities:
            if not member_id and instance_id is not None:
                member_id = group.static_members.get(instance_id, "")
            member = group.members.get(member_id)
            if member is None:
                if member_id in group.pending_members:
                    group.pending_members.discard(member_id)
                    results.append(errors.NONE)
                    continue
                results.append(E["UNKNOWN_MEMBER_ID"])
                continue
            if instance_id is not None and member.group_instance_id != instance_id:
                results.append(E["FENCED_INSTANCE_ID"])
                continue
            for waiter in (member.join_waiter, member.sync_waiter):
                if waiter is not None and not waiter.done():
                    waiter.set_result(JoinResult(E["UNKNOWN_MEMBER_ID"], member_id)
                                      if waiter is member.join_waiter else SyncResult(E["UNKNOWN_MEMBER_ID"]))
            group.remove(member_id)
            removed = True
            results.append(errors.NONE)
        if removed:
            self._after_removal(group)
        return errors.NONE, results

    # -- liveness ----------------------------------------------------------------------------------
    def _touch(self, member: Member) -> None:
        member.heartbeat_deadline = self.clock() + member.session_timeout_ms / 1000

    def expire_members(self) -> int:
        """Remove members whose session timed out (those parked in Join/Sync count as alive)."""
        now = self.clock()
        expired = 0
        for group in list(self.groups.values()):
            gone = [m for m in group.members.values()
                    if now > m.heartbeat_deadline and m.join_waiter is None and m.sync_waiter is None]
            for m in gone:
                group.remove(m.member_id)
                expired += 1
            if gone:
                self._after_removal(group)
        return expired
