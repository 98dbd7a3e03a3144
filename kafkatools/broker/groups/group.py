"""A consumer group and its members (Kafka's ``GroupMetadata`` / ``MemberMetadata``).

A member waiting in JoinGroup or SyncGroup holds an asyncio future that the coordinator
resolves with that member's response; nothing here does I/O.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from kafkatools.broker.groups.states import GroupState, check_transition


@dataclass
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join_waiter: asyncio.Future[Any] | None = None
    sync_waiter: asyncio.Future[Any] | None = None
    heartbeat_deadline: float = 0.0
    is_new: bool = False

    def metadata_for(self, protocol: str) -> bytes:
        for name, meta in self.protocols:
            if name == protocol:
                return meta
        return b""

    def same_protocols(self, protocols: list[tuple[str, bytes]]) -> bool:
        return self.protocols == protocols


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int = -1


@dataclass
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    generation: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending_members: set[str] = field(default_factory=set)  # KIP-394: ids handed out, join not yet done
    static_members: dict[str, str] = field(default_factory=dict)  # group.instance.id -> member id
    offsets: dict[tuple[str, int], CommittedOffset] = field(default_factory=dict)
    # TxnOffsetCommit offsets logged but not yet settled by their transaction's marker: producer id -> offsets
    pending_txn: dict[int, dict[tuple[str, int], CommittedOffset]] = field(default_factory=dict)
    rebalance_timer: asyncio.TimerHandle | None = None
    state_timestamp: int = 0
    new_member_added: bool = False

    def transition(self, target: GroupState) -> None:
        check_transition(self.state, target)
        self.state = target

    def in_state(self, state: GroupState) -> bool:
        return self.state is state

    def add(self, member: Member) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        if self.leader_id is None:
            self.leader_id = member.member_id

    def remove(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        if member.group_instance_id is not None and self.static_members.get(member.group_instance_id) == member_id:
            del self.static_members[member.group_instance_id]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def all_joined(self) -> bool:
        return all(m.join_waiter is not None for m in self.members.values()) and not self.pending_members

    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        """A joining member must share the protocol type and at least one protocol with every member."""
        if not self.members:
            return bool(protocol_type) and bool(protocols)
        if protocol_type != self.protocol_type:
            return False
        names = {n for n, _ in protocols}
        return all(names & {n for n, _ in m.protocols} for m in self.members.values())

    def select_protocol(self) -> str:
        """The protocol every member supports, by votes of each member's first preference (Kafka's rule)."""
        candidates: set[str] | None = None
        for m in self.members.values():
            names = {n for n, _ in m.protocols}
            candidates = names if candidates is None else candidates & names
        assert candidates, "no common protocol"
        votes: dict[str, int] = dict.fromkeys(candidates, 0)
        for m in self.members.values():
            for name, _ in m.protocols:
                if name in candidates:
                    votes[name] += 1
                    break
        return max(sorted(votes), key=lambda n: votes[n])

    def subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to (consumer protocol), or None if not decodable."""
        if self.protocol_type != "consumer" or self.protocol_name is None:
            return None
        from kafkatools.codec import messages

        topics: set[str] = set()
        for m in self.members.values():
            meta = m.metadata_for(self.protocol_name)
            try:
                version = int.from_bytes(meta[:2], "big", signed=True)
                sub = messages.ConsumerProtocolSubscription.decode(meta[2:], min(max(version, 0), 3))
            except Exception:
                return None
            topics.update(sub.topics)
        return topics
