"""Every znode path a ZooKeeper-mode Kafka cluster uses (Kafka 3.9 ``kafka.zk.ZkData``).

Paths are relative to the chroot of ``zookeeper.connect``; the stores apply the chroot.  Topic
names are used as they are; client ids and user principals go through Kafka's Sanitizer (URL
encoding with ``%20`` for space and ``%2A`` for ``*``).  Sequential children end with ZooKeeper's
10-digit counter (``config_change_0000000007``).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote

from kafkatools.coordination.errors import CoordinationError

CONSUMERS: Final = "/consumers"
BROKERS: Final = "/brokers"
BROKER_IDS: Final = "/brokers/ids"
BROKER_TOPICS: Final = "/brokers/topics"
BROKER_SEQID: Final = "/brokers/seqid"
CONTROLLER: Final = "/controller"
CONTROLLER_EPOCH: Final = "/controller_epoch"
CLUSTER_ID: Final = "/cluster/id"
CONFIG: Final = "/config"
CONFIG_CHANGES: Final = "/config/changes"
ADMIN: Final = "/admin"
DELETE_TOPICS: Final = "/admin/delete_topics"
REASSIGN_PARTITIONS: Final = "/admin/reassign_partitions"
PREFERRED_REPLICA_ELECTION: Final = "/admin/preferred_replica_election"
ISR_CHANGE_NOTIFICATION: Final = "/isr_change_notification"
LOG_DIR_EVENT_NOTIFICATION: Final = "/log_dir_event_notification"
LATEST_PRODUCER_ID_BLOCK: Final = "/latest_producer_id_block"
FEATURE: Final = "/feature"

CONFIG_ENTITY_TYPES: Final = ("topics", "clients", "users", "brokers", "ips")
DEFAULT_ENTITY: Final = "<default>"

CONFIG_CHANGE_PREFIX: Final = "config_change_"
ISR_CHANGE_PREFIX: Final = "isr_change_"
LOG_DIR_EVENT_PREFIX: Final = "log_dir_event_"

# What a broker creates (persistent, empty) at start-up when missing, in Kafka's order.
PERSISTENT_PATHS: Final = (
    CONSUMERS,
    BROKER_IDS,
    BROKER_TOPICS,
    CONFIG_CHANGES,
    DELETE_TOPICS,
    BROKER_SEQID,
    ISR_CHANGE_NOTIFICATION,
    LATEST_PRODUCER_ID_BLOCK,
    LOG_DIR_EVENT_NOTIFICATION,
    *(f"{CONFIG}/{t}" for t in CONFIG_ENTITY_TYPES),
)

MAX_TOPIC_NAME_LENGTH: Final = 249
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")


def validate_topic_name(topic: str) -> None:
    """Kafka's topic name rules; raises CoordinationError saying which one is broken."""
    if not topic:
        raise CoordinationError("Topic name is illegal, it can't be empty")
    if topic in (".", ".."):
        raise CoordinationError("Topic name cannot be \".\" or \"..\"")
    if len(topic) > MAX_TOPIC_NAME_LENGTH:
        raise CoordinationError(
            f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters, topic name: {topic}"
        )
    if not _TOPIC_NAME.fullmatch(topic):
        raise CoordinationError(
            f"Topic name \"{topic}\" is illegal, it contains a character other than "
            "ASCII alphanumerics, '.', '_' and '-'"
        )


def topic_collision_key(topic: str) -> str:
    """Topics whose keys are equal collide in metric names ('.' and '_' are the same to Kafka)."""
    return topic.replace(".", "_")


def broker_path(broker_id: int) -> str:
    return f"{BROKER_IDS}/{broker_id}"


def topic_path(topic: str) -> str:
    return f"{BROKER_TOPICS}/{topic}"


def partitions_path(topic: str) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions"


def partition_path(topic: str, partition: int) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions/{partition}"


def partition_state_path(topic: str, partition: int) -> str:
    return f"{BROKER_TOPICS}/{topic}/partitions/{partition}/state"


def sanitize(name: str) -> str:
    """Kafka's Sanitizer: URL-encode (UTF-8) keeping only alphanumerics and ``.-_``; space is ``%20``."""
    return quote(name, safe=".-_").replace("~", "%7E")


def desanitize(name: str) -> str:
    return unquote(name)


def config_entity_path(entity_type: str, name: str) -> str:
    """``/config/<type>/<name>``; client ids and users are sanitized, ``<default>`` and topics are not."""
    if entity_type not in CONFIG_ENTITY_TYPES:
        raise CoordinationError(f"unknown config entity type {entity_type!r}")
    if entity_type in ("clients", "users") and name != DEFAULT_ENTITY:
        name = sanitize(name)
    return f"{CONFIG}/{entity_type}/{name}"


def topic_config_path(topic: str) -> str:
    return f"{CONFIG}/topics/{topic}"


def config_change_path_prefix() -> str:
    """Create with ``sequential=True``; ZooKeeper appends the 10-digit number."""
    return f"{CONFIG_CHANGES}/{CONFIG_CHANGE_PREFIX}"


def delete_topic_path(topic: str) -> str:
    return f"{DELETE_TOPICS}/{topic}"


def isr_change_path_prefix() -> str:
    return f"{ISR_CHANGE_NOTIFICATION}/{ISR_CHANGE_PREFIX}"


def log_dir_event_path_prefix() -> str:
    return f"{LOG_DIR_EVENT_NOTIFICATION}/{LOG_DIR_EVENT_PREFIX}"


def sequence_number(name: str, prefix: str) -> int:
    """The counter of a sequential child (``config_change_0000000007`` -> 7)."""
    tail = name.rsplit("/", 1)[-1]
    if not tail.startswith(prefix) or not tail[len(prefix) :].isdigit():
        raise CoordinationError(f"not a sequential node named {prefix}<number>", name)
    return int(tail[len(prefix) :])


# The 0.8 ZooKeeper consumer (kafka.consumer.ZookeeperConsumerConnector).


def consumer_group_path(group: str) -> str:
    return f"{CONSUMERS}/{group}"


def consumer_ids_path(group: str) -> str:
    return f"{CONSUMERS}/{group}/ids"


def consumer_id_path(group: str, consumer_id: str) -> str:
    return f"{CONSUMERS}/{group}/ids/{consumer_id}"


def consumer_owner_path(group: str, topic: str, partition: int) -> str:
    return f"{CONSUMERS}/{group}/owners/{topic}/{partition}"


def consumer_offset_path(group: str, topic: str, partition: int) -> str:
    return f"{CONSUMERS}/{group}/offsets/{topic}/{partition}"
