"""Replication cost and fail-over time on a three-broker ZooKeeper cluster, with confluent-kafka.

Starts its own Apache ZooKeeper (``zookeeper-server-start``: Debian's package or ``ZOOKEEPER_HOME``)
and three ``kafka-server-start`` brokers on free 127.0.0.1 ports in a temporary directory, then:

1. produce throughput, 1 KB records, one partition: replication factor 3 with acks=all
   (``min.insync.replicas=2``) against replication factor 1 with acks=1, and their ratio (each run
   ``--repeat`` times, alternating, the median reported: one run is well under a second);
2. fail-over time, three times: kill -9 of the partition leader, then one acks=all record sent
   at once; the time from the kill until its delivery report is the time the cluster needed to
   notice the death (ZooKeeper session timeout), elect a new leader and tell the client.  The
   killed broker is restarted and back in the ISR before the next round.

Everything started is killed at the end.

    python benchmarks/replication.py [--mb 100] [--repeat 3] [--session-ms 6000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

BIN = Path(sys.executable).parent
RECORD = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Cluster:
    def __init__(self, work: Path, session_ms: int) -> None:
        self.work = work
        self.session_ms = session_ms
        self.zk_port = free_port()
        self.ports = {n: free_port() for n in (1, 2, 3)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.work / f"{name}.out", "ab") as out:
            self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=env, start_new_session=True)

    def start_zookeeper(self) -> None:
        conf = self.work / "zookeeper.properties"
        conf.write_text(f"dataDir={self.work / 'zk'}\nclientPort={self.zk_port}\nclientPortAddress=127.0.0.1\n"
                        "maxClientCnxns=0\nadmin.enableServer=false\n")
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx128M -Xms32M", "LOG_DIR": str(self.work)}
        self._spawn("zookeeper", [str(BIN / "zookeeper-server-start"), str(conf)], env)
        wait("ZooKeeper to listen", lambda: self._alive("zookeeper") and listening(self.zk_port))

    def start_broker(self, n: int) -> None:
        conf = self.work / f"server-{n}.properties"
        conf.write_text(
            f"broker.id={n}\nlisteners=PLAINTEXT://127.0.0.1:{self.ports[n]}\nlog.dirs={self.work / f'logs-{n}'}\n"
            f"zookeeper.connect=127.0.0.1:{self.zk_port}/bench\nzookeeper.session.timeout.ms={self.session_ms}\n"
            "replica.lag.time.max.ms=3000\noffsets.topic.replication.factor=1\nnum.partitions=1\n")
        self._spawn(f"broker-{n}", [str(BIN / "kafka-server-start"), str(conf)])
        wait(f"broker {n} to listen", lambda: self._alive(f"broker-{n}") and listening(self.ports[n]))

    def _alive(self, name: str) -> bool:
        proc = self.procs[name]
        if proc.poll() is not None:
            tail = (self.work / f"{name}.out").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
        return True

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)

    def kill_all(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.ports.values())


def partition_meta(admin: AdminClient, topic: str) -> Any:
    md = admin.list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    return t.partitions.get(0) if t is not None and t.error is None else None


def create(admin: AdminClient, topic: NewTopic) -> bool:
    try:
        admin.create_topics([topic])[topic.topic].result(30)
    except KafkaException as e:
        if e.args[0].code() == KafkaError.INVALID_REPLICATION_FACTOR:
            return False
        raise
    return True


def produce_throughput(bootstrap: str, topic: str, acks: str, count: int) -> tuple[float, float]:
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5, "enable.idempotence": False,
                  "queue.buffering.max.kbytes": 262144, "message.timeout.ms": 120_000})
    errors: list[Any] = []
    value = b"x" * RECORD
    p.produce(topic, value, partition=0)  # warm-up: metadata and connections
    p.flush(30)
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                p.produce(topic, value, partition=0, on_delivery=lambda e, _m: errors.append(e) if e else None)
                break
            except BufferError:
                p.poll(0.01)
    left = p.flush(120)
    elapsed = time.perf_counter() - start
    if left or errors:
        raise RuntimeError(f"{left} records undelivered, {len(errors)} failed: {errors[:3]}")
    return count / elapsed, count * RECORD / elapsed / 1e6


def failover_once(cluster: Cluster, admin: AdminClient, topic: str) -> float:
    meta = wait("a leader with a full ISR", lambda: (m := partition_meta(admin, topic)) is not None
                and m.leader > 0 and len(m.isrs) == 3 and m)
    victim = meta.leader
    p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 0, "retry.backoff.ms": 50,
                  "message.timeout.ms": 120_000, "topic.metadata.refresh.fast.interval.ms": 50})
    p.produce(topic, b"before", partition=0)
    if p.flush(30):
        raise RuntimeError("the record before the kill was not delivered")
    delivered: list[float] = []
    failed: list[Any] = []

    def report(err: Any, _msg: Any) -> None:
        (failed.append(err) if err else delivered.append(time.perf_counter()))

    cluster.kill(f"broker-{victim}")
    killed_at = time.perf_counter()
    p.produce(topic, b"after", partition=0, on_delivery=report)
    if p.flush(120) or failed or not delivered:
        raise RuntimeError(f"acks=all produce after the kill failed: {failed}")
    took = delivered[0] - killed_at
    cluster.start_broker(victim)
    wait("the killed broker back in the ISR", lambda: (m := partition_meta(admin, topic)) is not None
         and len(m.isrs) == 3, timeout=120)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="MB produced per throughput run (default 100)")
    ap.add_argument("--repeat", type=int, default=3, help="throughput runs per configuration (default 3)")
    ap.add_argument("--session-ms", type=int, default=6000, help="brokers' zookeeper.session.timeout.ms")
    ap.add_argument("--rounds", type=int, default=3, help="fail-over measurements (default 3)")
    args = ap.parse_args()
    count = args.mb * 1_000_000 // RECORD
    work = Path(tempfile.mkdtemp(prefix="kt-bench-repl-"))
    cluster = Cluster(work, args.session_ms)
    try:
        cluster.start_zookeeper()
        for n in (1, 2, 3):
            cluster.start_broker(n)
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        wait("three brokers in the metadata", lambda: len(admin.list_topics(timeout=10).brokers) == 3)
        topics = [NewTopic("rf3", 1, 3, config={"min.insync.replicas": "2"}), NewTopic("rf1", 1, 1),
                  NewTopic("failover", 1, 3, config={"min.insync.replicas": "2"})]
        for t in topics:  # the controller may count the last broker a moment after Metadata shows it
            wait(f"topic {t.topic} created", lambda t=t: create(admin, t))
        for t, rf in (("rf3", 3), ("rf1", 1), ("failover", 3)):
            wait(f"{t} led with a full ISR", lambda t=t, rf=rf: (m := partition_meta(admin, t)) is not None
                 and m.leader > 0 and len(m.isrs) == rf)
        print(f"3-broker ZooKeeper cluster, 1 partition, {count:,} records of {RECORD} B per run, "
              f"median of {args.repeat}")
        runs: dict[str, list[tuple[float, float]]] = {"rf3": [], "rf1": []}
        for _ in range(args.repeat):
            runs["rf3"].append(produce_throughput(cluster.bootstrap, "rf3", "all", count))
            runs["rf1"].append(produce_throughput(cluster.bootstrap, "rf1", "1", count))
        rf3, rf1 = (sorted(runs[t])[len(runs[t]) // 2] for t in ("rf3", "rf1"))
        print(f"  RF 3 acks=all : {rf3[0]:>10,.0f} records/s  {rf3[1]:7.1f} MB/s")
        print(f"  RF 1 acks=1   : {rf1[0]:>10,.0f} records/s  {rf1[1]:7.1f} MB/s")
        print(f"  ratio RF3/RF1 : {rf3[0] / rf1[0]:.2f}")
        print(f"fail-over: kill -9 of the leader -> first acks=all record delivered "
              f"(zookeeper.session.timeout.ms={args.session_ms})")
        times = []
        for i in range(args.rounds):
            took = failover_once(cluster, admin, "failover")
            times.append(took)
            print(f"  round {i + 1}: {took:.2f} s")
        print(f"  median : {statistics.median(times):.2f} s")
    finally:
        cluster.kill_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
