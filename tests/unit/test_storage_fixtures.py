"""Kafka-written files (../shared/kafka-fixtures) are read correctly, and what we write is byte-identical."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from kafkatools.storage import checkpoints as cp
from kafkatools.storage import metadata_files as mf
from kafkatools.storage.checkpoints import EpochEntry
from kafkatools.storage.errors import CheckpointError, InconsistentMetadataError, MetadataFileError
from kafkatools.storage.manager import LogManager
from kafkatools.storage.names import TopicPartition
from tests.unit.test_storage_batches import FIXTURES, build_batch

TP = TopicPartition

D023 = FIXTURES / "023aafc3112/core/data"
D0E1 = FIXTURES / "d0e182efc2e/core/data"
D904 = FIXTURES / "904af08e243/core/data"


def copy_dir(src: Path, tmp_path: Path) -> Path:
    """Fixture files are read-only: work on a writable copy."""
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    for root, dirs, files in os.walk(dst):
        for name in dirs + files:
            p = os.path.join(root, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    return dst


# -- checkpoints -----------------------------------------------------------------------------
EXPECTED_CHECKPOINTS = {
    D0E1 / "kafka-15043606438991224950/recovery-point-offset-checkpoint":
        [(TP("alter-reassignments-topic-1", 0), 0), (TP("alter-reassignments-topic-1", 1), 0),
         (TP("__consumer_offsets", 3), 0)],
    D0E1 / "kafka-15043606438991224950/replication-offset-checkpoint":
        [(TP("__consumer_offsets", 3), 0), (TP("alter-reassignments-topic-1", 1), 0),
         (TP("alter-reassignments-topic-1", 0), 0)],
    D0E1 / "kafka-11509578402819630597/recovery-point-offset-checkpoint":
        [(TP("alter-reassignments-topic-1", 0), 0), (TP("__consumer_offsets", 2), 0)],
    D023 / "kafka-1759832649084321778/replication-offset-checkpoint":
        [(TP("__consumer_offsets", 3), 0), (TP("__consumer_offsets", 0), 0), (TP("__consumer_offsets", 4), 0)],
    D023 / "kafka-11292028351815590561/replication-offset-checkpoint":
        [(TP("__consumer_offsets", 3), 0), (TP("alter-reassignments-topic-1", 0), 0)],
    D023 / "kafka-13980083082189751010/log-start-offset-checkpoint": [(TP("test-topic", 0), 1)],
    D023 / "kafka-13294002803961715372/replication-offset-checkpoint": [(TP("test-topic", 0), 1)],
    D904 / "kafka-573957/replication-offset-checkpoint": [(TP("test-topic", 1), 0)],
    D023 / "kafka-14696354110866436968/log-start-offset-checkpoint": [],
    D023 / "kafka-11292028351815590561/cleaner-offset-checkpoint": [],
    D904 / "kafka-573957/recovery-point-offset-checkpoint": [],
}


@pytest.mark.parametrize("path", list(EXPECTED_CHECKPOINTS), ids=lambda p: "/".join(p.parts[-2:]))
def test_offset_checkpoints_parse_and_rewrite_byte_identically(path: Path, tmp_path: Path) -> None:
    expected = EXPECTED_CHECKPOINTS[path]
    assert list(cp.read_offsets(str(path)).items()) == expected
    ours = tmp_path / "checkpoint"
    cp.write_offsets(str(ours), expected)
    kafka = path.read_bytes()
    # a 0-byte file is Kafka's "created, never written"; a written empty checkpoint is "0\n0\n"
    assert ours.read_bytes() == (kafka if kafka else b"0\n0\n")
    assert not (tmp_path / "checkpoint.tmp").exists()


def test_leader_epoch_checkpoints() -> None:
    assert cp.read_epochs(str(D023 / "kafka-13980083082189751010/test-topic-0/leader-epoch-checkpoint")) == [
        EpochEntry(1, 1)]
    assert cp.read_epochs(str(D023 / "kafka-1168504093769635972/__consumer_offsets-0/leader-epoch-checkpoint")) == [
        EpochEntry(2, 0)]
    assert cp.read_epochs(str(D0E1 / "kafka-15043606438991224950/alter-reassignments-topic-1-1/"
                                     "leader-epoch-checkpoint")) == []
    kafka = (D023 / "kafka-13294002803961715372/test-topic-0/leader-epoch-checkpoint").read_bytes()
    assert cp.format_epochs([EpochEntry(1, 0)]) == kafka


@pytest.mark.parametrize(("data", "message"), [
    (b"1\n0\n", "Unrecognized version"),
    (b"0\n2\nt 0 1\n", "Expected 2 entries"),
    (b"0\n1\nt 0 1\nu 0 2\n", "Expected 1 entries"),
    (b"0\n1\nt 0\n", "Malformed line"),
    (b"0\n1\nt x 1\n", "partition 'x' is not a number"),
    (b"zero\n", "version 'zero' is not a number"),
    (b"0\n", "entry count line is missing"),
])
def test_malformed_checkpoints_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        cp.parse_offsets(data, "some-file")


# -- meta.properties, partition.metadata, cleanshutdown ------------------------------------------
def test_meta_properties_v0_and_v1() -> None:
    v0 = mf.read_meta_properties(str(D023 / "kafka-1418838831197743059/meta.properties"))
    assert v0 == mf.MetaProperties(0, "j3Yn1Si1S127EGkmOa4uDA", 1)
    v1 = mf.read_meta_properties(str(D023 / "kafka-11292028351815590561/meta.properties"))
    assert v1 == mf.MetaProperties(1, "yCTClizsRPeNs5PF-ZWXEA", 0, "ec5fwQ4kR0it8AN-oSWMzQ")


def test_meta_properties_written_like_java_properties_store() -> None:
    for src, meta in [(D023 / "kafka-1418838831197743059/meta.properties", mf.MetaProperties(
            0, "j3Yn1Si1S127EGkmOa4uDA", 1)), (D023 / "kafka-11292028351815590561/meta.properties",
                                               mf.MetaProperties(1, "yCTClizsRPeNs5PF-ZWXEA", 0,
                                                                 "ec5fwQ4kR0it8AN-oSWMzQ"))]:
        kafka_lines = src.read_bytes().split(b"\n")
        our_lines = mf.format_meta_properties(meta).split(b"\n")
        assert our_lines[0] == b"#" and our_lines[1].startswith(b"#")
        assert our_lines[2:] == kafka_lines[2:]  # same keys, same order; only the date differs


def test_meta_properties_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    d = copy_dir(D023 / "kafka-1418838831197743059", tmp_path)
    with pytest.raises(InconsistentMetadataError, match=r"Invalid cluster\.id in: .*Expected other, but read j3Yn"):
        LogManager([str(d)], cluster_id="other", broker_id=1)
    with pytest.raises(InconsistentMetadataError, match="Stored node id 1 doesn't match previous node id 2"):
        LogManager([str(d)], cluster_id="j3Yn1Si1S127EGkmOa4uDA", broker_id=2)
    LogManager([str(d)], cluster_id="j3Yn1Si1S127EGkmOa4uDA", broker_id=1).close()


def test_partition_metadata_read_and_written_byte_identically(tmp_path: Path) -> None:
    src = D023 / "kafka-1418838831197743059/__consumer_offsets-3/partition.metadata"
    assert mf.read_partition_metadata(str(src)) == "BbEESfWOSc-dmfs-6ebp2g"
    ours = tmp_path / "partition.metadata"
    mf.write_partition_metadata(str(ours), "BbEESfWOSc-dmfs-6ebp2g")
    assert ours.read_bytes() == src.read_bytes()
    assert len(ours.read_bytes()) == 43
    with pytest.raises(MetadataFileError):
        mf.parse_partition_metadata(b"version: 1\ntopic_id: BbEESfWOSc-dmfs-6ebp2g")
    with pytest.raises(MetadataFileError):
        mf.parse_partition_metadata(b"version: 0\ntopic_id: short")


def test_random_uuid_is_kafka_shaped() -> None:
    for _ in range(50):
        text = mf.random_uuid()
        assert len(text) == 22 and not text.startswith("-")
        assert mf.uuid_to_base64(mf.uuid_from_base64(text)) == text


def test_clean_shutdown_marker() -> None:
    src = D0E1 / "kafka-15043606438991224950/.kafka_cleanshutdown"
    assert mf.format_clean_shutdown(-1) == src.read_bytes()
    assert mf.parse_clean_shutdown(src.read_bytes()) == -1
    assert mf.parse_clean_shutdown(b"") == -1
    assert json.loads(mf.format_clean_shutdown(7)) == {"version": 0, "brokerEpoch": 7}


# -- whole log dirs --------------------------------------------------------------------------
def test_zk_era_3x_dir_loads_and_reads_the_batch(tmp_path: Path) -> None:
    d = copy_dir(D023 / "kafka-13980083082189751010", tmp_path)
    mgr = LogManager([str(d)])
    log = mgr.get_log(TP("test-topic", 0))
    assert log is not None
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (1, 2, 1)
    assert log.topic_id == "_oPQ1Z_ISk2tKjvNlGKxVA"
    assert log.end_offset_for_epoch(1) == (1, 2)
    sl = log.read(1, 1000)
    assert sl is not None and sl.read_bytes() == build_batch([(b"k1", b"v1", 10), (b"k2", b"v2", 11)], leader_epoch=1)
    assert log.offset_for_timestamp(11) == (1, 11)
    assert log.max_timestamp_and_offset() == (11, 1)
    mgr.close()
    assert (d / ".kafka_cleanshutdown").read_bytes() == b'{"version":0,"brokerEpoch":-1}'
    assert (d / "log-start-offset-checkpoint").read_bytes() == b"0\n1\ntest-topic 0 1\n"
    assert (d / "test-topic-0/00000000000000000000.index").stat().st_size == 0  # trimmed: one batch, no entry
    assert (d / "test-topic-0/00000000000000000000.timeindex").read_bytes() == bytes.fromhex("000000000000000b00000001")


def test_cluster_metadata_segment_with_control_batch_reads_every_batch(tmp_path: Path) -> None:
    d = copy_dir(D023 / "kafka-1168504093769635972", tmp_path)
    mgr = LogManager([str(d)])
    log = mgr.get_log(TP("__cluster_metadata", 0))
    assert log is not None
    raw = (d / "__cluster_metadata-0/00000000000000000000.log").read_bytes()
    assert log.active_segment.size == len(raw) == 5505
    infos = list(log.active_segment.scan())
    assert sum(i.size for i in infos) == 5505 and len(infos) > 5
    for info in infos:
        sl = log.read(info.base_offset, 1)
        assert sl is not None and sl.position == info.position and len(sl) == info.size
    assert log.log_end_offset == infos[-1].next_offset
    mgr.close()


def test_deleted_partition_dirs_are_removed_at_start(tmp_path: Path) -> None:
    d = copy_dir(D023 / "kafka-14696354110866436968", tmp_path)
    mgr = LogManager([str(d)])
    assert mgr.logs == {}
    assert not any(p.name.endswith("-delete") for p in d.iterdir())
    mgr.close()


def test_clean_dir_with_orphan_indexes_and_empty_logs(tmp_path: Path) -> None:
    d = copy_dir(D0E1 / "kafka-15043606438991224950", tmp_path)
    mgr = LogManager([str(d)], cluster_id="u8dTcnt0SYeZ9iVnQTPd_A", broker_id=1)
    assert mgr.had_clean_shutdown[str(d)] is True
    assert not (d / ".kafka_cleanshutdown").exists()  # deleted once read
    assert sorted(mgr.logs) == [TP("alter-reassignments-topic-1", 0), TP("alter-reassignments-topic-1", 1)]
    for log in mgr.logs.values():
        assert log.log_end_offset == 0
    assert mgr.logs[TP("alter-reassignments-topic-1", 1)].topic_id == "h-tfeJMpRSm_RcVD9PcN_Q"
    mgr.close()


def test_zero_eight_era_dir_with_preallocated_zero_index_recovers(tmp_path: Path) -> None:
    d = copy_dir(D904 / "kafka-573957", tmp_path)
    index = d / "test-topic-1/00000000000000000000.index"
    assert index.stat().st_size == 1048576
    mgr = LogManager([str(d)])
    log = mgr.get_log(TP("test-topic", 1))
    assert log is not None and log.log_end_offset == 0 and len(log.active_segment.offset_index) == 0
    mgr.close()
    assert index.stat().st_size == 0


def test_lock_is_exclusive(tmp_path: Path) -> None:
    from kafkatools.storage.errors import LogDirLockedError

    mgr = LogManager([str(tmp_path / "d")])
    with pytest.raises(LogDirLockedError):
        LogManager([str(tmp_path / "d")])
    mgr.close()
    LogManager([str(tmp_path / "d")]).close()


def test_inspect_readers_show_files_as_they_are(tmp_path: Path) -> None:
    from kafkatools.storage import inspect

    zeros = D904 / "kafka-573957/test-topic-1/00000000000000000000.index"
    entries = inspect.read_offset_index(str(zeros))
    assert len(entries) == 131072 and entries[0] == (0, 0)
    log = D023 / "kafka-1168504093769635972/__cluster_metadata-0/00000000000000000000.log"
    got = list(inspect.iter_log_entries(str(log)))
    assert b"".join(data for _, data in got) == log.read_bytes()
    assert got[0][0].magic == 2
