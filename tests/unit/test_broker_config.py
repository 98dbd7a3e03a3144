"""BrokerConfig: Kafka 3.9 defaults, precedence rules, listener parsing, Kafka-worded errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kafkatools.broker.config import (
    BROKER_KEYS,
    TOPIC_CONFIGS,
    TOPIC_SYNONYMS,
    BrokerConfig,
    ConfigError,
    Endpoint,
    load_config,
    parse_listeners,
)
from kafkatools.properties import load_properties

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "server.properties"


def test_defaults_are_kafka_39() -> None:
    c = BrokerConfig.default()
    assert c.listeners == (Endpoint("PLAINTEXT", "", 9092),)
    assert c.advertised_listeners is None
    assert c.log_dirs == ("/tmp/kafka-logs",)
    assert c.standalone and c.zookeeper_connect is None
    assert (c.num_partitions, c.default_replication_factor, c.min_insync_replicas) == (1, 1, 1)
    assert c.offsets_topic_replication_factor == 3 and c.offsets_topic_num_partitions == 50
    assert c.transaction_state_log_replication_factor == 3 and c.transaction_state_log_min_isr == 2
    assert c.log_retention_ms == 168 * 3_600_000 and c.log_roll_ms == 168 * 3_600_000
    assert c.log_retention_bytes == -1 and c.log_segment_bytes == 1073741824
    assert c.log_flush_interval_messages == 2**63 - 1 and c.log_flush_interval_ms == 2**63 - 1
    assert c.message_max_bytes == 1048588 and c.socket_request_max_bytes == 104857600
    assert c.group_initial_rebalance_delay_ms == 3000 and c.offsets_retention_minutes == 10080
    assert c.zookeeper_session_timeout_ms == 18000 and c.zookeeper_connection_timeout_ms == 18000
    assert c.replica_lag_time_max_ms == 30000 and c.unclean_leader_election_enable is False
    assert c.compression_type == "producer" and c.log_cleanup_policy == ("delete",)
    assert c.inter_broker_protocol_version == "3.9-IV0"
    assert c.broker_id == 0  # -1 (generate) has nothing to generate from in standalone mode


def test_every_simple_field_is_a_broker_key() -> None:
    derived = {"props", "values", "log_config", "broker_id", "listeners", "advertised_listeners",
               "listener_security_protocol_map", "log_dirs", "zookeeper_connect", "log_retention_ms",
               "log_roll_ms", "log_roll_jitter_ms", "log_flush_interval_ms", "zookeeper_connection_timeout_ms"}
    for f in dataclasses.fields(BrokerConfig):
        if f.name not in derived:
            assert f.name.replace("_", ".") in BROKER_KEYS, f.name


def test_shipped_server_properties_loads() -> None:
    if not SHIPPED.exists():
        pytest.fail(f"{SHIPPED} is missing: the quick start's server.properties belongs in config/")
    props = load_properties(SHIPPED)
    c = load_config(props)
    assert c.broker_id == int(props["broker.id"])
    assert c.zookeeper_connect == (props.get("zookeeper.connect") or None)
    assert c.offsets_topic_replication_factor == int(props["offsets.topic.replication.factor"])
    assert c.log_dirs == tuple(props["log.dirs"].split(","))


def test_retention_precedence_ms_minutes_hours() -> None:
    assert load_config({"log.retention.hours": "1"}).log_retention_ms == 3_600_000
    assert load_config({"log.retention.hours": "1", "log.retention.minutes": "2"}).log_retention_ms == 120_000
    both = load_config({"log.retention.hours": "1", "log.retention.minutes": "2", "log.retention.ms": "5"})
    assert both.log_retention_ms == 5 and both.log_config.retention_ms == 5
    assert load_config({"log.retention.hours": "-1"}).log_retention_ms == -1
    assert load_config({"log.retention.ms": "-7"}).log_retention_ms == -1


def test_roll_jitter_and_flush_fallbacks() -> None:
    c = load_config({"log.roll.hours": "2", "log.roll.jitter.hours": "1", "log.flush.scheduler.interval.ms": "3000"})
    assert (c.log_roll_ms, c.log_roll_jitter_ms, c.log_flush_interval_ms) == (7_200_000, 3_600_000, 3000)
    c = load_config({"log.roll.hours": "2", "log.roll.ms": "10", "log.flush.interval.ms": "20"})
    assert (c.log_roll_ms, c.log_flush_interval_ms) == (10, 20)
    assert c.log_config.segment_ms == 10 and c.log_config.flush_ms == 20


def test_log_config_carries_broker_log_settings() -> None:
    c = load_config({"log.segment.bytes": "1024", "log.index.interval.bytes": "100", "message.max.bytes": "2000",
                     "log.cleanup.policy": "compact, delete", "log.message.timestamp.type": "LogAppendTime",
                     "compression.type": "zstd", "min.insync.replicas": "2", "log.retention.bytes": "99"})
    lc = c.log_config
    assert (lc.segment_bytes, lc.index_interval_bytes, lc.max_message_bytes) == (1024, 100, 2000)
    assert lc.cleanup_policy == "compact,delete" and lc.message_timestamp_type == "LogAppendTime"
    assert (lc.compression_type, lc.min_insync_replicas, lc.retention_bytes) == ("zstd", 2, 99)


def test_log_dirs_and_log_dir() -> None:
    assert load_config({"log.dir": "/a"}).log_dirs == ("/a",)
    assert load_config({"log.dir": "/a", "log.dirs": " /b , /c ,"}).log_dirs == ("/b", "/c")


def test_listeners_and_advertised() -> None:
    c = load_config({"listeners": "PLAINTEXT://127.0.0.1:0, internal://[::1]:9093",
                     "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT"})
    assert c.listeners == (Endpoint("PLAINTEXT", "127.0.0.1", 0), Endpoint("INTERNAL", "::1", 9093))
    assert c.advertised == Endpoint("PLAINTEXT", "127.0.0.1", 0)
    assert str(c.listeners[1]) == "INTERNAL://[::1]:9093"
    c = load_config({"listeners": "PLAINTEXT://:9092", "advertised.listeners": "PLAINTEXT://broker1:19092"})
    assert c.advertised == Endpoint("PLAINTEXT", "broker1", 19092)
    blank = load_config({"listeners": "PLAINTEXT://:9092"}).advertised
    assert blank.host != "" and blank.port == 9092


@pytest.mark.parametrize(("props", "message"), [
    ({"listeners": "PLAINTEXT:9092"}, "Invalid value PLAINTEXT:9092 for configuration listeners: Unable to parse"),
    ({"listeners": "PLAINTEXT://h:99999"}, "Unable to parse PLAINTEXT://h:99999 to a broker endpoint"),
    ({"listeners": "PLAINTEXT://a:1,PLAINTEXT://b:2"}, "PLAINTEXT is repeated"),
    ({"listeners": "FOO://a:1"}, "No security protocol defined for listener FOO"),
    ({"advertised.listeners": "PLAINTEXT://0.0.0.0:9092"}, "nonroutable meta-address 0.0.0.0"),
    ({"listeners": ""}, "at least one listener"),
])
def test_bad_listeners(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(props)


@pytest.mark.parametrize(("key", "value", "why"), [
    ("num.partitions", "x", "Not a number of type INT"),
    ("num.partitions", "", "Not a number of type INT"),
    ("num.partitions", "3000000000", "Not a number of type INT"),
    ("log.retention.ms", "1.5", "Not a number of type LONG"),
    ("offsets.topic.replication.factor", "40000", "Not a number of type SHORT"),
    ("delete.topic.enable", "yes", "Expected value to be either true or false"),
    ("log.cleaner.min.cleanable.ratio", "half", "Not a number of type DOUBLE"),
    ("num.partitions", "0", "Value must be at least 1"),
    ("log.segment.bytes", "13", "Value must be at least 14"),
    ("log.cleanup.policy", "compact,shred", "String must be one of: compact, delete"),
    ("log.message.timestamp.type", "Now", "String must be one of: CreateTime, LogAppendTime"),
    ("compression.type", "brotli", "String must be one of"),
])
def test_bad_values_are_one_clear_error(key: str, value: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({key: value})
    assert str(info.value).startswith(f"Invalid value {value} for configuration {key}: {why}")


def test_values_are_trimmed_and_booleans_any_case() -> None:
    c = load_config({"num.partitions": " 3 ", "delete.topic.enable": "FALSE", "broker.rack": " r1 "})
    assert (c.num_partitions, c.delete_topic_enable, c.broker_rack) == (3, False, "r1")


def test_unknown_keys_are_kept_not_fatal() -> None:
    c = load_config({"some.plugin.setting": "x", "num.partitions": "2"})
    assert c.props["some.plugin.setting"] == "x"
    assert c.is_set("num.partitions") and not c.is_set("num.io.threads")
    assert c.get("num.io.threads") == 8


def test_broker_id_and_node_id() -> None:
    assert load_config({"broker.id": "3"}).broker_id == 3
    assert load_config({"node.id": "4"}).broker_id == 4
    assert load_config({"zookeeper.connect": "localhost:2181"}).broker_id == -1  # the broker generates one


def test_zookeeper_settings() -> None:
    c = load_config({"zookeeper.connect": "zk1:2181,zk2:2181/kafka", "zookeeper.session.timeout.ms": "6000"})
    assert not c.standalone and c.zookeeper_connect == "zk1:2181,zk2:2181/kafka"
    assert c.zookeeper_connection_timeout_ms == 6000
    assert load_config({"zookeeper.connect": ""}).standalone


def test_topic_synonyms_and_defaults() -> None:
    assert TOPIC_SYNONYMS["retention.ms"] == ("log.retention.ms", "log.retention.minutes", "log.retention.hours")
    assert TOPIC_SYNONYMS["segment.bytes"] == ("log.segment.bytes",)
    assert TOPIC_SYNONYMS["max.message.bytes"] == ("message.max.bytes",)
    for topic_name, keys in TOPIC_SYNONYMS.items():
        assert topic_name in TOPIC_CONFIGS
        for key in keys:
            if key.startswith("log.") or key in ("message.max.bytes", "min.insync.replicas"):
                assert key in BROKER_KEYS or key.startswith(("log.local.", "log.message.")), key
    d = load_config({"log.retention.hours": "1", "log.segment.bytes": "2048", "log.cleanup.policy": "compact"})
    defaults = d.topic_defaults()
    assert defaults["retention.ms"] == "3600000" and defaults["segment.bytes"] == "2048"
    assert defaults["cleanup.policy"] == "compact" and defaults["preallocate"] == "false"
    assert set(defaults) == set(TOPIC_CONFIGS)


def test_config_is_frozen() -> None:
    c = BrokerConfig.default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.num_partitions = 5  # type: ignore[misc]


def test_parse_listeners_directly() -> None:
    assert parse_listeners("listeners", "plaintext://host:1") == (Endpoint("PLAINTEXT", "host", 1),)
