"""DescribeLogDirs (key 35).

Versions: 0-4.
Behaviour: for each log dir of this broker, the partitions it holds (all, or those asked for)
with their size in bytes and offset lag (0 on a leader); v4 adds total and usable bytes of the
file system.  Used by ``kafka-log-dirs --describe``.
"""

from __future__ import annotations

from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 35
MIN_VERSION = 0
MAX_VERSION = 4

R = messages.DescribeLogDirsResponse


async def handle(ctx: RequestContext, req: messages.DescribeLogDirsRequest) -> messages.DescribeLogDirsResponse:
    b = ctx.broker
    wanted: dict[str, set[int]] | None = None
    if req.topics is not None:
        wanted = {t.topic: set(t.partitions) for t in req.topics}
    results: list[messages.DescribeLogDirsResponse.DescribeLogDirsResult] = []
    for log_dir, usage in b.log_dir_usage().items():
        by_topic: dict[str, list[messages.DescribeLogDirsResponse.DescribeLogDirsPartition]] = {}
        for (topic, index), size in sorted(usage.partition_sizes.items()):
            if wanted is not None and index not in wanted.get(topic, ()):
                continue
            by_topic.setdefault(topic, []).append(R.DescribeLogDirsPartition(
                partition_index=index, partition_size=size, offset_lag=0, is_future_key=False))
        results.append(R.DescribeLogDirsResult(
            error_code=0, log_dir=log_dir,
            topics=[R.DescribeLogDirsTopic(name=n, partitions=ps) for n, ps in by_topic.items()],
            total_bytes=usage.total_bytes, usable_bytes=usage.usable_bytes))
    return R(results=results)
