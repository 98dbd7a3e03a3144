"""Real clients (confluent-kafka, kafka-python, aiokafka) as one group over a 6-partition topic.

Each member is a subprocess (so ``kill -9`` is real) that logs every processed record and every
synchronous commit (offset after processing) to files.  Script: three members consume; a fourth
joins; one leaves cleanly; one is killed with -9 and its partitions move after the 6 s session
timeout.  Checked: every record is processed; a record processed twice was processed by the
killed member at or after its last commit on that partition (the only allowed re-delivery).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from tests.integration.broker_process import BrokerProcess

TOPIC, GROUP = "work", "workers"
WORKER = r'''
import asyncio, os, sys
lib, bootstrap, log = sys.argv[1], sys.argv[2], sys.argv[3]
stop = log + ".stop"
out = open(log, "a", buffering=1)
def processed(p, o): out.write(f"P {p} {o}\n")
def committed(p, o): out.write(f"C {p} {o}\n")
if lib == "confluent":
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "workers", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000})
    c.subscribe(["work"])
    while not os.path.exists(stop):
        m = c.poll(0.1)
        if m is None or m.error(): continue
        processed(m.partition(), m.offset())
        c.commit(offsets=[TopicPartition("work", m.partition(), m.offset() + 1)], asynchronous=False)
        committed(m.partition(), m.offset() + 1)
    c.close()
elif lib == "kafka-python":
    from kafka import KafkaConsumer, TopicPartition, OffsetAndMetadata
    c = KafkaConsumer("work", group_id="workers", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=1000)
    while not os.path.exists(stop):
        for tp, records in c.poll(100, max_records=1).items():
            for r in records:
                processed(tp.partition, r.offset)
                c.commit({tp: OffsetAndMetadata(r.offset + 1, "", -1)})
                committed(tp.partition, r.offset + 1)
    c.close()
else:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    async def main():
        c = AIOKafkaConsumer("work", group_id="workers", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=1000)
        await c.start()
        try:
            while not os.path.exists(stop):
                batch = await c.getmany(timeout_ms=100, max_records=1)
                for tp, records in batch.items():
                    for r in records:
                        processed(tp.partition, r.offset)
                        await c.commit({tp: r.offset + 1})
                        committed(tp.partition, r.offset + 1)
        finally:
            await c.stop()
    asyncio.run(main())
'''


def read_log(path: Path) -> tuple[list[tuple[int, int]], dict[int, int]]:
    done: list[tuple[int, int]] = []
    commits: dict[int, int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            kind, p, o = line.split()
            if kind == "P":
                done.append((int(p), int(o)))
            else:
                commits[int(p)] = max(commits.get(int(p), 0), int(o))
    return done, commits


def produce(bootstrap: str, start: int, count: int) -> None:
    p = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(start, start + count):
        p.send(TOPIC, value=b"%d" % i, partition=i % 6)
    p.flush()
    p.close()


def wait_all(logs: list[Path], total: int, deadline: float) -> Counter[tuple[int, int]]:
    while True:
        seen: Counter[tuple[int, int]] = Counter()
        for log in logs:
            seen.update(read_log(log)[0])
        if len(seen) >= total or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_three_client_libraries_share_a_group_through_join_leave_and_kill(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "broker", overrides={"group.initial.rebalance.delay.ms": "0",
                                                          "offsets.topic.num.partitions": "5"}).start()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}

    def spawn(name: str, lib: str) -> None:
        logs[name] = tmp_path / f"{name}.log"
        with open(tmp_path / f"{name}.err", "wb") as err:
            procs[name] = subprocess.Popen([sys.executable, str(script), lib, broker.bootstrap, str(logs[name])],
                                           stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)

    deadline = time.monotonic() + 150
    try:
        KafkaAdminClient(bootstrap_servers=broker.bootstrap).create_topics([NewTopic(TOPIC, 6, 1)])
        produce(broker.bootstrap, 0, 300)
        for name, lib in (("conf", "confluent"), ("kpy", "kafka-python"), ("aio", "aiokafka")):
            spawn(name, lib)
        seen = wait_all(list(logs.values()), 300, deadline)
        assert len(seen) == 300, f"first phase: {len(seen)} of 300 processed"

        spawn("conf2", "confluent")
        time.sleep(3)
        produce(broker.bootstrap, 300, 60)
        (tmp_path / "kpy.log.stop").touch()  # clean leave
        assert procs["kpy"].wait(30) == 0
        produce(broker.bootstrap, 360, 60)
        time.sleep(2)
        os.killpg(procs["aio"].pid, signal.SIGKILL)
        procs["aio"].wait(10)
        produce(broker.bootstrap, 420, 120)
        seen = wait_all(list(logs.values()), 540, deadline)
        assert len(seen) == 540, f"{len(seen)} of 540 processed; stderr: " + " | ".join(
            (tmp_path / f"{n}.err").read_text()[-300:] for n in logs)

        killed_done, killed_commits = read_log(logs["aio"])
        after_last_commit = {(p, o) for p, o in killed_done if o >= killed_commits.get(p, 0)}
        duplicates = {key for key, n in seen.items() if n > 1}
        assert duplicates <= after_last_commit, f"unexpected re-deliveries: {sorted(duplicates - after_last_commit)}"
        for name in ("conf", "kpy", "aio", "conf2"):
            assert read_log(logs[name])[0], f"{name} processed nothing"
    finally:
        for name, proc in procs.items():
            if proc.poll() is None:
                (tmp_path / f"{name}.log.stop").touch()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        broker.kill()
