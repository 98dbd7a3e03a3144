"""Kafka 3.9's topic-level configs: type, default, broker synonym, and validation.

One row per config that ``kafka-topics --config`` / ``kafka-configs`` may set.  The broker uses the
table to validate CreateTopics/AlterConfigs (INVALID_CONFIG with Kafka's message) and to answer
DescribeConfigs with the right value *and source*: a topic override is DYNAMIC_TOPIC_CONFIG; a
value set in server.properties under the config's *primary* broker synonym is
STATIC_BROKER_CONFIG; anything else is DEFAULT_CONFIG — which is why ``log.retention.hours`` in
server.properties does not make ``retention.ms`` appear under ``Configs:`` (reference c.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# DescribeConfigs config_source values
DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5
# DescribeConfigs config_type values (v3+)
BOOLEAN, STRING, INT, LONG, DOUBLE, LIST = 1, 2, 3, 5, 6, 7
LONG_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class TopicConfigDef:
    name: str
    type: int
    default: str
    synonym: str | None  # primary broker key ("log.segment.bytes"), None if the broker has none
    check: Callable[[str], str | None] | None = None  # returns a problem description, or None


def _one_of(*allowed: str, is_list: bool = False) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        for item in ([x.strip() for x in v.split(",")] if is_list else [v]):
            if item not in allowed:
                return f"String must be one of: {', '.join(allowed)}"
        return None
    return check


def _at_least(lo: int) -> Callable[[str], str | None]:
    return lambda v: None if int(v) >= lo else f"Value must be at least {lo}"


_ROWS = [
    TopicConfigDef("cleanup.policy", LIST, "delete", "log.cleanup.policy", _one_of("compact", "delete", is_list=True)),
    TopicConfigDef("compression.gzip.level", INT, "-1", "compression.gzip.level"),
    TopicConfigDef("compression.lz4.level", INT, "9", "compression.lz4.level"),
    TopicConfigDef("compression.type", STRING, "producer", "compression.type",
                   _one_of("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    TopicConfigDef("compression.zstd.level", INT, "3", "compression.zstd.level"),
    TopicConfigDef("delete.retention.ms", LONG, "86400000", "log.cleaner.delete.retention.ms", _at_least(0)),
    TopicConfigDef("file.delete.delay.ms", LONG, "60000", "log.segment.delete.delay.ms", _at_least(0)),
    TopicConfigDef("flush.messages", LONG, str(LONG_MAX), "log.flush.interval.messages", _at_least(1)),
    TopicConfigDef("flush.ms", LONG, str(LONG_MAX), "log.flush.interval.ms", _at_least(0)),
    TopicConfigDef("follower.replication.throttled.replicas", LIST, "", "follower.replication.throttled.replicas"),
    TopicConfigDef("index.interval.bytes", INT, "4096", "log.index.interval.bytes", _at_least(0)),
    TopicConfigDef("leader.replication.throttled.replicas", LIST, "", "leader.replication.throttled.replicas"),
    TopicConfigDef("local.retention.bytes", LONG, "-2", "log.local.retention.bytes", _at_least(-2)),
    TopicConfigDef("local.retention.ms", LONG, "-2", "log.local.retention.ms", _at_least(-2)),
    TopicConfigDef("max.compaction.lag.ms", LONG, str(LONG_MAX), "log.cleaner.max.compaction.lag.ms", _at_least(1)),
    TopicConfigDef("max.message.bytes", INT, "1048588", "message.max.bytes", _at_least(0)),
    TopicConfigDef("message.downconversion.enable", BOOLEAN, "true", "log.message.downconversion.enable"),
    TopicConfigDef("message.format.version", STRING, "3.0-IV1", "log.message.format.version"),
    TopicConfigDef("message.timestamp.after.max.ms", LONG, str(LONG_MAX), "log.message.timestamp.after.max.ms",
                   _at_least(0)),
    TopicConfigDef("message.timestamp.before.max.ms", LONG, str(LONG_MAX), "log.message.timestamp.before.max.ms",
                   _at_least(0)),
    TopicConfigDef("message.timestamp.difference.max.ms", LONG, str(LONG_MAX),
                   "log.message.timestamp.difference.max.ms", _at_least(0)),
    TopicConfigDef("message.timestamp.type", STRING, "CreateTime", "log.message.timestamp.type",
                   _one_of("CreateTime", "LogAppendTime")),
    TopicConfigDef("min.cleanable.dirty.ratio", DOUBLE, "0.5", "log.cleaner.min.cleanable.ratio"),
    TopicConfigDef("min.compaction.lag.ms", LONG, "0", "log.cleaner.min.compaction.lag.ms", _at_least(0)),
    TopicConfigDef("min.insync.replicas", INT, "1", "min.insync.replicas", _at_least(1)),
    TopicConfigDef("preallocate", BOOLEAN, "false", "log.preallocate"),
    TopicConfigDef("remote.storage.enable", BOOLEAN, "false", None),
    TopicConfigDef("retention.bytes", LONG, "-1", "log.retention.bytes"),
    TopicConfigDef("retention.ms", LONG, "604800000", "log.retention.ms", _at_least(-1)),
    TopicConfigDef("segment.bytes", INT, "1073741824", "log.segment.bytes", _at_least(14)),
    TopicConfigDef("segment.index.bytes", INT, "10485760", "log.index.size.max.bytes", _at_least(4)),
    TopicConfigDef("segment.jitter.ms", LONG, "0", "log.roll.jitter.ms", _at_least(0)),
    TopicConfigDef("segment.ms", LONG, "604800000", "log.roll.ms", _at_least(1)),
    TopicConfigDef("unclean.leader.election.enable", BOOLEAN, "false", "unclean.leader.election.enable"),
]

TOPIC_CONFIGS: dict[str, TopicConfigDef] = {row.name: row for row in _ROWS}
# Primary broker keys whose Kafka default is null (the value comes from another synonym, e.g.
# log.retention.hours): DescribeConfigs lists no DEFAULT_CONFIG synonym for them (reference c.6).
NULL_BROKER_DEFAULTS = frozenset({"log.retention.ms", "log.roll.ms", "log.roll.jitter.ms", "log.flush.interval.ms"})
_TYPE_NAMES = {BOOLEAN: "BOOLEAN", STRING: "STRING", INT: "INT", LONG: "LONG", DOUBLE: "DOUBLE", LIST: "LIST"}
_INT_RANGE = {INT: (-(2**31), 2**31 - 1), LONG: (-(2**63), 2**63 - 1)}


def validate(name: str, value: str | None) -> str | None:
    """Kafka's message for an invalid topic config, or None when ``name=value`` is acceptable."""
    row = TOPIC_CONFIGS.get(name)
    if row is None:
        return f"Unknown topic config name: {name}"
    if value is None:
        return f"Null value not supported for topic configs: {name}"
    v = value.strip()
    try:
        if row.type in _INT_RANGE:
            lo, hi = _INT_RANGE[row.type]
            if not lo <= int(v) <= hi:
                raise ValueError
        elif row.type == DOUBLE:
            float(v)
        elif row.type == BOOLEAN and v.lower() not in ("true", "false"):
            return f"Invalid value {value} for configuration {name}: Expected value to be either true or false"
    except ValueError:
        return f"Invalid value {value} for configuration {name}: Not a number of type {_TYPE_NAMES[row.type]}"
    if row.check is not None:
        problem = row.check(v)
        if problem:
            return f"Invalid value {value} for configuration {name}: {problem}"
    return None


@dataclass(frozen=True, slots=True)
class ConfigValue:
    name: str
    value: str
    source: int
    type: int
    synonyms: tuple[tuple[str, str, int], ...]


def _broker_value(row: TopicConfigDef, broker_props: Mapping[str, str], effective: Mapping[str, str]) -> str:
    if row.synonym and row.synonym in broker_props:
        return broker_props[row.synonym].strip()
    return effective.get(row.name, row.default)


def describe(overrides: Mapping[str, str], broker_props: Mapping[str, str],
             effective: Mapping[str, str]) -> list[ConfigValue]:
    """Every topic config with its value and source; ``effective`` holds broker-derived defaults
    (e.g. retention.ms computed from log.retention.hours) for configs the storage layer knows."""
    out: list[ConfigValue] = []
    for row in _ROWS:
        synonyms: list[tuple[str, str, int]] = []
        if row.name in overrides:
            synonyms.append((row.name, overrides[row.name], DYNAMIC_TOPIC_CONFIG))
        if row.synonym and row.synonym in broker_props:
            synonyms.append((row.synonym, broker_props[row.synonym].strip(), STATIC_BROKER_CONFIG))
        if row.synonym and row.synonym not in NULL_BROKER_DEFAULTS:
            synonyms.append((row.synonym, row.default, DEFAULT_CONFIG))
        if row.name in overrides:
            value, source = overrides[row.name], DYNAMIC_TOPIC_CONFIG
        elif row.synonym and row.synonym in broker_props:
            value, source = broker_props[row.synonym].strip(), STATIC_BROKER_CONFIG
        else:
            value, source = _broker_value(row, broker_props, effective), DEFAULT_CONFIG
        out.append(ConfigValue(row.name, value, source, row.type, tuple(synonyms)))
    return out
