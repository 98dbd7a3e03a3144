"""OffsetFetch (key 9).

Versions: 0-9 (v8+ asks for several groups at once).
Behaviour: committed offset, leader epoch (v5+) and metadata per partition; a partition without a
commit gets offset -1 and empty metadata with no error.  Null topics (v2+) = every partition the
group has committed.  Offsets of unfinished transactions (TxnOffsetCommit) are not shown; with
``require_stable`` (v7+) a partition that has some answers UNSTABLE_OFFSET_COMMIT (offset -1), so a
read_committed consumer retries until the transaction ends.  Group-level errors (NOT_COORDINATOR):
v0-1 per requested partition, v2-7 at the top level, v8+ in the group's entry.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.groups.group import CommittedOffset
from kafkatools.codec import messages

API_KEY = 9
MIN_VERSION = 0
MAX_VERSION = 9

R = messages.OffsetFetchResponse
UNSTABLE = errors.BY_NAME["UNSTABLE_OFFSET_COMMIT"].code


def _lookup(ctx: RequestContext, group_id: str, topics: list[tuple[str, list[int]]] | None, require_stable: bool
            ) -> dict[str, list[tuple[int, CommittedOffset | None, int]]]:
    """topic -> (partition, committed offset, error code)."""
    wanted = None if topics is None else [(t, p) for t, ps in topics for p in ps]
    groups = ctx.broker.groups
    found = groups.fetch_offsets(group_id, wanted)
    unstable = groups.txn_offsets.unstable(group_id, found) if require_stable else set()
    by_topic: dict[str, list[tuple[int, CommittedOffset | None, int]]] = {}
    for (topic, partition), committed in found.items():
        if (topic, partition) in unstable:
            by_topic.setdefault(topic, []).append((partition, None, UNSTABLE))
        else:
            by_topic.setdefault(topic, []).append((partition, committed, 0))
    return by_topic


def _failed(ctx: RequestContext, req: messages.OffsetFetchRequest,
            error: errors.ErrorCode) -> messages.OffsetFetchResponse:
    if ctx.version >= 2:
        return R(error_code=error.code, topics=[])
    return R(topics=[R.OffsetFetchResponseTopic(name=t.name, partitions=[
        R.OffsetFetchResponsePartition(partition_index=p, committed_offset=-1, metadata="", error_code=error.code)
        for p in t.partition_indexes]) for t in req.topics or []])


async def handle(ctx: RequestContext, req: messages.OffsetFetchRequest) -> messages.OffsetFetchResponse:
    groups_api = ctx.broker.groups
    if ctx.version >= 8:
        groups = []
        for g in req.groups:
            error = groups_api.group_error(g.group_id, require_id=False)
            if error is not None:
                groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, topics=[], error_code=error.code))
                continue
            topics = None if g.topics is None else [(t.name, list(t.partition_indexes)) for t in g.topics]
            groups.append(R.OffsetFetchResponseGroup(group_id=g.group_id, topics=[
                R.OffsetFetchResponseTopics(name=name, partitions=[
                    R.OffsetFetchResponsePartitions(
                        partition_index=p, committed_offset=c.offset if c else -1,
                        committed_leader_epoch=c.leader_epoch if c else -1, metadata=c.metadata if c else "",
                        error_code=code) for p, c, code in parts])
                for name, parts in _lookup(ctx, g.group_id, topics, req.require_stable).items()]))
        return R(groups=groups)
    error = groups_api.group_error(req.group_id, require_id=False)
    if error is not None:
        return _failed(ctx, req, error)
    topics = None if req.topics is None else [(t.name, list(t.partition_indexes)) for t in req.topics]
    return R(topics=[
        R.OffsetFetchResponseTopic(name=name, partitions=[
            R.OffsetFetchResponsePartition(
                partition_index=p, committed_offset=c.offset if c else -1,
                committed_leader_epoch=c.leader_epoch if c else -1, metadata=c.metadata if c else "",
                error_code=code)
            for p, c, code in parts])
        for name, parts in _lookup(ctx, req.group_id, topics, ctx.version >= 7 and req.require_stable).items()])
