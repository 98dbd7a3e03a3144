"""ZooKeeper payloads: Kafka 3.9's bytes for what we write, every historical version for what we read."""

from __future__ import annotations

import random

import pytest

from kafkatools.coordination import zk_admin as za
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.errors import CoordinationError

# Real 3.9 broker znode (key order as a real cluster shows it).
BROKER_V5 = (
    b'{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://host1:9092"],'
    b'"jmx_port":-1,"features":{},"host":"host1","timestamp":"1729500000000","port":9092,"version":5}'
)
PARTITION_STATE = b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}'
CONTROLLER_V2 = b'{"version":2,"brokerid":1,"timestamp":"1729500000000","kraftControllerEpoch":-1}'
TOPIC_V3 = (
    b'{"removing_replicas":{},"partitions":{"0":[1,2,3],"1":[2,3,1]},"topic_id":"wQ0yGf9xSxqkQ2yPq7WcQw",'
    b'"adding_replicas":{},"version":3}'
)


def plaintext(host: str, port: int) -> zl.Endpoint:
    return zl.Endpoint("PLAINTEXT", host, port, "PLAINTEXT")


def test_broker_v5_bytes_and_round_trip() -> None:
    reg = zl.BrokerRegistration(1, (plaintext("host1", 9092),), 1729500000000)
    assert zl.encode_broker(reg) == BROKER_V5
    assert zl.decode_broker("/brokers/ids/1", 1, BROKER_V5) == reg


def test_broker_host_port_come_from_first_plaintext_endpoint() -> None:
    eps = (zl.Endpoint("SECURE", "h", 9093, "SSL"), zl.Endpoint("INTERNAL", "::1", 9094, "PLAINTEXT"))
    reg = zl.BrokerRegistration(2, eps, 5, rack="r1")
    data = zl.encode_broker(reg)
    assert b'"endpoints":["SECURE://h:9093","INTERNAL://[::1]:9094"]' in data
    assert b'"host":"::1"' in data and b'"port":9094' in data and b'"rack":"r1"' in data
    assert zl.decode_broker("/p", 2, data) == reg
    ssl_only = zl.encode_broker(zl.BrokerRegistration(3, eps[:1], 5, version=4))
    assert b'"host":null' in ssl_only and b'"port":-1' in ssl_only and b"features" not in ssl_only


@pytest.mark.parametrize(
    ("data", "endpoint", "version"),
    [
        (b'{"version":1,"host":"h","port":9092,"jmx_port":-1,"timestamp":"1400000000000"}', plaintext("h", 9092), 1),
        (b'{"version":2,"host":"h","port":9092,"endpoints":["PLAINTEXT://h:9092"],"jmx_port":-1,"timestamp":"7"}',
         plaintext("h", 9092), 2),
        (b'{"listener_security_protocol_map":{"IN":"SSL"},"endpoints":["IN://h:1"],"jmx_port":-1,"host":null,'
         b'"timestamp":"7","port":-1,"version":4}', zl.Endpoint("IN", "h", 1, "SSL"), 4),
    ],
)
def test_broker_old_versions_are_read(data: bytes, endpoint: zl.Endpoint, version: int) -> None:
    reg = zl.decode_broker("/brokers/ids/0", 0, data)
    assert reg.endpoints == (endpoint,) and reg.version == version


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "no data"),
        (b"{nope", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"version":9}', "unsupported version 9"),
        (b'{"version":5,"endpoints":["PLAINTEXT://h:x"],"listener_security_protocol_map":{}}', "LISTENER://host:port"),
        (b'{"version":5,"endpoints":["X://h:1"],"listener_security_protocol_map":{"P":"P"}}', "not in listener"),
        (b'{"version":5,"endpoints":"X","listener_security_protocol_map":{}}', "list of strings"),
        (b'{"version":5,"endpoints":[],"listener_security_protocol_map":{},"timestamp":"soon"}', "decimal number"),
    ],
)
def test_bad_broker_znodes_name_the_path(data: bytes, words: str) -> None:
    with pytest.raises(CoordinationError, match=words) as info:
        zl.decode_broker("/brokers/ids/7", 7, data)
    assert info.value.path == "/brokers/ids/7"
    assert str(info.value).startswith("/brokers/ids/7: ")


def test_topic_v3_bytes_and_older_versions() -> None:
    assignment = zl.TopicAssignment({0: [1, 2, 3], 1: [2, 3, 1]}, "wQ0yGf9xSxqkQ2yPq7WcQw")
    assert zl.encode_topic(assignment) == TOPIC_V3
    assert zl.decode_topic("/t", TOPIC_V3) == assignment
    # §e's example order (keys are an unordered map to every reader) decodes the same.
    reordered = (b'{"partitions":{"1":[2,3,1],"0":[1,2,3]},"topic_id":"wQ0yGf9xSxqkQ2yPq7WcQw","adding_replicas":{},'
                 b'"removing_replicas":{},"version":3}')
    assert zl.decode_topic("/t", reordered) == assignment
    v1 = zl.decode_topic("/t", b'{"version":1,"partitions":{"0":[1,2]}}')
    assert v1 == zl.TopicAssignment({0: [1, 2]})
    moving = zl.TopicAssignment({0: [1, 2, 3]}, None, {0: [3]}, {0: [1]})
    assert zl.encode_topic(moving) == (b'{"removing_replicas":{"0":[1]},"partitions":{"0":[1,2,3]},'
                                       b'"adding_replicas":{"0":[3]},"version":2}')
    assert zl.decode_topic("/t", zl.encode_topic(moving)) == moving


@pytest.mark.parametrize("data", [b'{"version":3,"partitions":{}}', b'{"version":3,"partitions":{"a":[1]}}',
                                  b'{"version":3,"partitions":{"0":[true]}}', b'{"version":3,"partitions":[1]}'])
def test_bad_topic_znodes(data: bytes) -> None:
    with pytest.raises(CoordinationError, match=r"^/brokers/topics/t: "):
        zl.decode_topic("/brokers/topics/t", data)


def test_partition_state_bytes() -> None:
    state = zl.PartitionState(leader=1, leader_epoch=0, isr=[1, 2], controller_epoch=1)
    assert zl.encode_partition_state(state) == PARTITION_STATE
    assert zl.decode_partition_state("/s", PARTITION_STATE) == state
    recovering = zl.PartitionState(-1, 4, [2], 3, zl.LEADER_RECOVERING)
    data = zl.encode_partition_state(recovering)
    assert data.endswith(b'"isr":[2],"leader_recovery_state":1}')
    assert zl.decode_partition_state("/s", data) == recovering
    with pytest.raises(CoordinationError, match="leader_recovery_state"):
        zl.decode_partition_state("/s", data.replace(b'"leader_recovery_state":1', b'"leader_recovery_state":5'))
    with pytest.raises(CoordinationError, match="missing field 'isr'"):
        zl.decode_partition_state("/s", b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0}')


def test_controller_epoch_and_cluster_id() -> None:
    reg = zl.ControllerRegistration(1, 1729500000000)
    assert zl.encode_controller(reg) == CONTROLLER_V2
    assert zl.decode_controller("/controller", CONTROLLER_V2) == reg
    v1 = zl.decode_controller("/controller", b'{"version":1,"brokerid":0,"timestamp":"1643692590537"}')
    assert v1 == zl.ControllerRegistration(0, 1643692590537, -1)
    assert zl.encode_int_text(3) == b"3"
    assert zl.decode_int_text("/controller_epoch", b"3") == 3
    with pytest.raises(CoordinationError, match=r"^/controller_epoch: expected a decimal number"):
        zl.decode_int_text("/controller_epoch", b"three")
    assert zl.encode_cluster_id("Qs2nH1c8R4mXw2GJmH1vOg") == b'{"version":"1","id":"Qs2nH1c8R4mXw2GJmH1vOg"}'
    assert zl.decode_cluster_id("/cluster/id", b'{"version":"1","id":"abc"}') == "abc"
    with pytest.raises(CoordinationError, match="cluster id version"):
        zl.decode_cluster_id("/cluster/id", b'{"version":"2","id":"abc"}')


def test_random_uuid_is_kafka_shaped_and_injectable() -> None:
    a, b = zl.random_uuid(random.Random(7)), zl.random_uuid(random.Random(7))
    assert a == b and len(a) == 22 and not a.startswith("-")
    assert set(a) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert zl.random_uuid() != zl.random_uuid()


def test_config_and_notifications() -> None:
    config = za.encode_entity_config({"retention.ms": "86400000", "cleanup.policy": "compact"})
    assert config == b'{"version":1,"config":{"retention.ms":"86400000","cleanup.policy":"compact"}}'
    assert za.encode_entity_config({}) == b'{"version":1,"config":{}}'
    assert za.decode_entity_config("/c", config)["cleanup.policy"] == "compact"
    with pytest.raises(CoordinationError, match=r"must be strings: retention\.ms"):
        za.decode_entity_config("/c", b'{"version":1,"config":{"retention.ms":5}}')
    assert za.encode_config_change("topics/orders") == b'{"version":2,"entity_path":"topics/orders"}'
    assert za.decode_config_change("/n", b'{"version":2,"entity_path":"topics/orders"}') == "topics/orders"
    assert za.decode_config_change("/n", b'{"version":1,"entity_type":"clients","entity_name":"a"}') == "clients/a"
    assert za.decode_config_change("/n", b'"orders"') == "topics/orders"


def test_admin_payloads() -> None:
    tp = za.TopicPartition("orders", 0)
    assert za.encode_partitions([tp]) == b'{"version":1,"partitions":[{"topic":"orders","partition":0}]}'
    assert za.decode_partitions("/p", za.encode_partitions([tp])) == [tp]
    moves = za.encode_reassignment({tp: [2, 3]})
    assert moves == b'{"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[2,3]}]}'
    assert za.decode_reassignment("/r", moves) == {tp: [2, 3]}
    assert za.encode_log_dir_event(1) == b'{"version":1,"broker":1,"event":1}'
    assert za.decode_log_dir_event("/l", b'{"version":1,"broker":1,"event":1}') == (1, 1)
    with pytest.raises(CoordinationError, match=r"^/r: field 'partitions' must be a list"):
        za.decode_reassignment("/r", b'{"version":1,"partitions":{}}')


def test_producer_id_blocks() -> None:
    block = za.ProducerIdBlock(1, 2000, 2999)
    data = b'{"version":1,"broker":1,"block_start":"2000","block_end":"2999"}'
    assert za.encode_producer_id_block(block) == data
    assert za.decode_producer_id_block("/latest_producer_id_block", data) == block
    assert za.FIRST_PRODUCER_ID_BLOCK.next_block(2) == za.ProducerIdBlock(2, 1000, 1999)
    assert block.next_block(3) == za.ProducerIdBlock(3, 3000, 3999)
    with pytest.raises(CoordinationError, match="block_end 1 is before"):
        za.decode_producer_id_block("/x", b'{"version":1,"broker":1,"block_start":"2","block_end":"1"}')


def test_feature_and_consumer_payloads() -> None:
    assert za.encode_feature({}) == b'{"version":2,"status":1,"features":{}}'
    assert za.decode_feature("/feature", za.encode_feature({"metadata.version": 7})) == (1, {"metadata.version": 7})
    reg = za.ConsumerRegistration({"orders": 2}, "static", 1400000000000)
    data = b'{"version":1,"subscription":{"orders":2},"pattern":"static","timestamp":"1400000000000"}'
    assert za.encode_consumer(reg) == data
    assert za.decode_consumer("/c", data) == reg
    with pytest.raises(CoordinationError, match="pattern must be one of"):
        za.decode_consumer("/c", data.replace(b"static", b"regex"))
    assert za.encode_owner("g_host-1-abcdef01", 0) == b"g_host-1-abcdef01-0"


def test_paths() -> None:
    assert zp.broker_path(1) == "/brokers/ids/1"
    assert zp.partition_state_path("t", 3) == "/brokers/topics/t/partitions/3/state"
    assert zp.topic_config_path("t") == "/config/topics/t"
    assert zp.config_entity_path("clients", "my app*") == "/config/clients/my%20app%2A"
    assert zp.config_entity_path("users", "<default>") == "/config/users/<default>"
    assert zp.desanitize("my%20app%2A") == "my app*"
    assert zp.config_change_path_prefix() == "/config/changes/config_change_"
    assert zp.sequence_number("config_change_0000000007", zp.CONFIG_CHANGE_PREFIX) == 7
    with pytest.raises(CoordinationError):
        zp.sequence_number("isr_change_0000000007", zp.CONFIG_CHANGE_PREFIX)
    assert zp.consumer_offset_path("g", "t", 0) == "/consumers/g/offsets/t/0"
    assert "/brokers/seqid" in zp.PERSISTENT_PATHS and "/config/ips" in zp.PERSISTENT_PATHS
    assert zl.generated_broker_id(1) == 1001


@pytest.mark.parametrize("name", ["", ".", "..", "a" * 250, "bad/name", "naïve"])
def test_bad_topic_names(name: str) -> None:
    with pytest.raises(CoordinationError):
        zp.validate_topic_name(name)


def test_good_topic_names_and_collisions() -> None:
    zp.validate_topic_name("a" * 249)
    zp.validate_topic_name("my-replicated_topic.v1")
    assert zp.topic_collision_key("a.b") == zp.topic_collision_key("a_b")
