"""Per-topic log configuration with Kafka 3.9's defaults (``LogConfig`` / ``TopicConfig``).

A plain frozen dataclass: the broker builds one per topic from ``log.*`` broker properties and
topic overrides (``from_properties``) and hands it to storage; storage never reads config files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

LONG_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LogConfig:
    segment_bytes: int = 1073741824  # segment.bytes / log.segment.bytes
    segment_ms: int = 604800000  # segment.ms / log.roll.ms (7 days)
    segment_jitter_ms: int = 0  # segment.jitter.ms
    segment_index_bytes: int = 10485760  # segment.index.bytes / log.index.size.max.bytes
    index_interval_bytes: int = 4096  # index.interval.bytes
    retention_ms: int = 604800000  # retention.ms / log.retention.hours=168; -1 = forever
    retention_bytes: int = -1  # retention.bytes; -1 = unlimited
    flush_messages: int = LONG_MAX  # flush.messages / log.flush.interval.messages
    flush_ms: int = LONG_MAX  # flush.ms / log.flush.interval.ms
    message_timestamp_type: str = "CreateTime"  # or "LogAppendTime"
    max_message_bytes: int = 1048588  # max.message.bytes / message.max.bytes
    min_insync_replicas: int = 1
    compression_type: str = "producer"
    cleanup_policy: str = "delete"  # "delete", "compact" or "compact,delete"
    file_delete_delay_ms: int = 60000
    delete_retention_ms: int = 86400000  # delete.retention.ms: how long the cleaner keeps tombstones
    min_cleanable_dirty_ratio: float = 0.5  # min.cleanable.dirty.ratio
    min_compaction_lag_ms: int = 0  # min.compaction.lag.ms
    max_compaction_lag_ms: int = LONG_MAX  # max.compaction.lag.ms

    @property
    def compact(self) -> bool:
        """``cleanup.policy`` includes ``compact`` (the log cleaner works on this log)."""
        return "compact" in self.cleanup_policy

    def with_overrides(self, props: Mapping[str, str]) -> LogConfig:
        """A copy with topic-level overrides (``segment.bytes`` style keys) applied."""
        changes: dict[str, object] = {}
        for key, value in props.items():
            name = TOPIC_KEYS.get(key)
            if name is None:
                continue
            current = getattr(self, name)
            if isinstance(current, str):
                changes[name] = value
            else:
                changes[name] = float(value) if isinstance(current, float) else int(value)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


TOPIC_KEYS: Final[dict[str, str]] = {
    "segment.bytes": "segment_bytes",
    "segment.ms": "segment_ms",
    "segment.jitter.ms": "segment_jitter_ms",
    "segment.index.bytes": "segment_index_bytes",
    "index.interval.bytes": "index_interval_bytes",
    "retention.ms": "retention_ms",
    "retention.bytes": "retention_bytes",
    "flush.messages": "flush_messages",
    "flush.ms": "flush_ms",
    "message.timestamp.type": "message_timestamp_type",
    "max.message.bytes": "max_message_bytes",
    "min.insync.replicas": "min_insync_replicas",
    "compression.type": "compression_type",
    "cleanup.policy": "cleanup_policy",
    "file.delete.delay.ms": "file_delete_delay_ms",
    "delete.retention.ms": "delete_retention_ms",
    "min.cleanable.dirty.ratio": "min_cleanable_dirty_ratio",
    "min.compaction.lag.ms": "min_compaction_lag_ms",
    "max.compaction.lag.ms": "max_compaction_lag_ms",
}

_BROKER_KEYS: Final[dict[str, str]] = {
    "log.segment.bytes": "segment.bytes",
    "log.roll.ms": "segment.ms",
    "log.roll.jitter.ms": "segment.jitter.ms",
    "log.index.size.max.bytes": "segment.index.bytes",
    "log.index.interval.bytes": "index.interval.bytes",
    "log.retention.ms": "retention.ms",
    "log.retention.bytes": "retention.bytes",
    "log.flush.interval.messages": "flush.messages",
    "log.flush.interval.ms": "flush.ms",
    "log.message.timestamp.type": "message.timestamp.type",
    "message.max.bytes": "max.message.bytes",
    "min.insync.replicas": "min.insync.replicas",
    "compression.type": "compression.type",
    "log.cleanup.policy": "cleanup.policy",
    "log.segment.delete.delay.ms": "file.delete.delay.ms",
    "log.cleaner.delete.retention.ms": "delete.retention.ms",
    "log.cleaner.min.cleanable.ratio": "min.cleanable.dirty.ratio",
    "log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms": "max.compaction.lag.ms",
}


def from_broker_properties(props: Mapping[str, str]) -> LogConfig:
    """Broker-level defaults from ``server.properties`` keys (``log.retention.hours`` etc. included)."""
    topic: dict[str, str] = {t: props[b] for b, t in _BROKER_KEYS.items() if b in props}
    if "retention.ms" not in topic:
        if "log.retention.minutes" in props:
            topic["retention.ms"] = str(int(props["log.retention.minutes"]) * 60_000)
        elif "log.retention.hours" in props:
            topic["retention.ms"] = str(int(props["log.retention.hours"]) * 3_600_000)
    if "segment.ms" not in topic and "log.roll.hours" in props:
        topic["segment.ms"] = str(int(props["log.roll.hours"]) * 3_600_000)
    return LogConfig().with_overrides(topic)
