"""A small asyncio producer: partitioner, per-partition batching into RecordBatch v2, acks, retries.

Mirrors the shape of Kafka's ``KafkaProducer`` (``RecordAccumulator`` + ``Sender``) at a fraction of
its size, because the console producer is its only user:

* ``send`` appends a record to the open batch of its partition (keyed records: murmur2 of the key,
  positive, modulo the partition count -- Kafka's ``BuiltInPartitioner.partitionForKey``; null keys
  stick to one partition until its batch closes, then move on, like the sticky partitioner).
* A batch closes when it reaches ``batch_size`` bytes or has waited ``linger_ms``; ``flush`` closes
  all of them at once.  The sender task sends closed batches, at most one per partition and one
  request per leader per round (one in flight per broker), and resolves their futures.
* Retriable errors (leader moved, connection lost, timeouts) refresh metadata and send the same
  batch again, up to ``retries`` times; with idempotence the batch keeps its sequence numbers, so a
  retry that the broker already appended is answered DUPLICATE_SEQUENCE_NUMBER, treated as success.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from dataclasses import dataclass, field

from kafkatools import errors
from kafkatools.client.cluster import KafkaClient
from kafkatools.client.connection import ConnectionClosedError
from kafkatools.codec import messages
from kafkatools.wire.records import Compression, Header, RecordInput, build_batch

PRODUCE = 0
INIT_PRODUCER_ID = 22
TopicPartition = tuple[str, int]
_RECORD_OVERHEAD = 12  # a record's varints and attributes, roughly; only used to size batches


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2`` (32-bit MurmurHash2, seed 0x9747b28c) as a signed 32-bit int."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    end = length & ~3
    for i in range(0, end, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[end + 2] << 16
    if rest >= 2:
        h ^= data[end + 1] << 8
    if rest >= 1:
        h ^= data[end]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for_key(key: bytes, partitions: int) -> int:
    """Kafka's default partition of a keyed record: ``toPositive(murmur2(key)) % partitions``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    topic: str
    partition: int
    offset: int  # -1 with acks=0


@dataclass(eq=False)
class _Batch:
    topic: str
    partition: int
    created: float
    records: list[RecordInput] = field(default_factory=list)
    size: int = 0
    future: asyncio.Future[int] | None = None  # resolves to the base offset
    attempts: int = 0
    base_sequence: int = -1
    data: bytes | None = None

    @property
    def tp(self) -> TopicPartition:
        return (self.topic, self.partition)


class Delivery:
    """The outcome of one ``send``: await ``result()`` for where the record landed."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self._batch, self._index = batch, index

    async def result(self) -> RecordMetadata:
        assert self._batch.future is not None
        base = await asyncio.shield(self._batch.future)
        return RecordMetadata(self._batch.topic, self._batch.partition, -1 if base < 0 else base + self._index)


class Producer:
    def __init__(self, client: KafkaClient, *, acks: int = -1, compression: Compression = Compression.NONE,
                 linger_ms: int = 0, batch_size: int = 16384, retries: int = 3, retry_backoff_ms: int = 100,
                 request_timeout_ms: int = 30000, max_block_ms: int = 60000, max_request_size: int = 1048576,
                 buffer_memory: int = 32 * 1024 * 1024, idempotent: bool = False) -> None:
        if acks not in (-1, 0, 1):
            raise errors.KafkaError(errors.INVALID_REQUIRED_ACKS, f"acks must be -1, 0 or 1, not {acks}")
        if idempotent and acks != -1:
            raise errors.KafkaError(errors.INVALID_CONFIG, "Must set acks to all in order to use the idempotent "
                                                          "producer. Otherwise we cannot guarantee idempotence.")
        self.client = client
        self.acks, self.compression, self.linger = acks, compression, linger_ms / 1000
        self.batch_size, self.retries, self.backoff = batch_size, retries, retry_backoff_ms / 1000
        self.request_timeout_ms, self.max_block = request_timeout_ms, max_block_ms / 1000
        self.max_request_size, self.buffer_memory, self.idempotent = max_request_size, buffer_memory, idempotent
        self._open: dict[TopicPartition, _Batch] = {}
        self._ready: deque[_Batch] = deque()
        self._sticky: dict[str, int] = {}
        self._buffered = 0
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._flushing = 0
        self._sender: asyncio.Task[None] | None = None
        self._producer_id, self._epoch = -1, -1
        self._sequences: dict[TopicPartition, int] = {}

    async def __aenter__(self) -> Producer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- metadata -------------------------------------------------------------------------------------
    async def partition_count(self, topic: str) -> int:
        """Partitions of ``topic``, asking (and allowing auto-creation) until ``max_block_ms`` runs out."""
        deadline = time.monotonic() + self.max_block
        while True:
            meta = self.client.topics.get(topic)
            if meta is not None and meta.partitions:
                return len(meta.partitions)
            resp = await self.client.refresh_metadata([topic], allow_auto_create=True)
            found = next((t for t in resp.topics if t.name == topic), None)
            if found is not None and found.error_code == errors.INVALID_TOPIC_EXCEPTION.code:
                raise errors.KafkaError(errors.INVALID_TOPIC_EXCEPTION, f"Invalid topics: [{topic}]")
            if topic in self.client.topics and self.client.topics[topic].partitions:
                continue
            if time.monotonic() >= deadline:
                raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {topic} not present in metadata "
                                                                          f"after {int(self.max_block * 1000)} ms.")
            await asyncio.sleep(self.backoff)

    # -- accumulating ---------------------------------------------------------------------------------
    async def send(self, topic: str, value: bytes | None, key: bytes | None = None, headers: list[Header] | None = None,
                   partition: int | None = None, timestamp: int | None = None) -> Delivery:
        """Queue one record; waits only for metadata or when ``buffer_memory`` is full."""
        if self._sender is None:
            await self._start()
        size = _RECORD_OVERHEAD + len(key or b"") + len(value or b"") + sum(
            len(k) + len(v or b"") + 4 for k, v in headers or ())
        if size > self.max_request_size:
            raise errors.KafkaError(errors.MESSAGE_TOO_LARGE, f"The message is {size} bytes when serialized which is "
                                    f"larger than {self.max_request_size}, which is the value of the "
                                    "max.request.size configuration.")
        while self._buffered + size > self.buffer_memory and self._buffered:
            self._space.clear()
            await self._space.wait()
        count = await self.partition_count(topic)
        if partition is None:
            if key is not None:
                partition = partition_for_key(key, count)
            else:
                partition = self._sticky.get(topic)
                if partition is None or partition >= count:
                    partition = self._sticky[topic] = random.randrange(count)
        elif not 0 <= partition < count:
            raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION,
                                    f"Partition {partition} of topic {topic} with partition count {count} is not "
                                    "present in metadata.")
        tp = (topic, partition)
        batch = self._open.get(tp)
        if batch is not None and batch.records and batch.size + size > self.batch_size:
            self._close(batch)
            batch = None
        if batch is None:
            batch = self._open[tp] = _Batch(topic, partition, time.monotonic())
            batch.future = asyncio.get_running_loop().create_future()
            if len(self._open) == 1:
                self._wake.set()  # the sender now has a linger deadline to wait for
        batch.records.append(RecordInput(key, value, timestamp, tuple(headers or ())))
        batch.size += size
        self._buffered += size
        if batch.size >= self.batch_size:
            self._close(batch)
        return Delivery(batch, len(batch.records) - 1)

    def _close(self, batch: _Batch) -> None:
        del self._open[batch.tp]
        self._ready.append(batch)
        if self._sticky.get(batch.topic) == batch.partition:
            count = len(self.client.topics[batch.topic].partitions) if batch.topic in self.client.topics else 1
            choices = [p for p in range(count) if p != batch.partition] or [batch.partition]
            self._sticky[batch.topic] = random.choice(choices)
        self._wake.set()

    async def flush(self) -> None:
        """Send everything queued so far and wait until each batch is acknowledged or failed."""
        for batch in list(self._open.values()):
            self._close(batch)
        pending = [b.future for b in self._ready if b.future is not None]
        if pending:
            await asyncio.wait(pending)

    async def close(self) -> None:
        if self._sender is None:
            return
        try:
            await self.flush()
        finally:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None

    # -- sending --------------------------------------------------------------------------------------
    async def _start(self) -> None:
        if self.idempotent:
            conn = await self.client.any_connection()
            resp: messages.InitProducerIdResponse = await conn.request(messages.InitProducerIdRequest(
                transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
            if resp.error_code:
                raise errors.KafkaError(errors.error_for(resp.error_code), "InitProducerId failed")
            self._producer_id, self._epoch = resp.producer_id, resp.producer_epoch
        self._sender = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            if not self._ready:
                self._wake.clear()
                now = time.monotonic()
                oldest = min((b.created for b in self._open.values()), default=None)
                if oldest is not None and now - oldest >= self.linger:
                    for b in [b for b in self._open.values() if now - b.created >= self.linger]:
                        self._close(b)
                    continue
                timeout = None if oldest is None else self.linger - (now - oldest)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            round_: dict[TopicPartition, _Batch] = {}
            later: deque[_Batch] = deque()
            while self._ready:
                b = self._ready.popleft()
                if b.tp in round_:
                    later.append(b)
                else:
                    round_[b.tp] = b
            self._ready = later
            by_leader: dict[int, list[_Batch]] = {}
            for b in round_.values():
                try:
                    leader = self.client.leader_of(b.topic, b.partition)
                except errors.KafkaError:
                    leader = -1
                by_leader.setdefault(leader, []).append(b)
            retry: list[_Batch] = []
            results = await asyncio.gather(*(self._send_to(leader, bs) for leader, bs in by_leader.items()))
            for failed in results:
                retry += failed
            if retry:
                for b in sorted(retry, key=lambda b: b.created, reverse=True):
                    self._ready.appendleft(b)
                await asyncio.sleep(self.backoff)
                with contextlib.suppress(errors.KafkatoolsError, OSError):
                    await self.client.refresh_metadata(sorted({b.topic for b in retry}))

    def _encode(self, b: _Batch) -> bytes:
        if b.data is None:
            if self.idempotent:
                b.base_sequence = self._sequences.get(b.tp, 0)
                self._sequences[b.tp] = (b.base_sequence + len(b.records)) & 0x7FFFFFFF
            b.data = build_batch(b.records, compression=self.compression, producer_id=self._producer_id,
                                 producer_epoch=self._epoch, base_sequence=b.base_sequence)
        return b.data

    async def _send_to(self, leader: int, batches: list[_Batch]) -> list[_Batch]:
        """Send one request to ``leader``; the batches to retry."""
        R = messages.ProduceRequest
        topics: dict[str, list[messages.ProduceRequest.PartitionProduceData]] = {}
        for b in batches:
            topics.setdefault(b.topic, []).append(R.PartitionProduceData(index=b.partition, records=self._encode(b)))
        req = R(transactional_id=None, acks=self.acks, timeout_ms=self.request_timeout_ms,
                topic_data=[R.TopicProduceData(name=t, partition_data=ps) for t, ps in topics.items()])
        try:
            if leader < 0:
                raise errors.KafkaError(errors.LEADER_NOT_AVAILABLE, "no leader")
            conn = await self.client.connection(leader)
            version = conn.version_for(PRODUCE)
            if version < 3:
                raise errors.KafkaError(errors.UNSUPPORTED_VERSION, f"the broker at {conn.address} only speaks "
                                        f"Produce v{version}; RecordBatch v2 needs v3")
            if self.acks == 0:
                conn.send_no_response(req, version)
                for b in batches:
                    self._done(b, -1, None)
                return []
            resp: messages.ProduceResponse = await conn.request(req, version=version)
        except (ConnectionClosedError, OSError, errors.KafkaError) as e:
            err = e if isinstance(e, errors.KafkaError) else errors.KafkaError(errors.BY_NAME["NETWORK_EXCEPTION"],
                                                                                 str(e))
            return self._retry_or_fail(batches, err)
        answers = {(t.name, p.index): p for t in resp.responses for p in t.partition_responses}
        retry: list[_Batch] = []
        for b in batches:
            p = answers.get(b.tp)
            if p is None:
                retry += self._retry_or_fail([b], errors.KafkaError(errors.UNKNOWN_SERVER_ERROR, "no answer"))
            elif p.error_code in (0, errors.DUPLICATE_SEQUENCE_NUMBER.code):
                self._done(b, p.base_offset, None)
            else:
                err = errors.KafkaError(errors.error_for(p.error_code), p.error_message or "")
                retry += self._retry_or_fail([b], err)
        return retry

    def _retry_or_fail(self, batches: list[_Batch], err: errors.KafkaError) -> list[_Batch]:
        retry = []
        for b in batches:
            b.attempts += 1
            if err.retriable and b.attempts <= self.retries:
                retry.append(b)
            else:
                self._done(b, -1, err)
        return retry

    def _done(self, b: _Batch, base_offset: int, error: BaseException | None) -> None:
        self._buffered -= b.size
        self._space.set()
        if b.future is not None and not b.future.done():
            if error is None:
                b.future.set_result(base_offset)
            else:
                b.future.set_exception(error)
                b.future.exception()  # retrieved: callers that never await a result are not warned
