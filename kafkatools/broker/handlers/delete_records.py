"""DeleteRecords (key 21).

Versions: 0-2.
Behaviour: advances each partition's log start offset to the given offset (-1 = the high
watermark); whole segments below it are deleted, and the new low watermark is returned.  An
offset above the high watermark -> OFFSET_OUT_OF_RANGE; unknown partition ->
UNKNOWN_TOPIC_OR_PARTITION.
Notes: the log-start-offset-checkpoint file is rewritten so the change survives a restart.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 21
MIN_VERSION = 0
MAX_VERSION = 2

R = messages.DeleteRecordsResponse


async def handle(ctx: RequestContext, req: messages.DeleteRecordsRequest) -> messages.DeleteRecordsResponse:
    b = ctx.broker
    topics: list[messages.DeleteRecordsResponse.DeleteRecordsTopicResult] = []
    for t in req.topics:
        parts: list[messages.DeleteRecordsResponse.DeleteRecordsPartitionResult] = []
        for p in t.partitions:
            part = b.partition(t.name, p.partition_index)
            if part is None:
                parts.append(R.DeleteRecordsPartitionResult(
                    partition_index=p.partition_index, low_watermark=-1,
                    error_code=errors.UNKNOWN_TOPIC_OR_PARTITION.code))
                continue
            try:
                low = part.delete_records_before(p.offset)
            except errors.KafkaError as e:
                parts.append(R.DeleteRecordsPartitionResult(
                    partition_index=p.partition_index, low_watermark=-1, error_code=e.code))
                continue
            parts.append(R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=low))
        topics.append(R.DeleteRecordsTopicResult(name=t.name, partitions=parts))
    b.checkpoint_log_start_offsets()
    return R(topics=topics)
