"""OffsetForLeaderEpoch (key 23).

Versions: 0-4.
Behaviour: for each partition, the end offset of the requested leader epoch: the start offset of
the first epoch larger than it, or the log end offset when it is the latest epoch; an epoch
older than everything known -> (-1 epoch, -1 offset)... (KIP-101/KIP-279 semantics, answered
from the partition's leader-epoch cache).  v1+ returns the epoch actually found.
Notes: librdkafka uses exactly v2 and the Java consumer uses it to validate positions after a
leader change; followers (replica_id >= 0, v3+) use it to truncate.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 23
MIN_VERSION = 0
MAX_VERSION = 4

R = messages.OffsetForLeaderEpochResponse


async def handle(
    ctx: RequestContext, req: messages.OffsetForLeaderEpochRequest
) -> messages.OffsetForLeaderEpochResponse:
    b = ctx.broker
    topics: list[messages.OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult] = []
    for t in req.topics:
        parts: list[messages.OffsetForLeaderEpochResponse.EpochEndOffset] = []
        for p in t.partitions:
            part = b.partition(t.topic, p.partition)
            if part is None:
                parts.append(R.EpochEndOffset(error_code=errors.UNKNOWN_TOPIC_OR_PARTITION.code, partition=p.partition))
                continue
            epoch_error = (part.check_leader_epoch(p.current_leader_epoch if ctx.version >= 2 else -1)
                           if part.is_leader else errors.NOT_LEADER_OR_FOLLOWER)
            if epoch_error is not None:
                parts.append(R.EpochEndOffset(error_code=epoch_error.code, partition=p.partition))
                continue
            epoch, end = part.end_offset_for_epoch(p.leader_epoch)
            parts.append(R.EpochEndOffset(error_code=0, partition=p.partition, leader_epoch=epoch, end_offset=end))
        topics.append(R.OffsetForLeaderTopicResult(topic=t.topic, partitions=parts))
    return R(topics=topics)
