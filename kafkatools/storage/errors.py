"""Exceptions raised by the storage layer.

All derive from ``KafkatoolsError`` so one boundary (the broker's start-up, a CLI's main) can
turn them into a one-line message.  Errors that a client must see with a Kafka error code
(offset out of range, for example) are raised as ``errors.KafkaError`` instead.

    StorageError                     a log dir or one of its files is unusable
     +-- CheckpointError             a text checkpoint file is malformed (d.9)
     +-- MetadataFileError           meta.properties / partition.metadata / cleanshutdown malformed
     +-- InconsistentMetadataError   cluster.id / broker.id of a log dir disagree with config
     +-- LogDirLockedError           another process holds the log dir's .lock
     +-- InvalidOffsetError          a follower append or index append is out of order
"""

from __future__ import annotations

from kafkatools.errors import KafkatoolsError


class StorageError(KafkatoolsError):
    """A log dir, segment or storage file cannot be used as asked."""


class CheckpointError(StorageError):
    """A checkpoint file is malformed: wrong version, wrong entry count or an unparsable line."""


class MetadataFileError(StorageError):
    """meta.properties, partition.metadata or .kafka_cleanshutdown cannot be parsed."""


class InconsistentMetadataError(StorageError):
    """The identity stored in a log dir does not match the broker's configuration."""


class LogDirLockedError(StorageError):
    """Another process holds the exclusive lock on a log dir."""


class InvalidOffsetError(StorageError):
    """Offsets handed to the log (follower append, index entry) are not increasing."""
