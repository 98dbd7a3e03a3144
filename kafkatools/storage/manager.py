"""The owner of one or more log dirs (Kafka's ``LogManager``): locks, identity, partitions, checkpoints.

Per log dir::

    .lock                              exclusive flock held while this manager owns the dir
    meta.properties                    identity; verified against the broker's cluster.id / broker.id
    recovery-point-offset-checkpoint   ┐
    replication-offset-checkpoint      │ text checkpoints covering every partition in the dir
    log-start-offset-checkpoint        │ (see checkpoints.py); created 0-byte when missing
    cleaner-offset-checkpoint          ┘ first dirty offset of compacted logs (written by the cleaner)
    .kafka_cleanshutdown               read and deleted at start; written by a clean close()
    <topic>-<partition>/               one PartitionLog each

Nothing here runs on its own: the broker calls ``checkpoint_*``, ``flush_dirty_logs`` and
``run_retention`` on its schedule (Kafka's defaults: recovery points and log starts every 60 s,
high watermarks every 5 s, retention every 300 s).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import IO

from kafkatools.storage import checkpoints
from kafkatools.storage.config import LogConfig
from kafkatools.storage.errors import LogDirLockedError, StorageError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem
from kafkatools.storage.log import PartitionLog, _wall_clock_ms
from kafkatools.storage.metadata_files import (
    MetaProperties,
    check_meta_properties,
    format_clean_shutdown,
    read_meta_properties,
    write_meta_properties,
)
from kafkatools.storage.names import (
    CLEAN_SHUTDOWN,
    CLEANER_CHECKPOINT,
    LOCK_FILE,
    LOG_START_CHECKPOINT,
    META_PROPERTIES,
    RECOVERY_POINT_CHECKPOINT,
    REPLICATION_CHECKPOINT,
    TopicPartition,
    delete_dir_name,
    parse_partition_dir,
    partition_dir_name,
    special_dir_kind,
)

_OFFSET_CHECKPOINTS = (RECOVERY_POINT_CHECKPOINT, REPLICATION_CHECKPOINT, LOG_START_CHECKPOINT, CLEANER_CHECKPOINT)


class LogManager:
    """Opens and locks log dirs, loads every partition log, and writes the per-dir checkpoint files."""

    def __init__(self, log_dirs: Iterable[str], default_config: LogConfig | None = None, *,
                 topic_configs: Mapping[str, LogConfig] | None = None, cluster_id: str | None = None,
                 broker_id: int | None = None, fs: FileSystem = DEFAULT_FS,
                 clock: Callable[[], int] = _wall_clock_ms) -> None:
        self.log_dirs = [os.path.abspath(d) for d in log_dirs]
        if not self.log_dirs:
            raise StorageError("no log dirs given")
        self.default_config = default_config or LogConfig()
        self.topic_configs: dict[str, LogConfig] = dict(topic_configs or {})
        self.fs = fs
        self.clock = clock
        self.logs: dict[TopicPartition, PartitionLog] = {}
        self._dir_of: dict[TopicPartition, str] = {}
        self._locks: list[IO[bytes]] = []
        #: log dir -> whether it had a .kafka_cleanshutdown marker at start-up
        self.had_clean_shutdown: dict[str, bool] = {}
        try:
            for d in self.log_dirs:
                self._open_dir(d, cluster_id, broker_id)
        except BaseException:
            self._release_locks()
            raise

    # -- start-up ----------------------------------------------------------------------------
    def _open_dir(self, d: str, cluster_id: str | None, broker_id: int | None) -> None:
        fs = self.fs
        fs.makedirs(d)
        handle = fs.lock(os.path.join(d, LOCK_FILE))
        if handle is None:
            raise LogDirLockedError(
                f"Failed to acquire lock on file .lock in {d}. A Kafka instance in another process or thread is "
                "using this directory.")
        self._locks.append(handle)
        self.ensure_meta_properties(d, cluster_id, broker_id)
        marker = os.path.join(d, CLEAN_SHUTDOWN)
        clean = fs.exists(marker)
        self.had_clean_shutdown[d] = clean
        for name in _OFFSET_CHECKPOINTS:
            fs.touch(os.path.join(d, name))
        recovery = checkpoints.read_offsets(os.path.join(d, RECOVERY_POINT_CHECKPOINT), fs)
        hw = checkpoints.read_offsets(os.path.join(d, REPLICATION_CHECKPOINT), fs)
        starts = checkpoints.read_offsets(os.path.join(d, LOG_START_CHECKPOINT), fs)
        for name in fs.listdir(d):
            path = os.path.join(d, name)
            if not fs.isdir(path):
                continue
            if special_dir_kind(name) == "delete":
                fs.rmtree(path)
                continue
            tp = parse_partition_dir(name)
            if tp is None:
                continue
            if tp in self.logs:
                raise StorageError(f"Duplicate log directories for {tp} are found: {self._dir_of[tp]} and {d}")
            self.logs[tp] = PartitionLog(path, tp, self.config_for(tp.topic), fs=fs, clock=self.clock,
                                         recovery_point=recovery.get(tp, 0), log_start_offset=starts.get(tp, 0),
                                         high_watermark=hw.get(tp, 0), clean_shutdown=clean)
            self._dir_of[tp] = d
        fs.remove(marker)
        self.checkpoint_recovery_points([d])
        self.checkpoint_log_start_offsets([d])

    def ensure_meta_properties(self, d: str, cluster_id: str | None, broker_id: int | None) -> MetaProperties:
        """Verify ``meta.properties`` against the expected identity, writing it when missing."""
        path = os.path.join(d, META_PROPERTIES)
        meta = read_meta_properties(path, self.fs)
        if meta is None:
            meta = MetaProperties(0, cluster_id, broker_id)
            if cluster_id is not None or broker_id is not None:
                write_meta_properties(path, meta, self.fs)
            return meta
        check_meta_properties(meta, path, cluster_id, broker_id)
        if meta.cluster_id is None and cluster_id is not None:
            meta = MetaProperties(meta.version, cluster_id, meta.node_id, meta.directory_id, meta.extra)
            write_meta_properties(path, meta, self.fs)
        return meta

    # -- partitions ----------------------------------------------------------------------------
    def config_for(self, topic: str) -> LogConfig:
        return self.topic_configs.get(topic, self.default_config)

    def set_topic_config(self, topic: str, config: LogConfig) -> None:
        self.topic_configs[topic] = config
        for tp, log in self.logs.items():
            if tp.topic == topic:
                log.update_config(config)

    def get_log(self, tp: TopicPartition) -> PartitionLog | None:
        return self.logs.get(tp)

    def get_or_create_log(self, tp: TopicPartition, topic_id: str | None = None) -> PartitionLog:
        """The partition's log, created empty in the log dir holding the fewest partitions if new."""
        log = self.logs.get(tp)
        if log is None:
            counts = {d: 0 for d in self.log_dirs}
            for d in self._dir_of.values():
                counts[d] += 1
            d = min(self.log_dirs, key=lambda x: counts[x])
            log = PartitionLog(os.path.join(d, partition_dir_name(tp)), tp, self.config_for(tp.topic),
                               fs=self.fs, clock=self.clock, clean_shutdown=True)
            self.logs[tp] = log
            self._dir_of[tp] = d
            self.fs.fsync_dir(d)
        if topic_id is not None:
            log.set_topic_id(topic_id)
        return log

    def delete_log(self, tp: TopicPartition) -> bool:
        """Rename the partition dir to ``<topic>-<partition>.<uuid>-delete``, then remove it."""
        log = self.logs.pop(tp, None)
        if log is None:
            return False
        d = self._dir_of.pop(tp)
        for seg in log.segments:
            seg.close_without_trim()
        target = os.path.join(d, delete_dir_name(tp))
        self.fs.rename(log.directory, target)
        self.fs.fsync_dir(d)
        self.fs.rmtree(target)
        self.checkpoint_all([d])
        return True

    def dir_of(self, tp: TopicPartition) -> str | None:
        return self._dir_of.get(tp)

    # -- checkpoints -----------------------------------------------------------------------------
    def _write_checkpoint(self, name: str, value: Callable[[PartitionLog], int], dirs: Iterable[str] | None) -> None:
        for d in dirs if dirs is not None else self.log_dirs:
            entries = [(tp, value(log)) for tp, log in sorted(self.logs.items()) if self._dir_of[tp] == d]
            checkpoints.write_offsets(os.path.join(d, name), entries, self.fs)

    def checkpoint_recovery_points(self, dirs: Iterable[str] | None = None) -> None:
        self._write_checkpoint(RECOVERY_POINT_CHECKPOINT, lambda log: log.recovery_point, dirs)

    def checkpoint_high_watermarks(self, dirs: Iterable[str] | None = None) -> None:
        self._write_checkpoint(REPLICATION_CHECKPOINT, lambda log: log.high_watermark, dirs)

    def checkpoint_log_start_offsets(self, dirs: Iterable[str] | None = None) -> None:
        self._write_checkpoint(LOG_START_CHECKPOINT, lambda log: log.log_start_offset, dirs)

    def checkpoint_all(self, dirs: Iterable[str] | None = None) -> None:
        chosen = list(dirs) if dirs is not None else None
        self.checkpoint_recovery_points(chosen)
        self.checkpoint_high_watermarks(chosen)
        self.checkpoint_log_start_offsets(chosen)

    # -- scheduled work (called by the broker) ---------------------------------------------------
    def flush_dirty_logs(self, now_ms: int) -> int:
        """Apply ``flush.ms`` to every log; returns how many were flushed."""
        return sum(1 for log in self.logs.values() if log.flush_if_due(now_ms))

    def run_retention(self, now_ms: int) -> int:
        """Apply retention.ms / retention.bytes / log start to every log; returns segments deleted."""
        deleted = sum(log.apply_retention(now_ms) for log in self.logs.values())
        if deleted:
            self.checkpoint_log_start_offsets()
        return deleted

    def cleaner_checkpoint(self, tp: TopicPartition) -> int | None:
        """The log cleaner's first dirty offset for ``tp`` (None: never cleaned)."""
        d = self._dir_of.get(tp)
        if d is None:
            return None
        return checkpoints.read_offsets(os.path.join(d, CLEANER_CHECKPOINT), self.fs).get(tp)

    def update_cleaner_checkpoint(self, tp: TopicPartition, offset: int) -> None:
        """Record ``offset`` as ``tp``'s first dirty offset; entries of partitions no longer here are dropped."""
        d = self._dir_of[tp]
        path = os.path.join(d, CLEANER_CHECKPOINT)
        entries = {k: v for k, v in checkpoints.read_offsets(path, self.fs).items() if self._dir_of.get(k) == d}
        entries[tp] = offset
        checkpoints.write_offsets(path, sorted(entries.items()), self.fs)

    # -- shutdown --------------------------------------------------------------------------------
    def close(self) -> None:
        """Clean shutdown: flush and close every log, write all checkpoints and ``.kafka_cleanshutdown``."""
        for log in self.logs.values():
            log.close()
        self.checkpoint_all()
        for d in self.log_dirs:
            self.fs.write_atomic(os.path.join(d, CLEAN_SHUTDOWN), format_clean_shutdown(-1))
        self._release_locks()

    def close_unclean(self) -> None:
        """Release everything as a crash would: no flush, no trim, no clean-shutdown marker (tests)."""
        for log in self.logs.values():
            log.close_unclean()
        self._release_locks()

    def _release_locks(self) -> None:
        for handle in self._locks:
            self.fs.unlock(handle)
        self._locks = []
