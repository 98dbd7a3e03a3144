"""OffsetCommit (key 8).

Versions: 0-9.
Behaviour: stores offsets in ``__consumer_offsets`` (see ``broker/groups/coordinator.py`` for the
member/generation rules).  v0 commits had ZooKeeper semantics in Kafka 0.8; here every version
stores in the offsets topic.  v2-4's retention time is ignored (``offsets.retention.minutes``
applies, as in Kafka >= 2.1).  Unknown partitions -> UNKNOWN_TOPIC_OR_PARTITION; metadata over
4096 bytes -> OFFSET_METADATA_TOO_LARGE; group-level errors (INVALID_GROUP_ID, NOT_COORDINATOR)
are repeated for every partition (the response has no top-level error).  The answer waits until
the commit is replicated to the ISR of the offsets partition (acks=-1, ``offsets.commit.timeout.ms``
-> REQUEST_TIMED_OUT; leadership lost meanwhile -> NOT_COORDINATOR).
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 8
MIN_VERSION = 0
MAX_VERSION = 9

R = messages.OffsetCommitResponse


async def handle(ctx: RequestContext, req: messages.OffsetCommitRequest) -> messages.OffsetCommitResponse:
    v = ctx.version
    offsets = [(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch if v >= 6 else -1,
                p.committed_metadata) for t in req.topics for p in t.partitions]
    ctx.broker.ensure_offsets_topic()
    error = ctx.broker.groups.group_error(req.group_id)
    if error is not None:
        results = {(t, p): error for t, p, *_ in offsets}
    else:
        results = await ctx.broker.groups.commit_offsets(
            req.group_id, req.generation_id_or_member_epoch if v >= 1 else -1, req.member_id if v >= 1 else "",
            req.group_instance_id if v >= 7 else None, offsets)
    return R(topics=[R.OffsetCommitResponseTopic(name=t.name, partitions=[
        R.OffsetCommitResponsePartition(partition_index=p.partition_index,
                                        error_code=results[(t.name, p.partition_index)].code)
        for p in t.partitions]) for t in req.topics])
