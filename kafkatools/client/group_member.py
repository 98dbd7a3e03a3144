"""A consumer-group member: join, sync, heartbeat, leave -- the classic protocol with the range assignor.

For ``kafka-console-consumer --group`` and the benchmarks::

    async with GroupMember(client, "g", ["orders"]) as member:
        assigned = await member.poll_assignment()      # [(topic, partition), ...], waits for a rebalance
        ...fetch from the committed positions...
        await member.commit({("orders", 0): 42})       # raises KafkaError if the generation is stale

Why two connections to the coordinator: JoinGroup parks until the whole group has rejoined, so the
membership loop (join/sync/heartbeat, strictly in turn) owns one connection and commits/fetches use
another; neither waits behind the other.

The range assignor mirrors Kafka's ``RangeAssignor``: per topic, members subscribed to it sorted
by member id; with n partitions over k members, the first ``n % k`` members get ``n // k + 1``
consecutive partitions and the rest ``n // k``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from kafkatools import errors
from kafkatools.client.cluster import KafkaClient
from kafkatools.client.connection import BrokerConnection
from kafkatools.client.groups import (
    CommittedOffset,
    GroupsAdmin,
    TopicPartition,
    commit_on,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from kafkatools.codec import messages

E = errors.BY_NAME
PROTOCOL = "range"
_REJOIN = {E["REBALANCE_IN_PROGRESS"].code, E["ILLEGAL_GENERATION"].code, E["UNKNOWN_MEMBER_ID"].code,
           E["MEMBER_ID_REQUIRED"].code}


def range_assign(subscriptions: dict[str, list[str]], partitions: dict[str, int]) -> dict[str, dict[str, list[int]]]:
    """``member -> topics`` and ``topic -> partition count`` into ``member -> topic -> partitions``."""
    out: dict[str, dict[str, list[int]]] = {m: {} for m in subscriptions}
    for topic in sorted({t for ts in subscriptions.values() for t in ts}):
        members = sorted(m for m, ts in subscriptions.items() if topic in ts)
        n = partitions.get(topic, 0)
        per, extra = divmod(n, len(members))
        for i, m in enumerate(members):
            start = i * per + min(i, extra)
            count = per + (1 if i < extra else 0)
            if count:
                out[m][topic] = list(range(start, start + count))
    return out


class GroupMember:
    def __init__(self, client: KafkaClient, group_id: str, topics: list[str], *, session_timeout_ms: int = 10000,
                 rebalance_timeout_ms: int = 30000, heartbeat_interval_ms: int = 3000,
                 group_instance_id: str | None = None) -> None:
        self.client = client
        self.group_id = group_id
        self.topics = sorted(topics)
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.group_instance_id = group_instance_id
        self.admin = GroupsAdmin(client)
        self.member_id = ""
        self.generation = -1
        self.leader = ""
        self.assignment: list[TopicPartition] = []
        self._stable = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop_conn: BrokerConnection | None = None
        self._error: BaseException | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _connect(self, timeout_s: float) -> BrokerConnection:
        node = await self.admin.find_coordinator(self.group_id)
        conn = BrokerConnection(node.host, node.port, client_id=self.client.client_id, request_timeout=timeout_s)
        await conn.connect()
        return conn

    async def start(self) -> None:
        self._loop_conn = await self._connect(self.rebalance_timeout_ms / 1000 + 10)
        self._task = asyncio.create_task(self._run())

    async def poll_assignment(self, timeout: float | None = None) -> list[TopicPartition]:
        """The current assignment, after waiting for a rebalance under way to finish."""
        await asyncio.wait_for(self._stable.wait(), timeout)
        if self._error is not None:
            raise self._error
        return list(self.assignment)

    async def commit(self, offsets: dict[TopicPartition, int], metadata: str | None = "") -> None:
        conn = await self.admin.coordinator(self.group_id)
        result = await commit_on(conn, self.group_id, offsets, generation=self.generation, member_id=self.member_id,
                                 instance_id=self.group_instance_id, metadata=metadata)
        bad = next((e for e in result.values() if e.code), None)
        if bad is not None:
            if bad.code in _REJOIN:
                self._stable.clear()
            raise errors.KafkaError(bad, f"OffsetCommit for group {self.group_id}")

    async def committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, CommittedOffset]:
        return await self.admin.fetch_offsets(self.group_id, partitions)

    # -- the membership loop -----------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while True:
                await self._join_and_sync()
                await self._heartbeat_until_rebalance()
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # surfaced by poll_assignment
            self._error = e
            self._stable.set()

    async def _join_and_sync(self) -> None:
        assert self._loop_conn is not None
        self._stable.clear()
        while True:
            J = messages.JoinGroupRequest
            resp: messages.JoinGroupResponse = await self._loop_conn.request(J(
                group_id=self.group_id, session_timeout_ms=self.session_timeout_ms,
                rebalance_timeout_ms=self.rebalance_timeout_ms, member_id=self.member_id,
                group_instance_id=self.group_instance_id, protocol_type="consumer",
                protocols=[J.JoinGroupRequestProtocol(name=PROTOCOL, metadata=encode_subscription(self.topics))]))
            if resp.error_code == E["MEMBER_ID_REQUIRED"].code:
                self.member_id = resp.member_id
                continue
            if resp.error_code == E["UNKNOWN_MEMBER_ID"].code:
                self.member_id = ""
                continue
            if resp.error_code:
                raise errors.KafkaError(errors.error_for(resp.error_code), f"JoinGroup {self.group_id}")
            self.member_id, self.generation, self.leader = resp.member_id, resp.generation_id, resp.leader
            assignments = await self._assign(resp) if resp.leader == resp.member_id else {}
            S = messages.SyncGroupRequest
            sync: messages.SyncGroupResponse = await self._loop_conn.request(S(
                group_id=self.group_id, generation_id=self.generation, member_id=self.member_id,
                group_instance_id=self.group_instance_id, protocol_type="consumer", protocol_name=PROTOCOL,
                assignments=[S.SyncGroupRequestAssignment(member_id=m, assignment=a) for m, a in assignments.items()]))
            if sync.error_code in _REJOIN:
                if sync.error_code == E["UNKNOWN_MEMBER_ID"].code:
                    self.member_id = ""
                continue
            if sync.error_code:
                raise errors.KafkaError(errors.error_for(sync.error_code), f"SyncGroup {self.group_id}")
            self.assignment = decode_assignment(bytes(sync.assignment))
            self._stable.set()
            return

    async def _assign(self, resp: messages.JoinGroupResponse) -> dict[str, bytes]:
        subs = {m.member_id: decode_subscription(bytes(m.metadata)).topics for m in resp.members}
        topics = sorted({t for ts in subs.values() for t in ts})
        await self.client.refresh_metadata(topics)
        counts = {t: len(self.client.topics[t].partitions) for t in topics if t in self.client.topics}
        return {m: encode_assignment(a) for m, a in range_assign(subs, counts).items()}

    async def _heartbeat_until_rebalance(self) -> None:
        assert self._loop_conn is not None
        while True:
            await asyncio.sleep(self.heartbeat_interval_ms / 1000)
            if not self._stable.is_set():  # a commit saw the generation change
                return
            resp: messages.HeartbeatResponse = await self._loop_conn.request(messages.HeartbeatRequest(
                group_id=self.group_id, generation_id=self.generation, member_id=self.member_id,
                group_instance_id=self.group_instance_id))
            if resp.error_code in _REJOIN:
                if resp.error_code == E["UNKNOWN_MEMBER_ID"].code:
                    self.member_id = ""
                return
            if resp.error_code:
                raise errors.KafkaError(errors.error_for(resp.error_code), f"Heartbeat {self.group_id}")

    async def close(self, leave: bool = True) -> None:
        """Stop heartbeating and (by default) leave the group so it rebalances at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        conn, self._loop_conn = self._loop_conn, None
        if conn is None:
            return
        if leave and self.member_id:
            L = messages.LeaveGroupRequest
            with contextlib.suppress(errors.KafkatoolsError, OSError):
                await conn.request(L(group_id=self.group_id, member_id=self.member_id, members=[
                    L.MemberIdentity(member_id=self.member_id, group_instance_id=self.group_instance_id)]))
        await conn.close()
