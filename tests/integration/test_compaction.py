"""The broker's log cleaner against real clients: a compacted topic and ``__consumer_offsets``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from kafkatools.storage.checkpoints import read_offsets
from kafkatools.storage.inspect import iter_log_entries
from kafkatools.storage.names import TopicPartition as StorageTP
from kafkatools.wire.records import iter_records
from tests.integration.broker_process import BrokerProcess

OVERRIDES = {"log.cleaner.backoff.ms": "200", "offsets.topic.num.partitions": "1",
             "log.retention.check.interval.ms": "1000"}
TOPIC = "compacted"


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0,
             step: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if step is not None:
            step()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def cleaner_checkpoint(b: BrokerProcess, topic: str) -> int:
    return read_offsets(str(b.log_dir / "data" / "cleaner-offset-checkpoint")).get(StorageTP(topic, 0), 0)


def consume_all(b: BrokerProcess, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "reader", "enable.auto.commit": False})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out: list[tuple[int, bytes | None, bytes | None]] = []
        deadline = time.monotonic() + 15
        while (not out or out[-1][0] < high - 1) and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append((msg.offset(), msg.key(), msg.value()))
        assert out and out[-1][0] == high - 1, f"read up to {out[-1][0] if out else None}, high watermark {high}"
        return out
    finally:
        c.close()


def disk_records(b: BrokerProcess, topic: str) -> int:
    d = b.log_dir / "data" / f"{topic}-0"
    return sum(sum(1 for _ in iter_records(data)) for log in sorted(d.glob("*.log"))
               for _, data in iter_log_entries(str(log)))


def test_compacted_topic_keeps_latest_values_and_drops_tombstones(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", overrides=OVERRIDES).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1, config={
            "cleanup.policy": "compact", "segment.bytes": "1024", "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": "1000"})])[TOPIC].result(30)
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
        latest: dict[bytes, bytes] = {}
        for i in range(300):
            key, value = b"k%d" % (i % 5), b"value-%d" % i
            p.produce(TOPIC, key=key, value=value)
            latest[key] = value
        for key in (b"k0", b"k1"):
            p.produce(TOPIC, key=key, value=None)
            del latest[key]
        for i in range(60):  # push the tombstones out of the active segment
            p.produce(TOPIC, key=b"k%d" % (2 + i % 3), value=b"late-%d" % i)
            latest[b"k%d" % (2 + i % 3)] = b"late-%d" % i
        assert p.flush(20) == 0
        produced = 362
        wait_for("a first clean", lambda: cleaner_checkpoint(b, TOPIC) > 300)
        records = consume_all(b, TOPIC)
        offsets = [o for o, _, _ in records]
        assert offsets == sorted(set(offsets)) and offsets[-1] == produced - 1
        assert len(records) < produced / 4, len(records)
        seen: dict[bytes, bytes | None] = {}
        for _, key, value in records:
            assert key is not None
            seen[key] = value
        assert {k: v for k, v in seen.items() if v is not None} == latest

        def add_filler() -> None:  # a later clean, past the delete horizon, removes the tombstones
            for i in range(15):
                p.produce(TOPIC, key=b"k%d" % (2 + i % 3), value=b"filler-%d" % i)
                latest[b"k%d" % (2 + i % 3)] = b"filler-%d" % i
            p.flush(10)

        def tombstones_gone() -> bool:
            return not any(k in (b"k0", b"k1") for _, k, _ in consume_all(b, TOPIC))

        wait_for("tombstones removed after delete.retention.ms", tombstones_gone, step=add_filler, timeout=25)
        final = consume_all(b, TOPIC)
        assert {k: v for _, k, v in final} == latest
    finally:
        b.kill()


def test_consumer_offsets_are_compacted_and_survive_a_restart(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", overrides=OVERRIDES).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("data", 1, 1)])["data"].result(30)
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "g", "enable.auto.commit": False})
        commits = 150
        c.commit(offsets=[TopicPartition("data", 0, 0)], asynchronous=False)  # creates __consumer_offsets
        resource = ConfigResource("topic", "__consumer_offsets", incremental_configs=[
            ConfigEntry("segment.bytes", "1024", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("min.cleanable.dirty.ratio", "0.01", incremental_operation=AlterConfigOpType.SET)])
        for fut in admin.incremental_alter_configs([resource]).values():
            fut.result(30)
        for i in range(1, commits + 1):
            c.commit(offsets=[TopicPartition("data", 0, i)], asynchronous=False)
        c.close()
        wait_for("__consumer_offsets cleaned", lambda: cleaner_checkpoint(b, "__consumer_offsets") > 0)
        on_disk = disk_records(b, "__consumer_offsets")
        assert on_disk < commits / 2, on_disk
        assert b.stop() == 0
        b.start()
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "g", "enable.auto.commit": False})
        try:
            committed = c.committed([TopicPartition("data", 0)], timeout=15)
            assert committed[0].offset == commits
        finally:
            c.close()
    finally:
        b.kill()


def test_a_compacted_topic_refuses_records_without_a_key(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", overrides=OVERRIDES).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1, config={"cleanup.policy": "compact"})])[TOPIC].result(30)
        reports: list[tuple[object, bytes | None]] = []
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "retries": 0})
        p.produce(TOPIC, key=b"k", value=b"kept", on_delivery=lambda err, msg: reports.append((err, msg.key())))
        p.flush(10)
        p.produce(TOPIC, value=b"no key", on_delivery=lambda err, msg: reports.append((err, msg.key())))
        p.flush(10)
        assert len(reports) == 2 and reports[0][0] is None, reports
        err = reports[1][0]
        assert err is not None and "INVALID_RECORD" in str(err.name()), err
        assert [(k, v) for _, k, v in consume_all(b, TOPIC)] == [(b"k", b"kept")]
    finally:
        b.stop()
