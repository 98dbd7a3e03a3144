"""kill -9 under load loses no acknowledged record; a clean stop lets the next start skip recovery.

A confluent-kafka producer (acks=1, in a thread, recording every acknowledged ``(partition,
offset) -> (key, value)`` from its delivery callbacks) writes to a 4-partition topic with small
segments (several rolls, dense indexes) while the broker — started by ``kafka-server-start`` — is
killed with SIGKILL.  Invariants after the restart on the same log dir:

* the crash left no ``.kafka_cleanshutdown`` marker and the restarted broker reports that it
  recovered the log dir after an unclean shutdown; a torn half batch appended to a segment by hand
  (what a power cut could leave) is cut off at restart (our loader drops a torn tail of the active
  segment even after a clean stop, so this part alone does not prove recovery ran — the log does);
* every acknowledged record is stored at the offset it was acknowledged with, byte for byte, and the
  producer (which keeps running across the restart) gets every record acknowledged in the end;
* ``kafka-dump-log --index-sanity-check`` passes on every index of the log dir, both as the crash
  left it and after the recovered broker stopped, and ``--verify-index-only`` finds no entry that
  points anywhere but at its batch.

A SIGTERM stop exits 0, writes the marker, and the next start loads without recovery, data intact.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from kafkatools.storage.inspect import iter_log_entries
from tests.integration.broker_process import BrokerProcess, command
from tests.integration.helpers_records import create_topic

pytestmark = pytest.mark.timeout(240)

TOPIC = "crash"
PARTITIONS = 4
MARKER = ".kafka_cleanshutdown"
RECOVERED = "recovered after an unclean shutdown"
SMALL_SEGMENTS = {"log.segment.bytes": str(256 * 1024), "log.index.interval.bytes": "1024"}


class AckedProducer(threading.Thread):
    """Produces ``k<i>``/value records as fast as it can until stopped; remembers what was acknowledged."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self.acked: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self.failed: list[str] = []
        self.sent = 0
        self.halt = threading.Event()
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "acks": 1, "enable.idempotence": False, "linger.ms": 5,
            "batch.size": 64 * 1024, "compression.type": "none", "message.timeout.ms": 120000, "retry.backoff.ms": 100,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500, "queue.buffering.max.messages": 20000,
        })

    def _done(self, err: Any, msg: Any) -> None:
        if err is None:
            self.acked[(msg.partition(), msg.offset())] = (msg.key(), msg.value())
        else:
            self.failed.append(str(err))

    def run(self) -> None:
        while not self.halt.is_set():
            key = b"k%07d" % self.sent
            try:
                self.producer.produce(TOPIC, key=key, value=key * 12, partition=self.sent % PARTITIONS,
                                      on_delivery=self._done)
            except BufferError:  # queue full while the broker is down: wait for it
                self.producer.poll(0.05)
                continue
            self.sent += 1
            if self.sent % 100 == 0:
                self.producer.poll(0)
        self.producer.flush(150)

    def wait_acked(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.02)
        assert len(self.acked) >= count, f"only {len(self.acked)} of {count} records acknowledged; {self.failed[:3]}"


def read_topic(bootstrap: str) -> dict[tuple[int, int], tuple[bytes, bytes]]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "crash-check", "enable.auto.commit": False})
    try:
        ends = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=30)[1] for p in range(PARTITIONS)}
        c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
        out: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        deadline = time.monotonic() + 90
        while len(out) < sum(ends.values()) and time.monotonic() < deadline:
            for m in c.consume(5000, 1.0):
                assert m.error() is None, m.error()
                out[(m.partition(), m.offset())] = (m.key(), m.value())
        assert len(out) == sum(ends.values()), f"read {len(out)} of {sum(ends.values())} records"
        return out
    finally:
        c.close()


def index_files(b: BrokerProcess) -> list[str]:
    files = sorted(str(p) for p in (b.log_dir / "data").glob(f"{TOPIC}-*/*") if p.suffix in (".index", ".timeindex"))
    assert files, "no index files were written"
    return files


def dump_log(args: list[str], files: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command("kafka-dump-log"), *args, "--files", ",".join(files)],
                          capture_output=True, text=True, timeout=120, check=False)


def assert_indexes_sane(b: BrokerProcess, verify: bool) -> None:
    files = index_files(b)
    sanity = dump_log(["--index-sanity-check"], files)
    assert sanity.returncode == 0 and not sanity.stderr, sanity.stdout[-2000:] + sanity.stderr[-2000:]
    answered = sanity.stdout.count(" passed sanity check.\n") + sanity.stdout.count(" is empty.\n")
    assert answered == len(files), sanity.stdout[-2000:]
    if verify:
        checked = dump_log(["--verify-index-only"], [f for f in files if f.endswith(".index")])
        assert checked.returncode == 0 and not checked.stderr, checked.stderr[-2000:]


def tear_last_batch(b: BrokerProcess) -> tuple[int, int]:
    """Append the first half of partition 0's last batch again, as a power cut mid-write would leave it.

    A kill -9 loses nothing the process wrote (the page cache keeps it), so the torn tail is made
    by hand: the restart must cut it off, or the broker would append after garbage.  Returns the
    ``(partition, offset)`` the torn copy claims (for failure messages).
    """
    log_file = sorted((b.log_dir / "data" / f"{TOPIC}-0").glob("*.log"))[-1]
    entries = list(iter_log_entries(str(log_file)))
    assert entries, f"{log_file} has no batch"
    info, raw = entries[-1]
    with open(log_file, "ab") as f:
        f.write(raw[: len(raw) // 2])
    return (0, info.last_offset + 1)


def assert_logs_whole(b: BrokerProcess) -> None:
    """Every segment is whole batches end to end: no torn tail, no garbage between appends."""
    for log_file in sorted((b.log_dir / "data").glob(f"{TOPIC}-*/*.log")):
        covered = sum(info.size for info, _ in iter_log_entries(str(log_file)))
        assert covered == log_file.stat().st_size, f"{log_file}: {log_file.stat().st_size - covered} stray bytes"


def output_since(b: BrokerProcess, position: int) -> str:
    assert b.output is not None
    return b.output.read_bytes()[position:].decode(errors="replace")


def test_kill_9_under_acks_1_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", overrides=SMALL_SEGMENTS).start()
    producer: AckedProducer | None = None
    try:
        create_topic(b.bootstrap, TOPIC, PARTITIONS)
        producer = AckedProducer(b.bootstrap)
        producer.start()
        producer.wait_acked(30_000)
        b.kill()
        acked_by_first = dict(producer.acked)
        assert not (b.log_dir / "data" / MARKER).exists(), "kill -9 left a clean-shutdown marker"
        assert_indexes_sane(b, verify=False)  # as the crash left them (preallocated, zero tails)
        torn = tear_last_batch(b)
        assert b.output is not None
        position = b.output.stat().st_size
        b.start()
        restarted = output_since(b, position)
        assert RECOVERED in restarted, restarted[-3000:]
        producer.wait_acked(len(acked_by_first) + 10_000, timeout=120)
        producer.halt.set()
        producer.join(180)
        assert not producer.is_alive(), "producer did not finish"
        assert not producer.failed, producer.failed[:5]
        assert len(producer.acked) == producer.sent, f"{producer.sent - len(producer.acked)} records never acked"
        stored = read_topic(b.bootstrap)
        lost = [(tp, kv) for tp, kv in producer.acked.items() if stored.get(tp) != kv]
        assert not lost, f"{len(lost)} acknowledged records missing or different, e.g. {lost[:3]}"
        assert all(stored.get(tp) == kv for tp, kv in acked_by_first.items())
        sent_pairs = set(producer.acked.values())
        strays = [(tp, kv) for tp, kv in stored.items() if kv not in sent_pairs]
        assert not strays, f"records nobody sent (torn tail at {torn} not cut?): {strays[:3]}"
        assert b.stop() == 0, b.log_tail()
        assert_indexes_sane(b, verify=True)
        assert_logs_whole(b)
        assert "Traceback" not in b.output.read_text(errors="replace"), b.log_tail(80)
    finally:
        if producer is not None:
            producer.halt.set()
        b.kill()


def test_sigterm_then_restart_skips_recovery(tmp_path: Path) -> None:
    b = BrokerProcess(tmp_path / "broker", overrides=SMALL_SEGMENTS).start()
    try:
        create_topic(b.bootstrap, TOPIC, PARTITIONS)
        sent: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        p = Producer({"bootstrap.servers": b.bootstrap, "acks": 1, "linger.ms": 5})

        def done(err: Any, msg: Any) -> None:
            assert err is None, err
            sent[(msg.partition(), msg.offset())] = (msg.key(), msg.value())

        for i in range(20_000):
            p.produce(TOPIC, key=b"c%d" % i, value=b"clean-%d" % i, partition=i % PARTITIONS, on_delivery=done)
            if i % 500 == 0:
                p.poll(0)
        assert p.flush(60) == 0
        assert len(sent) == 20_000
        assert b.stop() == 0, b.log_tail()
        assert (b.log_dir / "data" / MARKER).exists(), "a clean stop must leave .kafka_cleanshutdown"
        assert_indexes_sane(b, verify=True)
        assert b.output is not None
        position = b.output.stat().st_size
        b.start()
        restarted = output_since(b, position)
        assert re.search(r"Loaded \d+ partitions from ", restarted), restarted
        assert RECOVERED not in restarted, restarted
        assert not (b.log_dir / "data" / MARKER).exists(), "the marker must be consumed at start-up"
        assert read_topic(b.bootstrap) == sent
        assert "Traceback" not in b.output.read_text(errors="replace"), b.log_tail(80)
    finally:
        b.kill()
