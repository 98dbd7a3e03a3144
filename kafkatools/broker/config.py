"""Broker configuration: ``server.properties`` + ``--override`` into a typed, frozen BrokerConfig.

Keys and defaults are Kafka 3.9's (the reference's f.1).  Unknown keys are kept in ``props`` and
ignored (Kafka logs a warning and carries on); a value of the wrong type is an error naming the
key, as Kafka's ``ConfigException`` does: ``Invalid value x for configuration y: ...``.  The
topic-level log settings (``log.segment.bytes`` -> ``segment.bytes`` ...) become the storage
layer's ``LogConfig`` defaults.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from kafkatools.errors import KafkatoolsError
from kafkatools.storage.config import LogConfig, from_broker_properties


class ConfigError(KafkatoolsError):
    """A broker setting is missing or has a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    listener: str
    host: str  # "" = all interfaces
    port: int

    def __str__(self) -> str:
        return f"{self.listener}://{self.host}:{self.port}"


def parse_listeners(key: str, value: str) -> list[Endpoint]:
    out: list[Endpoint] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, rest = item.partition("://")
        host, colon, port = rest.rpartition(":")
        if not sep or not colon or not port.lstrip("-").isdigit():
            raise ConfigError(f"Invalid value {value} for configuration {key}: Unable to parse {item} to a broker "
                              "endpoint")
        p = int(port)
        if not 0 <= p <= 65535:
            raise ConfigError(f"Invalid value {value} for configuration {key}: port {p} is out of range")
        out.append(Endpoint(name.upper(), host.strip("[]"), p))
    if not out:
        raise ConfigError(f"Invalid value {value} for configuration {key}: no listener")
    return out


class _Reader:
    def __init__(self, props: Mapping[str, str]) -> None:
        self.props = props

    def get_str(self, key: str, default: str | None) -> str | None:
        v = self.props.get(key)
        return default if v is None else v.strip()

    def get_int(self, key: str, default: int) -> int:
        v = self.props.get(key)
        if v is None or not v.strip():
            return default
        try:
            return int(v.strip())
        except ValueError:
            raise ConfigError(f"Invalid value {v} for configuration {key}: Not a number of type INT") from None

    def get_bool(self, key: str, default: bool) -> bool:
        v = self.props.get(key)
        if v is None or not v.strip():
            return default
        t = v.strip().lower()
        if t not in ("true", "false"):
            raise ConfigError(f"Invalid value {v} for configuration {key}: Expected value to be either true or false")
        return t == "true"


@dataclass(frozen=True)
class BrokerConfig:
    props: dict[str, str]
    broker_id: int = 0
    listeners: list[Endpoint] = field(default_factory=lambda: [Endpoint("PLAINTEXT", "", 9092)])
    advertised_listeners: list[Endpoint] | None = None
    log_dirs: list[str] = field(default_factory=lambda: ["/tmp/kafka-logs"])
    zookeeper_connect: str | None = None
    zookeeper_session_timeout_ms: int = 18000
    broker_rack: str | None = None
    num_partitions: int = 1
    default_replication_factor: int = 1
    auto_create_topics_enable: bool = True
    delete_topic_enable: bool = True
    socket_request_max_bytes: int = 104857600
    offsets_topic_num_partitions: int = 50
    offsets_topic_replication_factor: int = 3
    offsets_retention_minutes: int = 10080
    group_initial_rebalance_delay_ms: int = 3000
    group_min_session_timeout_ms: int = 6000
    group_max_session_timeout_ms: int = 1800000
    log_retention_check_interval_ms: int = 300000
    log_flush_offset_checkpoint_interval_ms: int = 60000
    log_flush_start_offset_checkpoint_interval_ms: int = 60000
    replica_high_watermark_checkpoint_interval_ms: int = 5000
    log_flush_scheduler_interval_ms: int = 2**63 - 1
    log_config: LogConfig = field(default_factory=LogConfig)

    @property
    def standalone(self) -> bool:
        return self.zookeeper_connect is None

    @property
    def advertised(self) -> Endpoint:
        """The first advertised endpoint; an empty host becomes this machine's name, as Kafka does."""
        ep = (self.advertised_listeners or self.listeners)[0]
        return ep if ep.host else Endpoint(ep.listener, socket.getfqdn(), ep.port)


def load_config(props: Mapping[str, str]) -> BrokerConfig:
    """Build the typed config from merged properties (file first, overrides applied on top)."""
    r = _Reader(props)
    broker_id = r.get_int("broker.id", r.get_int("node.id", 0))
    if broker_id < -1:
        raise ConfigError(f"Invalid value {broker_id} for configuration broker.id: must be >= -1")
    listeners = parse_listeners("listeners", r.get_str("listeners", None) or _legacy_listener(r))
    adv = r.get_str("advertised.listeners", None)
    log_dirs = r.get_str("log.dirs", None) or r.get_str("log.dir", "/tmp/kafka-logs") or "/tmp/kafka-logs"
    try:
        log_config = from_broker_properties(props)
    except ValueError as e:
        raise ConfigError(f"Invalid value in log configuration: {e}") from None
    ts_type = log_config.message_timestamp_type
    if ts_type not in ("CreateTime", "LogAppendTime"):
        raise ConfigError(f"Invalid value {ts_type} for configuration log.message.timestamp.type: String must be "
                          "one of: CreateTime, LogAppendTime")
    return BrokerConfig(
        props=dict(props),
        broker_id=max(broker_id, 0),
        listeners=listeners,
        advertised_listeners=parse_listeners("advertised.listeners", adv) if adv else None,
        log_dirs=[d.strip() for d in log_dirs.split(",") if d.strip()],
        zookeeper_connect=r.get_str("zookeeper.connect", None) or None,
        zookeeper_session_timeout_ms=r.get_int("zookeeper.session.timeout.ms", 18000),
        broker_rack=r.get_str("broker.rack", None),
        num_partitions=r.get_int("num.partitions", 1),
        default_replication_factor=r.get_int("default.replication.factor", 1),
        auto_create_topics_enable=r.get_bool("auto.create.topics.enable", True),
        delete_topic_enable=r.get_bool("delete.topic.enable", True),
        socket_request_max_bytes=r.get_int("socket.request.max.bytes", 104857600),
        offsets_topic_num_partitions=r.get_int("offsets.topic.num.partitions", 50),
        offsets_topic_replication_factor=r.get_int("offsets.topic.replication.factor", 3),
        offsets_retention_minutes=r.get_int("offsets.retention.minutes", 10080),
        group_initial_rebalance_delay_ms=r.get_int("group.initial.rebalance.delay.ms", 3000),
        group_min_session_timeout_ms=r.get_int("group.min.session.timeout.ms", 6000),
        group_max_session_timeout_ms=r.get_int("group.max.session.timeout.ms", 1800000),
        log_retention_check_interval_ms=r.get_int("log.retention.check.interval.ms", 300000),
        log_flush_offset_checkpoint_interval_ms=r.get_int("log.flush.offset.checkpoint.interval.ms", 60000),
        log_flush_start_offset_checkpoint_interval_ms=r.get_int("log.flush.start.offset.checkpoint.interval.ms", 60000),
        replica_high_watermark_checkpoint_interval_ms=r.get_int("replica.high.watermark.checkpoint.interval.ms", 5000),
        log_flush_scheduler_interval_ms=r.get_int("log.flush.scheduler.interval.ms", 2**63 - 1),
        log_config=log_config,
    )


def _legacy_listener(r: _Reader) -> str:
    """Pre-0.9 ``host.name``/``port`` keys still found in old quick-start files."""
    return f"PLAINTEXT://{r.get_str('host.name', '') or ''}:{r.get_int('port', 9092)}"
