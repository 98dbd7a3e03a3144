"""Admin calls for consumer groups: coordinator lookup, list/describe/delete, committed offsets.

Every group request but ListGroups must reach the group's coordinator (FindCoordinator key type 0),
so ``coordinator`` looks it up once per group and retries while the broker is still creating
``__consumer_offsets`` (COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS are retriable).

The consumer protocol's member metadata and assignments are ``ConsumerProtocolSubscription`` /
``ConsumerProtocolAssignment`` (Kafka's ``ConsumerProtocol``) behind a version prefix::

    int16 version | struct at that version (v0..v3; a newer version is read as v3, as Kafka does)
"""

from __future__ import annotations

import asyncio
import struct
from collections import defaultdict
from dataclasses import dataclass, field

from kafkatools import errors
from kafkatools.client.cluster import KafkaClient, Node
from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages

E = errors.BY_NAME
FIND_COORDINATOR = 10
OFFSET_FETCH = 9
TopicPartition = tuple[str, int]
_RETRIABLE_COORDINATOR = {E["COORDINATOR_NOT_AVAILABLE"].code, E["COORDINATOR_LOAD_IN_PROGRESS"].code,
                          E["NOT_COORDINATOR"].code}


# -- consumer protocol payloads --------------------------------------------------------------------
def encode_subscription(topics: list[str], version: int = 0,
                        owned: dict[str, list[int]] | None = None) -> bytes:
    S = messages.ConsumerProtocolSubscription
    sub = S(topics=sorted(topics), user_data=None,
            owned_partitions=[S.TopicPartition(topic=t, partitions=ps) for t, ps in sorted((owned or {}).items())])
    return struct.pack(">h", version) + sub.encode(version)


def decode_subscription(data: bytes) -> messages.ConsumerProtocolSubscription:
    version = struct.unpack_from(">h", data)[0] if len(data) >= 2 else 0
    return messages.ConsumerProtocolSubscription.decode(data[2:], min(max(version, 0), 3))


def encode_assignment(partitions: dict[str, list[int]], version: int = 0) -> bytes:
    A = messages.ConsumerProtocolAssignment
    body = A(assigned_partitions=[A.TopicPartition(topic=t, partitions=sorted(ps))
                                  for t, ps in sorted(partitions.items())], user_data=None)
    return struct.pack(">h", version) + body.encode(version)


def decode_assignment(data: bytes) -> list[TopicPartition]:
    """The assigned partitions, sorted; an empty payload (a member with nothing) is ``[]``."""
    if len(data) < 2:
        return []
    version = struct.unpack_from(">h", data)[0]
    body = messages.ConsumerProtocolAssignment.decode(data[2:], min(max(version, 0), 3))
    return sorted((tp.topic, p) for tp in body.assigned_partitions for p in tp.partitions)


# -- results -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GroupListing:
    group_id: str
    protocol_type: str
    state: str


@dataclass(frozen=True, slots=True)
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    host: str
    assignment: tuple[TopicPartition, ...]


@dataclass(frozen=True, slots=True)
class GroupDescription:
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[MemberDescription, ...]
    coordinator: Node
    error_code: int = 0


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    offset: int
    leader_epoch: int = -1
    metadata: str = ""


@dataclass
class GroupsAdmin:
    """Group admin calls over one ``KafkaClient``; caches each group's coordinator."""

    client: KafkaClient
    retries: int = 20
    retry_backoff: float = 0.1
    _coordinators: dict[str, Node] = field(default_factory=dict)

    async def find_coordinator(self, group_id: str) -> Node:
        cached = self._coordinators.get(group_id)
        if cached is not None:
            return cached
        last = ""
        for _ in range(self.retries):
            conn = await self.client.any_connection()
            version = conn.version_for(FIND_COORDINATOR)
            req = (messages.FindCoordinatorRequest(key_type=0, coordinator_keys=[group_id]) if version >= 4
                   else messages.FindCoordinatorRequest(key=group_id, key_type=0))
            resp: messages.FindCoordinatorResponse = await conn.request(req, version=version)
            if version >= 4:
                c = resp.coordinators[0]
                code, msg, node = c.error_code, c.error_message, Node(c.node_id, c.host, c.port)
            else:
                code, msg, node = resp.error_code, resp.error_message, Node(resp.node_id, resp.host, resp.port)
            if code == 0:
                self._coordinators[group_id] = node
                self.client.nodes.setdefault(node.node_id, node)
                return node
            if code not in _RETRIABLE_COORDINATOR:
                raise errors.KafkaError(errors.error_for(code), msg or f"FindCoordinator for group {group_id}")
            last = errors.error_for(code).name
            await asyncio.sleep(self.retry_backoff)
        raise errors.KafkaError(E["COORDINATOR_NOT_AVAILABLE"], f"No coordinator for group {group_id} ({last})")

    async def coordinator(self, group_id: str) -> BrokerConnection:
        node = await self.find_coordinator(group_id)
        return await self.client.connection(node.node_id)

    def forget(self, group_id: str) -> None:
        """Drop the cached coordinator (after NOT_COORDINATOR)."""
        self._coordinators.pop(group_id, None)

    # -- list / describe / delete ------------------------------------------------------------------
    async def list_groups(self, states: list[str] | None = None) -> list[GroupListing]:
        """Every broker's groups (ListGroups goes to all brokers), sorted by id."""
        found: dict[str, GroupListing] = {}
        for node_id in sorted(self.client.nodes):
            conn = await self.client.connection(node_id)
            version = conn.version_for(16)
            req = messages.ListGroupsRequest(states_filter=list(states or []) if version >= 4 else [])
            resp: messages.ListGroupsResponse = await conn.request(req, version=version)
            if resp.error_code:
                raise errors.KafkaError(errors.error_for(resp.error_code), "ListGroups failed")
            for g in resp.groups:
                found[g.group_id] = GroupListing(g.group_id, g.protocol_type, g.group_state)
        wanted = {s.lower() for s in states} if states else None
        return [g for _, g in sorted(found.items())
                if wanted is None or not g.state or g.state.lower() in wanted]

    async def describe_group(self, group_id: str) -> GroupDescription:
        node = await self.find_coordinator(group_id)
        conn = await self.client.connection(node.node_id)
        resp: messages.DescribeGroupsResponse = await conn.request(messages.DescribeGroupsRequest(groups=[group_id]))
        g = resp.groups[0]
        members = []
        for m in g.members:
            try:
                assigned = tuple(decode_assignment(bytes(m.member_assignment))) if g.protocol_type == "consumer" else ()
            except errors.KafkatoolsError:
                assigned = ()
            members.append(MemberDescription(m.member_id, m.group_instance_id, m.client_id, m.client_host, assigned))
        return GroupDescription(g.group_id, g.group_state, g.protocol_type, g.protocol_data, tuple(members), node,
                                g.error_code)

    async def delete_groups(self, group_ids: list[str]) -> dict[str, errors.ErrorCode]:
        out: dict[str, errors.ErrorCode] = {}
        for gid in group_ids:
            conn = await self.coordinator(gid)
            resp: messages.DeleteGroupsResponse = await conn.request(messages.DeleteGroupsRequest(groups_names=[gid]))
            for r in resp.results:
                out[r.group_id] = errors.error_for(r.error_code)
        return out

    # -- offsets -------------------------------------------------------------------------------------
    async def fetch_offsets(self, group_id: str,
                            partitions: list[TopicPartition] | None = None) -> dict[TopicPartition, CommittedOffset]:
        """Committed offsets (all of the group's when ``partitions`` is None); -1 entries are left out."""
        conn = await self.coordinator(group_id)
        version = conn.version_for(OFFSET_FETCH)
        by_topic: dict[str, list[int]] = defaultdict(list)
        for t, p in partitions or []:
            by_topic[t].append(p)
        R = messages.OffsetFetchRequest
        if version >= 8:
            topics8 = None if partitions is None else [R.OffsetFetchRequestTopics(name=t, partition_indexes=ps)
                                                        for t, ps in by_topic.items()]
            req = R(groups=[R.OffsetFetchRequestGroup(group_id=group_id, topics=topics8)])
        else:
            topics = None if partitions is None else [R.OffsetFetchRequestTopic(name=t, partition_indexes=ps)
                                                      for t, ps in by_topic.items()]
            req = R(group_id=group_id, topics=topics)
        resp: messages.OffsetFetchResponse = await conn.request(req, version=version)
        top = resp.groups[0].error_code if version >= 8 else resp.error_code
        if top:
            raise errors.KafkaError(errors.error_for(top), f"OffsetFetch for group {group_id}")
        out: dict[TopicPartition, CommittedOffset] = {}
        rows = ([(t.name, r.partition_index, r.error_code, r.committed_offset, r.committed_leader_epoch, r.metadata)
                 for t in resp.groups[0].topics for r in t.partitions] if version >= 8
                else [(t.name, r.partition_index, r.error_code, r.committed_offset, r.committed_leader_epoch,
                       r.metadata) for t in resp.topics for r in t.partitions])
        for name, index, code, offset, epoch, meta in rows:
            if code == 0 and offset >= 0:
                out[(name, index)] = CommittedOffset(offset, epoch, meta or "")
        return dict(sorted(out.items()))

    async def commit_offsets(self, group_id: str, offsets: dict[TopicPartition, int], *, generation: int = -1,
                             member_id: str = "", instance_id: str | None = None,
                             metadata: str | None = "") -> dict[TopicPartition, errors.ErrorCode]:
        """OffsetCommit; generation -1 with no member id is the admin ("simple") commit to an Empty group."""
        conn = await self.coordinator(group_id)
        return await commit_on(conn, group_id, offsets, generation=generation, member_id=member_id,
                               instance_id=instance_id, metadata=metadata)

    async def delete_offsets(self, group_id: str, partitions: list[TopicPartition]
                             ) -> tuple[errors.ErrorCode, dict[TopicPartition, errors.ErrorCode]]:
        conn = await self.coordinator(group_id)
        by_topic: dict[str, list[int]] = defaultdict(list)
        for t, p in partitions:
            by_topic[t].append(p)
        R = messages.OffsetDeleteRequest
        resp: messages.OffsetDeleteResponse = await conn.request(R(group_id=group_id, topics=[
            R.OffsetDeleteRequestTopic(name=t, partitions=[R.OffsetDeleteRequestPartition(partition_index=p)
                                                           for p in ps]) for t, ps in by_topic.items()]))
        per = {(t.name, p.partition_index): errors.error_for(p.error_code) for t in resp.topics for p in t.partitions}
        return errors.error_for(resp.error_code), per


async def commit_on(conn: BrokerConnection, group_id: str, offsets: dict[TopicPartition, int], *,
                    generation: int = -1, member_id: str = "", instance_id: str | None = None,
                    metadata: str | None = "") -> dict[TopicPartition, errors.ErrorCode]:
    """One OffsetCommit on ``conn`` (already the coordinator); the per-partition errors."""
    R = messages.OffsetCommitRequest
    by_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (t, p), off in offsets.items():
        by_topic[t].append((p, off))
    resp: messages.OffsetCommitResponse = await conn.request(R(
        group_id=group_id, generation_id_or_member_epoch=generation, member_id=member_id,
        group_instance_id=instance_id, topics=[R.OffsetCommitRequestTopic(name=t, partitions=[
            R.OffsetCommitRequestPartition(partition_index=p, committed_offset=o, committed_metadata=metadata)
            for p, o in ps]) for t, ps in by_topic.items()]))
    return {(t.name, p.partition_index): errors.error_for(p.error_code) for t in resp.topics for p in t.partitions}
