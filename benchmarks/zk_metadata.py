"""How long a ZooKeeper-mode broker takes to read the cluster's metadata, and its controller one pass.

Starts its own Apache ZooKeeper (``zookeeper-server-start``) on a free 127.0.0.1 port, writes
``--topics`` topics of ``--partitions`` partitions (replication factor 3, three registered brokers),
lets a controller write every partition state, then times, ``--repeat`` times each (median printed):

* ``read_snapshot``: what every broker re-reads after a watch fires (brokers, topics, configs, states);
* ``reconcile``: one controller pass with nothing to change (reassignments, elections, deletions);

once with the reads pipelined (``get_many``, what the broker does) and once with the same reads made
one round trip at a time (how they were made before), so the figures show what pipelining buys.

    python benchmarks/zk_metadata.py [--topics 200] [--partitions 5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kafkatools.broker.zk.controller import ZkController
from kafkatools.broker.zk.zk_cluster import ZkCluster, read_snapshot
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.errors import CoordinationError, NoNodeError
from kafkatools.coordination.kazoo_store import KazooStore
from kafkatools.coordination.store import Stat, Watcher

BIN = Path(sys.executable).parent


class OneAtATime(KazooStore):
    """``get_many`` as a loop of ``get``: one round trip per znode."""

    def get_many(self, paths: Sequence[str], watch: Watcher | None = None) -> list[tuple[bytes, Stat] | None]:
        out: list[tuple[bytes, Stat] | None] = []
        for path in paths:
            try:
                out.append(self.get(path, watch))
            except NoNodeError:
                out.append(None)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_zookeeper(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = work / "zookeeper.properties"
    conf.write_text(f"dataDir={work / 'zk'}\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
                    "maxClientCnxns=0\nadmin.enableServer=false\n")
    env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx256M -Xms32M", "LOG_DIR": str(work)}
    with open(work / "zookeeper.out", "wb") as out:
        proc = subprocess.Popen([str(BIN / "zookeeper-server-start"), str(conf)], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    connect = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"zookeeper-server-start exited with {proc.returncode}: see {work / 'zookeeper.out'}")
        try:
            KazooStore(connect, connect_timeout_s=2.0).close()
            return proc, connect
        except CoordinationError:
            if time.monotonic() > deadline:
                raise SystemExit("ZooKeeper did not start within 60 s") from None


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=200)
    ap.add_argument("--partitions", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)  # its start-up probes would log refused connections
    work = Path(tempfile.mkdtemp(prefix="kt-zkbench-"))
    proc, connect = start_zookeeper(work)
    try:
        setup = KazooStore(connect + "/bench")
        registry = ClusterRegistry(setup)
        registry.ensure_persistent_paths()
        for b in (1, 2, 3):
            endpoint = zl.Endpoint("PLAINTEXT", "h", 9000 + b, "PLAINTEXT")
            registry.register_broker(zl.BrokerRegistration(b, (endpoint,), 1))
        writer = ZkCluster(registry, 1, "bench")
        ring = [1, 2, 3]
        for t in range(args.topics):
            assignment = [[ring[(p + i) % 3] for i in range(3)] for p in range(args.partitions)]
            writer.create_topic(f"topic-{t}", assignment, {})
        controller = ZkController(registry, 1)
        if not controller.elect():
            raise SystemExit("could not become controller")
        controller.reconcile()  # writes every partition state
        total = args.topics * args.partitions
        print(f"{args.topics} topics x {args.partitions} partitions = {total} partitions, median of {args.repeat}")
        print(f"{'':28s} {'pipelined':>12s} {'one at a time':>14s} {'ratio':>7s}")
        slow_store = OneAtATime(connect + "/bench")
        slow = ClusterRegistry(slow_store)
        slow_controller = ZkController(slow, 2)
        slow_controller.claim = controller.claim  # the same fenced claim: only reads differ
        rows = [
            ("read_snapshot", lambda: read_snapshot(registry), lambda: read_snapshot(slow)),
            ("controller pass (reconcile)", controller.reconcile, slow_controller.reconcile),
        ]
        for name, fast_fn, slow_fn in rows:
            fast_ms = median_ms(fast_fn, args.repeat)
            slow_ms = median_ms(slow_fn, args.repeat)
            print(f"{name:28s} {fast_ms:9.1f} ms {slow_ms:11.1f} ms {slow_ms / fast_ms:6.1f}x")
        slow_store.close()
        setup.close()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
