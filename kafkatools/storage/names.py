"""File and directory names of a Kafka log dir (Kafka's ``LogFileUtils`` / ``UnifiedLog`` naming).

    <topic>-<partition>/                        live partition
    <topic>-<partition>.<32 hex uuid>-delete/   deleted, awaiting removal
    <topic>-<partition>.<32 hex uuid>-future/   replica being moved between dirs
    <topic>-<partition>.<32 hex uuid>-stray/    stray replica (KRaft)
    <20-digit base offset>.log | .index | .timeindex | .txnindex | .snapshot
"""

from __future__ import annotations

import re
import uuid
from typing import Final, NamedTuple

LOG_SUFFIX: Final = ".log"
INDEX_SUFFIX: Final = ".index"
TIME_INDEX_SUFFIX: Final = ".timeindex"
TXN_INDEX_SUFFIX: Final = ".txnindex"
SNAPSHOT_SUFFIX: Final = ".snapshot"
DELETED_SUFFIX: Final = ".deleted"
CLEANED_SUFFIX: Final = ".cleaned"
SWAP_SUFFIX: Final = ".swap"

DELETE_DIR_SUFFIX: Final = "-delete"
FUTURE_DIR_SUFFIX: Final = "-future"
STRAY_DIR_SUFFIX: Final = "-stray"

META_PROPERTIES: Final = "meta.properties"
RECOVERY_POINT_CHECKPOINT: Final = "recovery-point-offset-checkpoint"
REPLICATION_CHECKPOINT: Final = "replication-offset-checkpoint"
LOG_START_CHECKPOINT: Final = "log-start-offset-checkpoint"
CLEANER_CHECKPOINT: Final = "cleaner-offset-checkpoint"
CLEAN_SHUTDOWN: Final = ".kafka_cleanshutdown"
LOCK_FILE: Final = ".lock"
LEADER_EPOCH_CHECKPOINT: Final = "leader-epoch-checkpoint"
PARTITION_METADATA: Final = "partition.metadata"

_SPECIAL_DIR: Final = re.compile(r"^(?P<tp>.+)\.(?P<uuid>[0-9a-f]{32})-(?P<kind>delete|future|stray)$")
_MAX_DIR_NAME: Final = 255


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


def segment_file_name(base_offset: int, suffix: str) -> str:
    """``00000000000000000042.log``: the base offset as 20 zero-padded decimal digits."""
    return f"{base_offset:020d}{suffix}"


def offset_from_file_name(name: str) -> int:
    """Base offset of a segment file name (the digits before the first dot)."""
    return int(name.split(".", 1)[0])


def partition_dir_name(tp: TopicPartition) -> str:
    return f"{tp.topic}-{tp.partition}"


def parse_partition_dir(name: str) -> TopicPartition | None:
    """The partition of a live ``<topic>-<partition>`` dir name; None for anything else."""
    if _SPECIAL_DIR.match(name):
        return None
    topic, dash, partition = name.rpartition("-")
    if not dash or not topic or not partition.isdigit():
        return None
    return TopicPartition(topic, int(partition))


def special_dir_kind(name: str) -> str | None:
    """``"delete"``, ``"future"`` or ``"stray"`` for such dir names, else None."""
    m = _SPECIAL_DIR.match(name)
    return m.group("kind") if m else None


def delete_dir_name(tp: TopicPartition, unique: str | None = None) -> str:
    """``<topic>-<partition>.<uuid>-delete``, the topic cut so the name stays within 255 characters."""
    suffix = f"-{tp.partition}.{unique or uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"
    return tp.topic[: _MAX_DIR_NAME - len(suffix)] + suffix
