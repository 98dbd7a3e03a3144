"""TxnOffsetCommit (key 28).

Versions: 0-3.
Behaviour: offsets a transactional producer commits for a consumer group (after AddOffsetsToTxn),
sent to the group's coordinator.  They are appended at once to the group's ``__consumer_offsets``
partition as a transactional batch of the producer (acks=-1) and stay pending until the
transaction's COMMIT marker makes them the group's offsets (ABORT drops them), so they survive a
crash of the broker (groups/txn_offsets.py).  When this broker also coordinates the transaction,
the producer must own it and the group must have been added (INVALID_TXN_STATE otherwise).
Errors: an unknown group coordinator -> NOT_COORDINATOR; unknown partitions ->
UNKNOWN_TOPIC_OR_PARTITION; metadata over 4096 bytes -> OFFSET_METADATA_TOO_LARGE; v3+: an unknown
member -> UNKNOWN_MEMBER_ID, a stale generation -> ILLEGAL_GENERATION; an older producer epoch than
the offsets partition knows -> INVALID_PRODUCER_EPOCH.  Transaction-level errors are repeated per
partition (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v3).
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.txn.coordinator import client_error
from kafkatools.codec import messages

API_KEY = 28
MIN_VERSION = 0
MAX_VERSION = 3

R = messages.TxnOffsetCommitResponse


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
    problem = b.groups.group_error(req.group_id)
    if problem is not None:
        return _reply(req, dict.fromkeys(keys, problem))
    if coordinator.describe(req.transactional_id) is not None:  # this broker coordinates it too: check it
        try:
            coordinator.txn_offset_commit(req.transactional_id, req.group_id, req.producer_id, req.producer_epoch)
        except errors.KafkaError as e:
            return _reply(req, dict.fromkeys(keys, client_error(e.error, ctx.version < 3)))
    generation, member_id = (req.generation_id, req.member_id) if ctx.version >= 3 else (-1, "")
    offsets = [(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch if ctx.version >= 2 else -1,
                p.committed_metadata) for t in req.topics for p in t.partitions]
    results = await b.groups.txn_offsets.commit(req.group_id, req.producer_id, req.producer_epoch, generation,
                                                member_id, offsets)
    return _reply(req, results)
