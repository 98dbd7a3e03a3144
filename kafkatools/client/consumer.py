"""A small asyncio consumer over manually assigned partitions: positions, a Fetch loop, records.

What Kafka's ``KafkaConsumer`` does with ``assign()`` and no group, reduced to what the console
consumer needs: every partition has a position (resolved from earliest/latest/an offset through
ListOffsets); ``poll`` sends one Fetch per leader at the highest version both sides speak (topic ids
from v13), decodes the returned batches with ``wire.records`` (magic 0/1/2, any codec) and advances
the positions.  Recovery follows the Java client:

* OFFSET_OUT_OF_RANGE resets the position by ``auto_offset_reset`` (earliest or latest);
* NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, FENCED/UNKNOWN_LEADER_EPOCH, a closed
  connection: refresh metadata and fetch from the new leader on the next poll;
* ``read_committed``: records of aborted transactions (the response's aborted list) and control
  batches are skipped, as Kafka's ``CompletedFetch`` does.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from kafkatools import errors
from kafkatools.client.admin import list_offsets
from kafkatools.client.cluster import KafkaClient
from kafkatools.client.connection import ConnectionClosedError
from kafkatools.codec import messages
from kafkatools.wire.log_entries import iter_batches
from kafkatools.wire.records import Header

FETCH = 1
TopicPartition = tuple[str, int]
EARLIEST, LATEST = -2, -1
READ_UNCOMMITTED, READ_COMMITTED = 0, 1
_REFRESH = {errors.NOT_LEADER_OR_FOLLOWER.code, errors.UNKNOWN_TOPIC_OR_PARTITION.code,
            errors.FENCED_LEADER_EPOCH.code, errors.UNKNOWN_LEADER_EPOCH.code, errors.LEADER_NOT_AVAILABLE.code,
            errors.UNKNOWN_TOPIC_ID.code, errors.BY_NAME["KAFKA_STORAGE_ERROR"].code,
            errors.BY_NAME["NOT_LEADER_OR_FOLLOWER"].code, errors.BY_NAME["OFFSET_NOT_AVAILABLE"].code}


@dataclass(slots=True)
class ConsumerRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: str  # CreateTime | LogAppendTime | NoTimestampType
    key: bytes | None
    value: bytes | None
    headers: list[Header] = field(default_factory=list)


class Consumer:
    def __init__(self, client: KafkaClient, *, auto_offset_reset: str = "latest",
                 isolation_level: int = READ_UNCOMMITTED, max_wait_ms: int = 500, min_bytes: int = 1,
                 max_bytes: int = 52428800, partition_max_bytes: int = 1048576, retry_backoff_ms: int = 100) -> None:
        if auto_offset_reset not in ("earliest", "latest", "none"):
            raise errors.KafkaError(errors.INVALID_CONFIG, f"Invalid value {auto_offset_reset} for configuration "
                                    "auto.offset.reset: String must be one of: latest, earliest, none")
        self.client = client
        self.auto_offset_reset = auto_offset_reset
        self.isolation_level = isolation_level
        self.max_wait_ms, self.min_bytes, self.max_bytes = max_wait_ms, min_bytes, max_bytes
        self.partition_max_bytes, self.backoff = partition_max_bytes, retry_backoff_ms / 1000
        self.positions: dict[TopicPartition, int] = {}
        self._unresolved: dict[TopicPartition, int] = {}  # EARLIEST / LATEST to look up

    async def assign(self, start: dict[TopicPartition, int]) -> None:
        """Replace the assignment; each partition starts at an offset >= 0, or EARLIEST / LATEST."""
        self.positions, self._unresolved = {}, {}
        if not start:
            return
        await self.client.refresh_metadata(sorted({t for t, _ in start}))
        for tp, where in start.items():
            (self.positions if where >= 0 else self._unresolved)[tp] = where
        await self._resolve()

    async def _resolve(self) -> None:
        for spec in (EARLIEST, LATEST):
            tps = [tp for tp, w in self._unresolved.items() if w == spec]
            if not tps:
                continue
            found = await list_offsets(self.client, tps, spec, self.isolation_level)
            for tp in tps:
                code, offset, _ = found.get(tp, (errors.UNKNOWN_SERVER_ERROR.code, -1, -1))
                if code == 0 and offset >= 0:
                    self.positions[tp] = offset
                    del self._unresolved[tp]

    def _reset(self, tp: TopicPartition) -> None:
        if self.auto_offset_reset == "none":
            raise errors.KafkaError(errors.OFFSET_OUT_OF_RANGE, f"Fetch position {self.positions.get(tp)} is out of "
                                    f"range for partition {tp[0]}-{tp[1]}")
        self.positions.pop(tp, None)
        self._unresolved[tp] = EARLIEST if self.auto_offset_reset == "earliest" else LATEST

    async def poll(self) -> list[ConsumerRecord]:
        """One fetch round across all leaders; the records it brought, in partition order."""
        if self._unresolved:
            await self._resolve()
        by_leader: dict[int, list[TopicPartition]] = {}
        stale = False
        for tp in self.positions:
            try:
                leader = self.client.leader_of(*tp)
            except errors.KafkaError:
                leader = -1
            if leader < 0:
                stale = True
                continue
            by_leader.setdefault(leader, []).append(tp)
        results = await asyncio.gather(*(self._fetch(leader, tps) for leader, tps in by_leader.items()))
        out: list[ConsumerRecord] = []
        for records, refresh in results:
            out += records
            stale = stale or refresh
        if stale:
            await asyncio.sleep(self.backoff)
            await self.client.refresh_metadata(sorted({t for t, _ in [*self.positions, *self._unresolved]}))
        return out

    def _topic_ids(self, tps: list[TopicPartition]) -> dict[str, uuid.UUID]:
        ids = {}
        for topic, _ in tps:
            meta = self.client.topics.get(topic)
            ids[topic] = meta.topic_id if meta is not None else uuid.UUID(int=0)
        return ids

    async def _fetch(self, leader: int, tps: list[TopicPartition]) -> tuple[list[ConsumerRecord], bool]:
        R = messages.FetchRequest
        ids = self._topic_ids(tps)
        try:
            conn = await self.client.connection(leader)
            version = conn.version_for(FETCH, None if all(i.int for i in ids.values()) else 12)
            per_topic: dict[str, list[messages.FetchRequest.FetchPartition]] = {}
            for t, p in tps:
                per_topic.setdefault(t, []).append(R.FetchPartition(
                    partition=p, fetch_offset=self.positions[(t, p)], partition_max_bytes=self.partition_max_bytes))
            req = R(replica_id=-1, max_wait_ms=self.max_wait_ms, min_bytes=self.min_bytes, max_bytes=self.max_bytes,
                    isolation_level=self.isolation_level, session_id=0, session_epoch=-1,
                    topics=[R.FetchTopic(topic=t, topic_id=ids[t], partitions=ps) for t, ps in per_topic.items()],
                    forgotten_topics_data=[], rack_id="")
            resp: messages.FetchResponse = await conn.request(req, version=version)
        except (ConnectionClosedError, OSError) as e:
            if isinstance(e, errors.KafkaError) and not e.retriable:
                raise
            return [], True
        except errors.KafkaError as e:
            if not e.retriable:
                raise
            return [], True
        if resp.error_code:
            raise errors.KafkaError(errors.error_for(resp.error_code), "Fetch failed")
        names = {i: t for t, i in ids.items()}
        out: list[ConsumerRecord] = []
        refresh = False
        for topic in resp.responses:
            name = topic.topic if version < 13 else names.get(topic.topic_id, topic.topic)
            for part in sorted(topic.partitions, key=lambda q: q.partition_index):
                tp = (name, part.partition_index)
                if tp not in self.positions:
                    continue
                if part.error_code == errors.OFFSET_OUT_OF_RANGE.code:
                    self._reset(tp)
                elif part.error_code in _REFRESH:
                    refresh = True
                elif part.error_code:
                    raise errors.KafkaError(errors.error_for(part.error_code), f"Fetch from {name}-{tp[1]}")
                else:
                    out += self._records(tp, part)
        return out, refresh

    def _records(self, tp: TopicPartition, p: messages.FetchResponse.PartitionData) -> list[ConsumerRecord]:
        data = p.records
        if not data:
            return []
        position = self.positions[tp]
        aborted_starts = sorted((a.first_offset, a.producer_id) for a in p.aborted_transactions or ()) \
            if self.isolation_level == READ_COMMITTED else []
        aborting: set[int] = set()
        out: list[ConsumerRecord] = []
        for batch in iter_batches(data, strict=False):
            if batch.last_offset < position:
                continue
            header = batch.header
            pid = getattr(header, "producer_id", -1)
            while aborted_starts and aborted_starts[0][0] <= batch.last_offset:
                aborting.add(aborted_starts.pop(0)[1])
            if batch.is_control:
                if pid in aborting:
                    aborting.discard(pid)  # the ABORT marker ends the aborted transaction
                position = batch.last_offset + 1
                continue
            if batch.is_transactional and pid in aborting:
                position = batch.last_offset + 1
                continue
            ttype = batch.timestamp_type
            for r in batch.records():
                if r.offset < position:
                    continue
                out.append(ConsumerRecord(tp[0], tp[1], r.offset, r.timestamp if batch.magic else -1, ttype, r.key,
                                          r.value, r.headers))
                position = r.offset + 1
            if batch.magic == 2:
                position = max(position, batch.last_offset + 1)
        self.positions[tp] = position
        return out
