"""The broker's config keys as one table (Kafka 3.9 ``KafkaConfig``'s ConfigDef): type, default, range.

Why a table: one row per key gives parsing, validation, defaults and (later) DescribeConfigs for the
BROKER resource from the same data, the way Kafka's ConfigDef does.  Values are parsed as ConfigDef
parses them: trimmed; INT/SHORT/LONG/DOUBLE must be numbers in range; BOOLEAN is true/false in any
case; LIST splits on commas (an empty string is an empty list); a null default stays None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafkatools.broker.topic_configs import BOOLEAN, DOUBLE, INT, LIST, LONG, STRING
from kafkatools.errors import KafkatoolsError

SHORT = 4  # DescribeConfigs config_type SHORT (topic_configs holds the others)
LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
_TYPE_NAMES = {BOOLEAN: "BOOLEAN", STRING: "STRING", INT: "INT", SHORT: "SHORT", LONG: "LONG", DOUBLE: "DOUBLE",
               LIST: "LIST"}
_RANGES = {SHORT: (-(2**15), 2**15 - 1), INT: (-(2**31), INT_MAX), LONG: (-(2**63), LONG_MAX)}


class ConfigError(KafkatoolsError):
    """A broker setting has a value of the wrong type or out of range (Kafka's ConfigException)."""


@dataclass(frozen=True, slots=True)
class ConfigKey:
    name: str
    type: int  # a DescribeConfigs config_type: BOOLEAN, STRING, INT, SHORT, LONG, DOUBLE, LIST
    default: str | None  # as it would be written in server.properties; None = null
    at_least: int | None = None
    one_of: tuple[str, ...] = ()


def _invalid(key: ConfigKey, raw: str, why: str) -> ConfigError:
    return ConfigError(f"Invalid value {raw} for configuration {key.name}: {why}")


def parse_value(key: ConfigKey, raw: str | None) -> Any:
    """The typed value of ``raw`` for ``key`` (None stays None); ConfigError with Kafka's message."""
    if raw is None:
        return None
    text = raw.strip()
    value: Any
    if key.type == BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise _invalid(key, raw, "Expected value to be either true or false")
        value = text.lower() == "true"
    elif key.type in _RANGES:
        lo, hi = _RANGES[key.type]
        try:
            value = int(text)
        except ValueError:
            raise _invalid(key, raw, f"Not a number of type {_TYPE_NAMES[key.type]}") from None
        if not lo <= value <= hi:
            raise _invalid(key, raw, f"Not a number of type {_TYPE_NAMES[key.type]}")
    elif key.type == DOUBLE:
        try:
            value = float(text)
        except ValueError:
            raise _invalid(key, raw, "Not a number of type DOUBLE") from None
    elif key.type == LIST:
        value = tuple(x.strip() for x in text.split(",")) if text else ()
    else:
        value = text
    if key.at_least is not None and value < key.at_least:
        raise _invalid(key, raw, f"Value must be at least {key.at_least}")
    items = value if isinstance(value, tuple) else (value,)
    if key.one_of and any(item not in key.one_of for item in items):
        raise _invalid(key, raw, f"String must be one of: {', '.join(key.one_of)}")
    return value


_L = str(LONG_MAX)
_ROWS: tuple[ConfigKey, ...] = (
    # identity, listeners, protocol
    ConfigKey("broker.id", INT, "-1"),
    ConfigKey("node.id", INT, "-1"),
    ConfigKey("broker.id.generation.enable", BOOLEAN, "true"),
    ConfigKey("reserved.broker.max.id", INT, "1000", at_least=0),
    ConfigKey("broker.rack", STRING, None),
    ConfigKey("listeners", LIST, "PLAINTEXT://:9092"),
    ConfigKey("advertised.listeners", STRING, None),
    ConfigKey("listener.security.protocol.map", STRING,
              "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"),
    ConfigKey("inter.broker.listener.name", STRING, None),
    ConfigKey("security.inter.broker.protocol", STRING, "PLAINTEXT"),
    ConfigKey("inter.broker.protocol.version", STRING, "3.9-IV0"),
    # network
    ConfigKey("num.network.threads", INT, "3", at_least=1),
    ConfigKey("num.io.threads", INT, "8", at_least=1),
    ConfigKey("socket.send.buffer.bytes", INT, "102400"),
    ConfigKey("socket.receive.buffer.bytes", INT, "102400"),
    ConfigKey("socket.request.max.bytes", INT, "104857600", at_least=1),
    ConfigKey("connections.max.idle.ms", LONG, "600000"),
    ConfigKey("queued.max.requests", INT, "500", at_least=1),
    # topics and logs
    ConfigKey("log.dirs", STRING, None),
    ConfigKey("log.dir", STRING, "/tmp/kafka-logs"),
    ConfigKey("num.partitions", INT, "1", at_least=1),
    ConfigKey("default.replication.factor", INT, "1"),
    ConfigKey("min.insync.replicas", INT, "1", at_least=1),
    ConfigKey("auto.create.topics.enable", BOOLEAN, "true"),
    ConfigKey("delete.topic.enable", BOOLEAN, "true"),
    ConfigKey("auto.leader.rebalance.enable", BOOLEAN, "true"),
    ConfigKey("controlled.shutdown.enable", BOOLEAN, "true"),
    ConfigKey("controlled.shutdown.max.retries", INT, "3", at_least=0),
    ConfigKey("controlled.shutdown.retry.backoff.ms", LONG, "5000", at_least=0),
    ConfigKey("leader.imbalance.check.interval.seconds", LONG, "300", at_least=1),
    ConfigKey("leader.imbalance.per.broker.percentage", INT, "10", at_least=0),
    ConfigKey("unclean.leader.election.enable", BOOLEAN, "false"),
    ConfigKey("num.recovery.threads.per.data.dir", INT, "1", at_least=1),
    ConfigKey("message.max.bytes", INT, "1048588", at_least=0),
    ConfigKey("compression.type", STRING, "producer",
              one_of=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    ConfigKey("log.cleanup.policy", LIST, "delete", one_of=("compact", "delete")),
    ConfigKey("log.cleaner.enable", BOOLEAN, "true"),
    ConfigKey("log.cleaner.delete.retention.ms", LONG, "86400000", at_least=0),
    ConfigKey("log.cleaner.min.compaction.lag.ms", LONG, "0", at_least=0),
    ConfigKey("log.cleaner.max.compaction.lag.ms", LONG, _L, at_least=1),
    ConfigKey("log.cleaner.min.cleanable.ratio", DOUBLE, "0.5"),
    ConfigKey("log.cleaner.backoff.ms", LONG, "15000", at_least=0),
    ConfigKey("log.cleaner.threads", INT, "1", at_least=0),
    ConfigKey("log.preallocate", BOOLEAN, "false"),
    ConfigKey("log.message.format.version", STRING, "3.0-IV1"),
    ConfigKey("log.message.timestamp.type", STRING, "CreateTime", one_of=("CreateTime", "LogAppendTime")),
    ConfigKey("log.message.timestamp.difference.max.ms", LONG, _L, at_least=0),
    ConfigKey("log.message.timestamp.before.max.ms", LONG, _L, at_least=0),
    ConfigKey("log.message.timestamp.after.max.ms", LONG, _L, at_least=0),
    ConfigKey("log.message.downconversion.enable", BOOLEAN, "true"),
    ConfigKey("log.segment.bytes", INT, "1073741824", at_least=14),
    ConfigKey("log.roll.ms", LONG, None, at_least=1),
    ConfigKey("log.roll.hours", INT, "168", at_least=1),
    ConfigKey("log.roll.jitter.ms", LONG, None, at_least=0),
    ConfigKey("log.roll.jitter.hours", INT, "0", at_least=0),
    ConfigKey("log.retention.ms", LONG, None),
    ConfigKey("log.retention.minutes", INT, None),
    ConfigKey("log.retention.hours", INT, "168"),
    ConfigKey("log.retention.bytes", LONG, "-1"),
    ConfigKey("log.retention.check.interval.ms", LONG, "300000", at_least=1),
    ConfigKey("log.index.size.max.bytes", INT, "10485760", at_least=4),
    ConfigKey("log.index.interval.bytes", INT, "4096", at_least=0),
    ConfigKey("log.flush.interval.messages", LONG, _L, at_least=1),
    ConfigKey("log.flush.interval.ms", LONG, None),
    ConfigKey("log.flush.scheduler.interval.ms", LONG, _L),
    ConfigKey("log.flush.offset.checkpoint.interval.ms", INT, "60000", at_least=0),
    ConfigKey("log.flush.start.offset.checkpoint.interval.ms", INT, "60000", at_least=0),
    ConfigKey("log.segment.delete.delay.ms", LONG, "60000", at_least=0),
    ConfigKey("log.local.retention.ms", LONG, "-2", at_least=-2),
    ConfigKey("log.local.retention.bytes", LONG, "-2", at_least=-2),
    ConfigKey("replica.high.watermark.checkpoint.interval.ms", LONG, "5000"),
    # ZooKeeper
    ConfigKey("zookeeper.connect", STRING, None),
    ConfigKey("zookeeper.session.timeout.ms", INT, "18000"),
    ConfigKey("zookeeper.connection.timeout.ms", INT, None),
    ConfigKey("zookeeper.set.acl", BOOLEAN, "false"),
    ConfigKey("zookeeper.max.in.flight.requests", INT, "10", at_least=1),
    # groups and offsets
    ConfigKey("group.initial.rebalance.delay.ms", INT, "3000"),
    ConfigKey("group.min.session.timeout.ms", INT, "6000"),
    ConfigKey("group.max.session.timeout.ms", INT, "1800000"),
    ConfigKey("group.max.size", INT, str(INT_MAX), at_least=1),
    ConfigKey("offsets.topic.replication.factor", SHORT, "3", at_least=1),
    ConfigKey("offsets.topic.num.partitions", INT, "50", at_least=1),
    ConfigKey("offsets.topic.segment.bytes", INT, "104857600", at_least=1),
    ConfigKey("offsets.retention.minutes", INT, "10080", at_least=1),
    ConfigKey("offsets.retention.check.interval.ms", LONG, "600000", at_least=1),
    ConfigKey("offsets.commit.timeout.ms", INT, "5000", at_least=1),
    # transactions and producer ids
    ConfigKey("transaction.state.log.replication.factor", SHORT, "3", at_least=1),
    ConfigKey("transaction.state.log.min.isr", INT, "2", at_least=1),
    ConfigKey("transaction.state.log.num.partitions", INT, "50", at_least=1),
    ConfigKey("transaction.state.log.segment.bytes", INT, "104857600", at_least=1),
    ConfigKey("transactional.id.expiration.ms", INT, "604800000", at_least=1),
    ConfigKey("transaction.max.timeout.ms", INT, "900000", at_least=1),
    ConfigKey("transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, "10000", at_least=1),
    ConfigKey("transaction.remove.expired.transaction.cleanup.interval.ms", INT, "3600000", at_least=1),
    ConfigKey("producer.id.expiration.ms", INT, "86400000", at_least=1),
    # replication
    ConfigKey("replica.lag.time.max.ms", LONG, "30000"),
    ConfigKey("replica.fetch.max.bytes", INT, "1048576", at_least=0),
    ConfigKey("replica.fetch.min.bytes", INT, "1"),
    ConfigKey("replica.fetch.wait.max.ms", INT, "500"),
    ConfigKey("replica.fetch.backoff.ms", INT, "1000", at_least=0),
    ConfigKey("replica.fetch.response.max.bytes", INT, "10485760", at_least=0),
    ConfigKey("replica.socket.timeout.ms", INT, "30000"),
    ConfigKey("num.replica.fetchers", INT, "1"),
)

BROKER_KEYS: dict[str, ConfigKey] = {row.name: row for row in _ROWS}
