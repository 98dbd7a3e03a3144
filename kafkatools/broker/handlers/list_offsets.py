"""ListOffsets (key 2).

Versions: 0-9.
Behaviour: per partition, the offset for a timestamp spec: -1 latest (the high watermark, or the
last stable offset for read_committed), -2 earliest (log start), -3 max timestamp (v7+: offset
and timestamp of the record with the largest timestamp), -4 earliest-local and -5 latest-tiered
(v8/v9; without tiered storage they mean earliest and "none" respectively), else the first offset
whose timestamp is >= the given one (-1 offset when there is none).  v0 answers a list of offsets
(``old_style_offsets``) as Kafka 0.8 did: the latest/earliest offset alone.
Notes: a stale/future ``current_leader_epoch`` (v4+) -> FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH; a
follower of the partition -> NOT_LEADER_OR_FOLLOWER; a replica asking (replica_id >= 0) for "latest" gets
the log end offset, as a follower resolving OFFSET_OUT_OF_RANGE needs.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 2
MIN_VERSION = 0
MAX_VERSION = 9

R = messages.ListOffsetsResponse
LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -1, -2, -3, -4, -5


async def handle(ctx: RequestContext, req: messages.ListOffsetsRequest) -> messages.ListOffsetsResponse:
    b = ctx.broker
    committed = ctx.version >= 2 and req.isolation_level == 1
    topics: list[messages.ListOffsetsResponse.ListOffsetsTopicResponse] = []
    for t in req.topics:
        parts: list[messages.ListOffsetsResponse.ListOffsetsPartitionResponse] = []
        for p in t.partitions:
            out = R.ListOffsetsPartitionResponse(partition_index=p.partition_index)
            part = b.partition(t.name, p.partition_index)
            if part is None:
                out.error_code = errors.UNKNOWN_TOPIC_OR_PARTITION.code
                parts.append(out)
                continue
            if not part.is_leader:
                out.error_code = errors.NOT_LEADER_OR_FOLLOWER.code
                parts.append(out)
                continue
            epoch_error = part.check_leader_epoch(p.current_leader_epoch if ctx.version >= 4 else -1)
            if epoch_error is not None:
                out.error_code = epoch_error.code
                parts.append(out)
                continue
            ts = p.timestamp
            if ts == LATEST:
                if req.replica_id >= 0:  # a follower asks for the log end, not the high watermark
                    offset, found_ts = part.log_end_offset, -1
                else:
                    offset, found_ts = (part.last_stable_offset if committed else part.high_watermark), -1
            elif ts in (EARLIEST, EARLIEST_LOCAL):
                offset, found_ts = part.log_start_offset, -1
            elif ts == LATEST_TIERED:
                offset, found_ts = -1, -1
            elif ts == MAX_TIMESTAMP:
                offset, found_ts = part.max_timestamp_offset()
            elif ts < 0:
                out.error_code = errors.INVALID_REQUEST.code
                parts.append(out)
                continue
            else:
                offset, found_ts = part.offset_for_timestamp(ts)
            if ctx.version == 0:
                out.old_style_offsets = [offset] if offset >= 0 else []
            else:
                out.offset, out.timestamp = offset, found_ts
                out.leader_epoch = part.leader_epoch if offset >= 0 else -1
            parts.append(out)
        topics.append(R.ListOffsetsTopicResponse(name=t.name, partitions=parts))
    return R(topics=topics)
