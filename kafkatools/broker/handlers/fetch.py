"""Fetch (key 1).

Versions: 4-17 served from RecordBatch v2 segments as stored (file bytes go out with sendfile);
v0-3 are answered too, with the batches down-converted to the legacy message format those
versions require (Partition.read_legacy).
Behaviour: per partition — unknown -> UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id in v13+);
a stale or future ``current_leader_epoch`` -> FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH; an
offset outside [log start, log end] -> OFFSET_OUT_OF_RANGE.  Reads stop at the high watermark
(read_uncommitted) or last stable offset (read_committed, with the aborted transactions overlapping
the read, from the partition's txn index: no batch is parsed), at ``partition_max_bytes`` and at the
response's ``max_bytes``, except that the first partition with data always gets one whole batch
(so a batch larger than the limits still makes progress).  If fewer than ``min_bytes`` are ready
the request waits (without polling) for an append to one of its partitions or ``max_wait_ms``.
Followers (``replica_id`` >= 0, in ``replica_state`` from v15) read up to the log end instead of
the HW; their fetch offset tells the leader their log end (ReplicaManager.on_follower_fetch), and
from v12 a ``last_fetched_epoch`` that diverged from the leader's log gets a ``diverging_epoch``
(the leader's end of that epoch) instead of records.  A broker that is not the leader answers
NOT_LEADER_OR_FOLLOWER.
Notes: no incremental fetch sessions: session id 0 tells clients to keep sending full requests
(KIP-227 allows it); an epoch >= 1 for an unknown session -> FETCH_SESSION_ID_NOT_FOUND.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 1
MIN_VERSION = 0
MAX_VERSION = 17

R = messages.FetchResponse
ZERO_UUID = uuid.UUID(int=0)
READ_COMMITTED = 1


def _error(index: int, error: errors.ErrorCode) -> R.PartitionData:
    return R.PartitionData(partition_index=index, error_code=error.code, high_watermark=-1,
                           last_stable_offset=-1, log_start_offset=-1, records=b"")


def _collect(ctx: RequestContext, req: messages.FetchRequest) -> tuple[list[R.FetchableTopicResponse], int, list[Any]]:
    b = ctx.broker
    v = ctx.version
    remaining = req.max_bytes if v >= 3 else 0x7FFFFFFF
    total = 0
    first_batch_given = False
    waitables: list[Any] = []
    topics: list[R.FetchableTopicResponse] = []
    committed = v >= 4 and req.isolation_level == READ_COMMITTED
    replica_id = req.replica_id if v <= 14 else req.replica_state.replica_id
    for ft in req.topics:
        if v >= 13:
            state = b.cluster.topic_by_id(ft.topic_id)
            name = state.name if state is not None else None
        else:
            name = ft.topic
        parts: list[R.PartitionData] = []
        for fp in ft.partitions:
            part = b.partition(name, fp.partition) if name is not None else None
            if part is None:
                unknown = errors.UNKNOWN_TOPIC_ID if v >= 13 else errors.UNKNOWN_TOPIC_OR_PARTITION
                parts.append(_error(fp.partition, unknown))
                continue
            epoch_error = (part.check_leader_epoch(fp.current_leader_epoch) if part.is_leader
                           else errors.NOT_LEADER_OR_FOLLOWER)
            if epoch_error is None and replica_id >= 0:
                if v >= 12 and fp.last_fetched_epoch >= 0:
                    diverging = _diverging(part, fp.last_fetched_epoch, fp.fetch_offset)
                    if diverging is not None:
                        parts.append(diverging)
                        continue
                epoch_error = b.replicas.on_follower_fetch(part, replica_id, fp.fetch_offset)
            if epoch_error is not None:
                parts.append(_error(fp.partition, epoch_error))
                continue
            waitables.append(part)
            limit = min(fp.partition_max_bytes, remaining)
            try:
                read = part.read_for_fetch(
                    fp.fetch_offset, max(limit, 0), committed=committed,
                    min_one_batch=not first_batch_given, legacy_magic=(None if v >= 4 else (1 if v >= 2 else 0)),
                    to_log_end=replica_id >= 0)
            except errors.KafkaError as e:
                parts.append(_error(fp.partition, e.error))
                continue
            size = len(read.records) if read.records is not None else 0
            if size:
                first_batch_given = True
            total += size
            remaining -= size
            parts.append(R.PartitionData(
                partition_index=fp.partition, error_code=0, high_watermark=read.high_watermark,
                last_stable_offset=read.last_stable_offset, log_start_offset=read.log_start_offset,
                aborted_transactions=None if read.aborted is None else [
                    R.AbortedTransaction(producer_id=a.producer_id, first_offset=a.first_offset)
                    for a in read.aborted],
                records=read.records if read.records is not None else b""))
        topics.append(R.FetchableTopicResponse(topic=name or "", topic_id=ft.topic_id, partitions=parts))
    return topics, total, waitables


def _diverging(part: Any, last_fetched_epoch: int, fetch_offset: int) -> R.PartitionData | None:
    """KIP-595 style divergence check: the follower's last epoch ends earlier here (or is unknown)."""
    epoch, end = part.end_offset_for_epoch(last_fetched_epoch)
    if epoch < 0 or (epoch == last_fetched_epoch and end >= fetch_offset):
        return None
    return R.PartitionData(partition_index=part.index, error_code=0, high_watermark=part.high_watermark,
                           last_stable_offset=part.last_stable_offset, log_start_offset=part.log_start_offset,
                           diverging_epoch=R.EpochEndOffset(epoch=epoch, end_offset=end), records=b"")


async def handle(ctx: RequestContext, req: messages.FetchRequest) -> messages.FetchResponse:
    if ctx.version >= 7 and req.session_id != 0 and req.session_epoch not in (-1, 0):
        return R(error_code=errors.BY_NAME["FETCH_SESSION_ID_NOT_FOUND"].code, session_id=0)
    deadline = time.monotonic() + max(req.max_wait_ms, 0) / 1000
    while True:
        topics, total, waitables = _collect(ctx, req)
        delay = deadline - time.monotonic()
        if total >= req.min_bytes or delay <= 0 or not waitables:
            return R(error_code=0, session_id=0, responses=topics)
        await ctx.broker.wait_for_appends(waitables, delay)
        if asyncio.current_task() is None:  # pragma: no cover - defensive
            break
    return R(error_code=0, session_id=0, responses=topics)
