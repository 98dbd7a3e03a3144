"""TxnOffsetCommit (key 28).

Versions: 0-3.
Behaviour: offsets a transactional producer commits for a consumer group (after AddOffsetsToTxn):
held by the transaction coordinator and written to ``__consumer_offsets`` when the transaction
commits, dropped when it aborts.  Unknown partitions -> UNKNOWN_TOPIC_OR_PARTITION; metadata over
4096 bytes -> OFFSET_METADATA_TOO_LARGE; v3+ with a generation: a stale one -> ILLEGAL_GENERATION.
Transaction-level errors are repeated per partition (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v3).
Notes: the pending offsets live in memory: a crash between the commit decision and the offsets
write loses them (the transaction's data is still committed).
"""

from __future__ import annotations

import time

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.groups.group import CommittedOffset
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 28
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.TxnOffsetCommitResponse
METADATA_MAX = 4096


def _reply(req: messages.TxnOffsetCommitRequest,
           results: dict[tuple[str, int], errors.ErrorCode]) -> messages.TxnOffsetCommitResponse:
    return R(topics=[R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
        R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index,
                                           error_code=results[(t.name, p.partition_index)].code)
        for p in t.partitions]) for t in req.topics])


async def handle(ctx: RequestContext, req: messages.TxnOffsetCommitRequest) -> messages.TxnOffsetCommitResponse:
    b = ctx.broker
    keys = [(t.name, p.partition_index) for t in req.topics for p in t.partitions]
    coordinator = b.transactions
    if coordinator is None:
        return _reply(req, dict.fromkeys(keys, errors.COORDINATOR_NOT_AVAILABLE))
    group = b.groups.groups.get(req.group_id)
    if ctx.version >= 3 and req.generation_id >= 0 and group is not None and req.generation_id != group.generation:
        return _reply(req, dict.fromkeys(keys, errors.BY_NAME["ILLEGAL_GENERATION"]))
    now = int(time.time() * 1000)
    results: dict[tuple[str, int], errors.ErrorCode] = {}
    accepted: dict[tuple[str, int], CommittedOffset] = {}
    for t in req.topics:
        for p in t.partitions:
            key = (t.name, p.partition_index)
            if p.committed_metadata is not None and len(p.committed_metadata.encode()) > METADATA_MAX:
                results[key] = errors.BY_NAME["OFFSET_METADATA_TOO_LARGE"]
            elif key not in b.partitions:
                results[key] = errors.UNKNOWN_TOPIC_OR_PARTITION
            else:
                epoch = p.committed_leader_epoch if ctx.version >= 2 else -1
                accepted[key] = CommittedOffset(p.committed_offset, epoch, p.committed_metadata or "", now)
                results[key] = errors.NONE
    if accepted:
        try:
            coordinator.txn_offset_commit(req.transactional_id, req.group_id, req.producer_id, req.producer_epoch,
                                          accepted)
        except errors.KafkaError as e:
            results.update(dict.fromkeys(accepted, client_error(e.error, ctx.version < 3)))
    return _reply(req, results)
