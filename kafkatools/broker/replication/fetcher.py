"""One follower fetch loop per source leader (Kafka's ReplicaFetcherThread, as an asyncio task).

Each round first settles partitions that still need truncation (OffsetForLeaderEpoch with this
broker's id as replica id, see truncation.py), then sends one Fetch for all the others with
``replica_id`` = this broker, from each partition's log end, with its last fetched epoch (v12+;
a ``diverging_epoch`` answer truncates like an OffsetForLeaderEpoch answer would).  Data is
appended as is (offsets and epochs from the leader; storage records the epochs in the
leader-epoch cache) and its batch headers replayed into the partition's producer table; the
follower HW becomes min(leader HW, own log end).  Every truncation also drops the producer
snapshots past the new log end (ProducerStates.truncated).

Errors: OFFSET_OUT_OF_RANGE restarts the log at the leader's log start when the follower is behind
it (at the base of the batch holding it, when DeleteRecords left it mid-batch), else truncates to the
leader's log end (ListOffsets); NOT_LEADER_OR_FOLLOWER, FENCED / UNKNOWN_LEADER_EPOCH and
unknown partitions back off for ``replica.fetch.backoff.ms`` and retry with whatever state the
controller has applied meanwhile.  Connection failures back off likewise.
Fetch is capped at v12 so that topics go by name (brokers' topic ids come from the controller).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafkatools import errors
from kafkatools.broker.replication.truncation import decide_truncation
from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from kafkatools.storage.entries import entry_info
from kafkatools.storage.errors import InvalidOffsetError

if TYPE_CHECKING:
    from kafkatools.broker.partition import Partition
    from kafkatools.broker.replication.manager import ReplicaManager

log = logging.getLogger("kafkatools.broker.replication")

FETCH_MAX_VERSION = 12
MAX_TRUNCATION_ROUNDS = 16
RETRIABLE = {errors.NOT_LEADER_OR_FOLLOWER.code, errors.FENCED_LEADER_EPOCH.code, errors.UNKNOWN_LEADER_EPOCH.code,
             errors.UNKNOWN_TOPIC_OR_PARTITION.code}
Key = tuple[str, int]


@dataclass(slots=True)
class FetchState:
    partition: Partition
    leader_epoch: int
    truncating: bool = True
    delayed_until: float = 0.0


class ReplicaFetcher:
    def __init__(self, manager: ReplicaManager, leader_id: int) -> None:
        self.manager = manager
        self.leader_id = leader_id
        self.address = manager.brokers.get(leader_id)
        self.partitions: dict[Key, FetchState] = {}
        self._conn: BrokerConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._stopping = False

    def add(self, key: Key, part: Partition, leader_epoch: int) -> None:
        self.partitions[key] = FetchState(part, leader_epoch)
        self._changed.set()
        self.start()

    def remove(self, key: Key) -> None:
        self.partitions.pop(key, None)

    def start(self) -> None:
        if self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # ReplicaManager.start() runs it once the loop is up
        self._task = loop.create_task(self._run(), name=f"replica-fetcher-{self.leader_id}")

    async def close(self) -> None:
        """Stop: closing the connection first fails the request in flight, so the loop sees it and ends."""
        self._stopping = True
        self._changed.set()
        await self._disconnect()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2.0)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    @property
    def _backoff(self) -> float:
        return self.manager.config.replica_fetch_backoff_ms / 1000

    async def _run(self) -> None:
        while not self._stopping:
            if not self.partitions:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                conn = await self._connection()
                await self._truncate(conn)
                await self._fetch(conn)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # connection trouble, leader restarting: back off and reconnect
                if self._stopping:
                    return
                log.info("[ReplicaFetcher broker=%d leader=%d] %s: %s; retrying", self.manager.node_id,
                         self.leader_id, type(e).__name__, e)
                await self._disconnect()
                await asyncio.sleep(self._backoff)

    async def _connection(self) -> BrokerConnection:
        if self._conn is None:
            if self.address is None:
                raise ConnectionError(f"no address known for broker {self.leader_id}")
            c = self.manager.config
            conn = BrokerConnection(self.address[0], self.address[1],
                                    client_id=f"broker-{self.manager.node_id}-fetcher-0",
                                    request_timeout=max(c.replica_socket_timeout_ms, c.replica_fetch_wait_max_ms
                                                        + 1000) / 1000)
            await conn.connect()
            self._conn = conn
        return self._conn

    def _ready(self, truncating: bool) -> list[tuple[Key, FetchState]]:
        now = time.monotonic()
        return [(k, s) for k, s in self.partitions.items() if s.truncating == truncating and s.delayed_until <= now]

    def _delay(self, st: FetchState) -> None:
        st.delayed_until = time.monotonic() + self._backoff

    # -- truncation -------------------------------------------------------------------------------
    async def _truncate(self, conn: BrokerConnection) -> None:
        for _ in range(MAX_TRUNCATION_ROUNDS):
            todo = self._ready(True)
            if not todo:
                return
            asks: dict[str, list[messages.OffsetForLeaderEpochRequest.OffsetForLeaderPartition]] = {}
            for (topic, index), st in todo:
                latest = st.partition.log.leader_epoch_cache.latest_epoch
                if latest < 0:  # no epochs at all (empty log): only the HW is known to be safe
                    _truncate(st.partition, st.partition.high_watermark)
                    st.truncating = False
                    continue
                asks.setdefault(topic, []).append(messages.OffsetForLeaderEpochRequest.OffsetForLeaderPartition(
                    partition=index, current_leader_epoch=st.leader_epoch, leader_epoch=latest))
            if not asks:
                continue
            asked = {(t, p.partition): p.current_leader_epoch for t, ps in asks.items() for p in ps}
            req = messages.OffsetForLeaderEpochRequest(replica_id=self.manager.node_id, topics=[
                messages.OffsetForLeaderEpochRequest.OffsetForLeaderTopic(topic=t, partitions=ps)
                for t, ps in asks.items()])
            resp = await conn.request(req)
            for t in resp.topics:
                for p in t.partitions:
                    answered = self.partitions.get((t.topic, p.partition))
                    if answered is None or not answered.truncating or answered.leader_epoch != asked.get(
                            (t.topic, p.partition)):  # re-added at another epoch while we waited
                        continue
                    if p.error_code != 0:
                        self._delay(answered)
                        continue
                    self._apply_truncation(answered, p.leader_epoch, p.end_offset)
        return

    def _apply_truncation(self, st: FetchState, leader_epoch: int, leader_end: int) -> None:
        plog = st.partition.log
        decision = decide_truncation(leader_epoch, leader_end, plog.end_offset_for_epoch, plog.log_end_offset,
                                     plog.high_watermark)
        if decision.offset < plog.log_end_offset:
            log.info("[ReplicaFetcher broker=%d] Truncating %s to offset %d (log end was %d, leader epoch %d ends "
                     "at %d)", self.manager.node_id, plog.topic_partition, decision.offset, plog.log_end_offset,
                     leader_epoch, leader_end)
            _truncate(st.partition, decision.offset)
        st.truncating = not decision.complete

    # -- fetching ----------------------------------------------------------------------------------
    async def _fetch(self, conn: BrokerConnection) -> None:
        ready = self._ready(False)
        if not ready:
            await asyncio.sleep(self._backoff)
            return
        c = self.manager.config
        topics: dict[str, list[messages.FetchRequest.FetchPartition]] = {}
        for (topic, index), st in ready:
            plog = st.partition.log
            topics.setdefault(topic, []).append(messages.FetchRequest.FetchPartition(
                partition=index, current_leader_epoch=st.leader_epoch, fetch_offset=plog.log_end_offset,
                last_fetched_epoch=plog.leader_epoch_cache.latest_epoch, log_start_offset=plog.log_start_offset,
                partition_max_bytes=c.replica_fetch_max_bytes))
        sent = dict(ready)
        node = self.manager.node_id
        req = messages.FetchRequest(
            replica_id=node, replica_state=messages.FetchRequest.ReplicaState(replica_id=node, replica_epoch=-1),
            max_wait_ms=c.replica_fetch_wait_max_ms, min_bytes=c.replica_fetch_min_bytes,
            max_bytes=c.replica_fetch_response_max_bytes, isolation_level=0, session_id=0, session_epoch=-1,
            topics=[messages.FetchRequest.FetchTopic(topic=t, partitions=ps) for t, ps in topics.items()])
        resp = await conn.request(req, max_version=FETCH_MAX_VERSION)
        if resp.error_code != 0:
            raise errors.KafkaError(errors.error_for(resp.error_code), "follower fetch failed")
        for t in resp.responses:
            for p in t.partitions:
                fetched = self.partitions.get((t.topic, p.partition_index))
                if fetched is not None and not fetched.truncating and fetched is sent.get((t.topic, p.partition_index)):
                    await self._process(conn, t.topic, fetched, p)

    async def _process(self, conn: BrokerConnection, topic: str, st: FetchState, p: Any) -> None:
        plog = st.partition.log
        if p.error_code == errors.OFFSET_OUT_OF_RANGE.code:
            await self._out_of_range(conn, topic, st)
            return
        if p.error_code in RETRIABLE:
            self._delay(st)
            return
        if p.error_code != 0:
            log.warning("[ReplicaFetcher broker=%d] Fetch of %s failed: %s", self.manager.node_id,
                        plog.topic_partition, errors.error_for(p.error_code).name)
            self._delay(st)
            return
        div = p.diverging_epoch
        if div is not None and div.epoch >= 0 and div.end_offset >= 0:
            self._apply_truncation(st, div.epoch, div.end_offset)
            return
        records = p.records
        if records is not None and len(records):
            self._append(st.partition, records)
        plog.high_watermark = min(p.high_watermark, plog.log_end_offset)
        if 0 <= plog.log_start_offset < p.log_start_offset <= plog.log_end_offset:
            plog.advance_log_start_offset(p.log_start_offset)

    def _append(self, part: Partition, records: Any) -> None:
        """append_as_follower, plus Kafka's one exception: an empty log restarted at a log start that falls
        inside the first batch (DeleteRecords on the leader) restarts at that batch's base offset instead."""
        plog = part.log
        try:
            plog.append_as_follower(records)
        except InvalidOffsetError:
            first = entry_info(memoryview(records), 0, 0)
            leo = plog.log_end_offset
            if first is None or leo != plog.log_start_offset or not first.base_offset < leo <= first.last_offset:
                raise
            _restart_at(part, first.base_offset)
            plog.append_as_follower(records)
        part.producers.replay_appended(records)  # the follower's producer table (and its roll snapshots)

    async def _out_of_range(self, conn: BrokerConnection, topic: str, st: FetchState) -> None:
        """Kafka's handleOutOfRangeError: the leader's log end and log start decide where to restart."""
        plog = st.partition.log
        index = st.partition.index
        key = (topic, index)
        end = await self._leader_offset(conn, topic, index, st.leader_epoch, -1)
        if self.partitions.get(key) is not st:  # the role changed meanwhile: the answer is not ours to act on
            return
        if end is not None and end < plog.log_end_offset:
            _truncate(st.partition, end)
            return
        start = await self._leader_offset(conn, topic, index, st.leader_epoch, -2)
        if self.partitions.get(key) is not st:
            return
        if start is not None and start > plog.log_end_offset:
            log.info("[ReplicaFetcher broker=%d] %s is behind the leader's log start %d: restarting there",
                     self.manager.node_id, plog.topic_partition, start)
            _restart_at(st.partition, start)
        elif start is None or end is None:
            self._delay(st)

    async def _leader_offset(self, conn: BrokerConnection, topic: str, index: int, epoch: int,
                             timestamp: int) -> int | None:
        L = messages.ListOffsetsRequest
        req = L(replica_id=self.manager.node_id, isolation_level=0, topics=[L.ListOffsetsTopic(name=topic, partitions=[
            L.ListOffsetsPartition(partition_index=index, current_leader_epoch=epoch, timestamp=timestamp)])])
        resp = await conn.request(req)
        for t in resp.topics:
            for p in t.partitions:
                if p.error_code == 0:
                    return int(p.offset)
        return None


def _truncate(part: Partition, offset: int) -> None:
    """Cut the log at ``offset`` and the producer snapshots that described the cut tail."""
    if part.log.truncate_to(offset):
        part.producers.truncated()


def _restart_at(part: Partition, offset: int) -> None:
    part.log.truncate_fully_and_start_at(offset)
    part.producers.truncated(fully=True)
