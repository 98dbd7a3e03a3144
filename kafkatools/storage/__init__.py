"""The partition log in Kafka's exact on-disk format: segments, indexes, checkpoints, recovery.

Pure and synchronous: no sockets, no asyncio, no threads (the broker schedules flush/retention).
Entry points: ``LogManager`` (log dirs), ``PartitionLog`` (one partition), ``LogConfig``; the file
formats have their own modules (checkpoints, metadata_files, index, inspect)."""

from kafkatools.storage.checkpoints import EpochEntry
from kafkatools.storage.config import LogConfig, from_broker_properties
from kafkatools.storage.errors import (
    CheckpointError,
    InconsistentMetadataError,
    InvalidOffsetError,
    LogDirLockedError,
    MetadataFileError,
    StorageError,
)
from kafkatools.storage.fs import FileSystem
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.manager import LogManager
from kafkatools.storage.names import TopicPartition
from kafkatools.storage.segment import FileSlice, LogSegment

__all__ = [
    "CheckpointError",
    "EpochEntry",
    "FileSlice",
    "FileSystem",
    "InconsistentMetadataError",
    "InvalidOffsetError",
    "LogConfig",
    "LogDirLockedError",
    "LogManager",
    "LogSegment",
    "MetadataFileError",
    "PartitionLog",
    "StorageError",
    "TopicPartition",
    "from_broker_properties",
]
