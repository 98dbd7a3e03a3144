"""Broker configuration: ``server.properties`` + ``--override`` into a typed, frozen BrokerConfig.

Mirrors Kafka 3.9's ``KafkaConfig``/``ConfigDef``: every key the broker reads is a row of
``BROKER_KEYS`` (name, type, built-in default, validation), values are trimmed then parsed by type,
and a bad value is a ConfigError with Kafka's wording (``Invalid value x for configuration y:
Not a number of type INT``).  Unknown keys are kept in ``props`` and ignored (Kafka only warns).

Derived settings follow KafkaConfig's precedence rules, so the rest of the broker never looks at
the raw synonyms: retention ``log.retention.ms`` > ``.minutes`` > ``.hours``; roll and jitter
``ms`` > ``hours``; ``log.flush.interval.ms`` falls back to ``log.flush.scheduler.interval.ms``;
``zookeeper.connection.timeout.ms`` to the session timeout; ``advertised.listeners`` to
``listeners``; ``log.dirs`` to ``log.dir``.  No ``zookeeper.connect`` means standalone mode.

Topic-level configs (their table, validation and DescribeConfigs sources) live in
``topic_configs``; ``TOPIC_SYNONYMS`` here lists, per topic config, the broker keys that set its
default, in Kafka's order (primary first).
"""

from __future__ import annotations

import dataclasses
import functools
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kafkatools.broker._config_keys import BROKER_KEYS, ConfigError, ConfigKey, parse_value
from kafkatools.broker.topic_configs import TOPIC_CONFIGS, TopicConfigDef
from kafkatools.storage.config import LogConfig

__all__ = [
    "BROKER_KEYS",
    "TOPIC_CONFIGS",
    "TOPIC_SYNONYMS",
    "BrokerConfig",
    "ConfigError",
    "ConfigKey",
    "Endpoint",
    "TopicConfigDef",
    "load_config",
    "parse_listeners",
]

# Topic config -> broker keys providing its default, primary first (Kafka's LogConfig synonyms).
TOPIC_SYNONYMS: dict[str, tuple[str, ...]] = {
    name: (row.synonym,) for name, row in TOPIC_CONFIGS.items() if row.synonym is not None
} | {
    "retention.ms": ("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
    "segment.ms": ("log.roll.ms", "log.roll.hours"),
    "segment.jitter.ms": ("log.roll.jitter.ms", "log.roll.jitter.hours"),
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One ``NAME://host:port`` listener; host "" means all interfaces."""

    listener: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listener}://{host}:{self.port}"


def parse_listeners(key: str, value: str) -> tuple[Endpoint, ...]:
    """``PLAINTEXT://:9092,INTERNAL://[::1]:9093`` -> endpoints; names must be unique (as in Kafka)."""
    out: list[Endpoint] = []
    for item in (x.strip() for x in value.split(",")):
        if not item:
            continue
        name, sep, rest = item.partition("://")
        host, colon, port = rest.rpartition(":")
        if not sep or not name or not colon or not port.isdigit() or int(port) > 65535:
            raise ConfigError(f"Invalid value {value} for configuration {key}: "
                              f"Unable to parse {item} to a broker endpoint")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if any(e.listener == name.upper() for e in out):
            raise ConfigError(f"Invalid value {value} for configuration {key}: "
                              f"Each listener must have a different name, {name.upper()} is repeated")
        out.append(Endpoint(name.upper(), host, int(port)))
    if not out:
        raise ConfigError(f"Invalid value {value} for configuration {key}: at least one listener is needed")
    return tuple(out)


def _protocol_map(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (x.strip() for x in value.split(",")):
        name, sep, proto = item.partition(":")
        if item and (not sep or not name or not proto):
            raise ConfigError(f"Invalid value {value} for configuration listener.security.protocol.map: "
                              f"map entry '{item}' is not NAME:PROTOCOL")
        if item:
            out[name.strip().upper()] = proto.strip().upper()
    return out


# Simple fields: attribute name == key with '.' -> '_'; their values come straight from BROKER_KEYS.
@dataclass(frozen=True)
class BrokerConfig:
    """Every setting the broker reads, typed; build with ``load_config`` (or ``BrokerConfig.default()``)."""

    props: dict[str, str]  # the merged input (file + overrides), unknown keys included
    values: dict[str, Any]  # every BROKER_KEYS name -> typed value (None = null), defaults included
    # identity and listeners
    broker_id: int  # -1 in the file means "generate"; standalone mode then uses 0
    broker_id_generation_enable: bool
    reserved_broker_max_id: int
    broker_rack: str | None
    listeners: tuple[Endpoint, ...]
    advertised_listeners: tuple[Endpoint, ...] | None  # None: not set, listeners are advertised
    listener_security_protocol_map: dict[str, str]
    inter_broker_protocol_version: str
    # network
    num_network_threads: int
    num_io_threads: int
    socket_send_buffer_bytes: int
    socket_receive_buffer_bytes: int
    socket_request_max_bytes: int
    connections_max_idle_ms: int
    queued_max_requests: int
    # topics and logs
    log_dirs: tuple[str, ...]
    num_partitions: int
    default_replication_factor: int
    min_insync_replicas: int
    auto_create_topics_enable: bool
    delete_topic_enable: bool
    auto_leader_rebalance_enable: bool
    controlled_shutdown_enable: bool
    controlled_shutdown_max_retries: int
    controlled_shutdown_retry_backoff_ms: int
    leader_imbalance_check_interval_seconds: int
    leader_imbalance_per_broker_percentage: int
    unclean_leader_election_enable: bool
    num_recovery_threads_per_data_dir: int
    message_max_bytes: int
    compression_type: str
    log_cleanup_policy: tuple[str, ...]
    log_cleaner_enable: bool
    log_cleaner_backoff_ms: int
    log_cleaner_threads: int
    log_cleaner_delete_retention_ms: int
    log_cleaner_min_compaction_lag_ms: int
    log_cleaner_max_compaction_lag_ms: int
    log_cleaner_min_cleanable_ratio: float
    log_preallocate: bool
    log_message_timestamp_type: str
    log_segment_bytes: int
    log_roll_ms: int  # resolved from log.roll.ms / log.roll.hours
    log_roll_jitter_ms: int  # resolved from log.roll.jitter.ms / log.roll.jitter.hours
    log_retention_ms: int  # resolved: ms > minutes > hours; negative -> -1 (keep forever)
    log_retention_bytes: int
    log_retention_check_interval_ms: int
    log_index_size_max_bytes: int
    log_index_interval_bytes: int
    log_flush_interval_messages: int
    log_flush_interval_ms: int  # resolved: falls back to log.flush.scheduler.interval.ms
    log_flush_scheduler_interval_ms: int
    log_flush_offset_checkpoint_interval_ms: int
    log_flush_start_offset_checkpoint_interval_ms: int
    log_segment_delete_delay_ms: int
    replica_high_watermark_checkpoint_interval_ms: int
    # ZooKeeper (None = standalone)
    zookeeper_connect: str | None
    zookeeper_session_timeout_ms: int
    zookeeper_connection_timeout_ms: int  # resolved: defaults to the session timeout
    zookeeper_set_acl: bool
    zookeeper_max_in_flight_requests: int
    # groups and offsets
    group_initial_rebalance_delay_ms: int
    group_min_session_timeout_ms: int
    group_max_session_timeout_ms: int
    group_max_size: int
    offsets_topic_replication_factor: int
    offsets_topic_num_partitions: int
    offsets_topic_segment_bytes: int
    offsets_retention_minutes: int
    offsets_retention_check_interval_ms: int
    offsets_commit_timeout_ms: int
    # transactions and producers
    transaction_state_log_replication_factor: int
    transaction_state_log_min_isr: int
    transaction_state_log_num_partitions: int
    transaction_state_log_segment_bytes: int
    transactional_id_expiration_ms: int
    transaction_max_timeout_ms: int
    transaction_abort_timed_out_transaction_cleanup_interval_ms: int
    transaction_remove_expired_transaction_cleanup_interval_ms: int
    producer_id_expiration_ms: int
    # replication
    replica_lag_time_max_ms: int
    replica_fetch_max_bytes: int
    replica_fetch_min_bytes: int
    replica_fetch_wait_max_ms: int
    replica_fetch_backoff_ms: int
    replica_fetch_response_max_bytes: int
    replica_socket_timeout_ms: int
    num_replica_fetchers: int
    # what storage needs per topic, before topic overrides
    log_config: LogConfig

    @classmethod
    def default(cls) -> BrokerConfig:
        """Kafka's built-in defaults (no server.properties at all)."""
        return load_config({})

    @property
    def standalone(self) -> bool:
        """No ZooKeeper: cluster metadata is kept by this broker alone."""
        return self.zookeeper_connect is None

    @property
    def advertised_endpoints(self) -> tuple[Endpoint, ...]:
        """What clients are told; an empty host becomes this machine's name, as Kafka registers it."""
        eps = self.advertised_listeners or self.listeners
        return tuple(e if e.host else Endpoint(e.listener, _local_hostname(), e.port) for e in eps)

    @property
    def advertised(self) -> Endpoint:
        """The first advertised endpoint (the one a single-listener broker puts in Metadata)."""
        return self.advertised_endpoints[0]

    def get(self, key: str) -> Any:
        """Typed value of any BROKER_KEYS name (KeyError for unknown keys)."""
        return self.values[key]

    def is_set(self, key: str) -> bool:
        """Whether server.properties/--override gave ``key`` (DescribeConfigs: STATIC_BROKER_CONFIG)."""
        return key in self.props

    def topic_defaults(self) -> dict[str, str]:
        """Broker-level default of each topic config, as the string DescribeConfigs shows."""
        out = {name: row.default for name, row in TOPIC_CONFIGS.items()}
        for name, keys in TOPIC_SYNONYMS.items():
            primary = self.values.get(keys[0])
            if primary is not None and name in out:
                out[name] = _as_text(primary)
        out["retention.ms"] = str(self.log_retention_ms)
        out["segment.ms"] = str(self.log_roll_ms)
        out["segment.jitter.ms"] = str(self.log_roll_jitter_ms)
        out["flush.ms"] = str(self.log_flush_interval_ms)
        return out


@functools.lru_cache(maxsize=1)
def _local_hostname() -> str:
    """This machine's canonical name (Kafka: getLocalHost().getCanonicalHostName()); asked once, it may hit DNS."""
    return socket.getfqdn()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _typed_values(props: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, key in BROKER_KEYS.items():
        raw = props.get(name)
        values[name] = parse_value(key, raw) if raw is not None else parse_value(key, key.default)
    return values


def _resolve_ms(v: Mapping[str, Any], ms: str, *fallbacks: tuple[str, int]) -> int:
    if v[ms] is not None:
        return int(v[ms])
    for key, unit in fallbacks:
        if v[key] is not None:
            return int(v[key]) * unit
    raise AssertionError(f"{fallbacks[-1][0]} has a default")  # pragma: no cover


def load_config(props: Mapping[str, str]) -> BrokerConfig:
    """Build the typed config from merged properties (file first, ``--override`` applied on top)."""
    v = _typed_values(props)
    listeners = parse_listeners("listeners", ",".join(v["listeners"]))
    adv_raw = v["advertised.listeners"]
    advertised = parse_listeners("advertised.listeners", adv_raw) if adv_raw else None
    for e in advertised or ():
        if e.host == "0.0.0.0":
            raise ConfigError(f"Invalid value {adv_raw} for configuration advertised.listeners: "
                              "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. "
                              "Use a routable IP address.")
    protocols = _protocol_map(v["listener.security.protocol.map"])
    for e in listeners + (advertised or ()):
        if e.listener not in protocols:
            raise ConfigError(f"Invalid value {props.get('listeners', '')} for configuration listeners: "
                              f"No security protocol defined for listener {e.listener}")
    dirs = v["log.dirs"] or v["log.dir"]
    log_dirs = tuple(d.strip() for d in dirs.split(",") if d.strip())
    if not log_dirs:
        raise ConfigError("Invalid value for configuration log.dirs: at least one log directory is needed")
    zk = v["zookeeper.connect"] or None
    broker_id = v["broker.id"] if v["broker.id"] >= 0 else v["node.id"]
    if v["broker.id.generation.enable"] and not -1 <= v["broker.id"] <= v["reserved.broker.max.id"]:
        raise ConfigError("broker.id must be greater than or equal to -1 and not greater than "
                          "reserved.broker.max.id")  # generated ids start above the reserved range
    if broker_id < 0 and zk is None:
        broker_id = 0  # no /brokers/seqid to draw a generated id from
    retention = _resolve_ms(v, "log.retention.ms", ("log.retention.minutes", 60_000),
                            ("log.retention.hours", 3_600_000))
    derived: dict[str, Any] = {
        "broker_id": broker_id,
        "listeners": listeners,
        "advertised_listeners": advertised,
        "listener_security_protocol_map": protocols,
        "log_dirs": log_dirs,
        "zookeeper_connect": zk,
        "log_retention_ms": -1 if retention < 0 else retention,
        "log_roll_ms": _resolve_ms(v, "log.roll.ms", ("log.roll.hours", 3_600_000)),
        "log_roll_jitter_ms": _resolve_ms(v, "log.roll.jitter.ms", ("log.roll.jitter.hours", 3_600_000)),
        "log_flush_interval_ms": _resolve_ms(v, "log.flush.interval.ms", ("log.flush.scheduler.interval.ms", 1)),
        "zookeeper_connection_timeout_ms": _resolve_ms(v, "zookeeper.connection.timeout.ms",
                                                       ("zookeeper.session.timeout.ms", 1)),
    }
    kwargs: dict[str, Any] = {"props": dict(props), "values": v}
    for f in dataclasses.fields(BrokerConfig):
        if f.name in kwargs or f.name == "log_config":
            continue
        kwargs[f.name] = derived[f.name] if f.name in derived else v[f.name.replace("_", ".")]
    kwargs["log_config"] = LogConfig(
        segment_bytes=kwargs["log_segment_bytes"],
        segment_ms=kwargs["log_roll_ms"],
        segment_jitter_ms=kwargs["log_roll_jitter_ms"],
        segment_index_bytes=kwargs["log_index_size_max_bytes"],
        index_interval_bytes=kwargs["log_index_interval_bytes"],
        retention_ms=kwargs["log_retention_ms"],
        retention_bytes=kwargs["log_retention_bytes"],
        flush_messages=kwargs["log_flush_interval_messages"],
        flush_ms=kwargs["log_flush_interval_ms"],
        message_timestamp_type=kwargs["log_message_timestamp_type"],
        max_message_bytes=kwargs["message_max_bytes"],
        min_insync_replicas=kwargs["min_insync_replicas"],
        compression_type=kwargs["compression_type"],
        cleanup_policy=",".join(kwargs["log_cleanup_policy"]),
        file_delete_delay_ms=kwargs["log_segment_delete_delay_ms"],
        delete_retention_ms=kwargs["log_cleaner_delete_retention_ms"],
        min_cleanable_dirty_ratio=float(kwargs["log_cleaner_min_cleanable_ratio"]),
        min_compaction_lag_ms=kwargs["log_cleaner_min_compaction_lag_ms"],
        max_compaction_lag_ms=kwargs["log_cleaner_max_compaction_lag_ms"],
    )
    return BrokerConfig(**kwargs)
