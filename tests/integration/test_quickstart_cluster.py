"""The multi-broker quick start of ../shared/seed/quickstart.txt, typed through the scripts/*.sh wrappers.

The seed's lines run in a scratch directory laid out like a Kafka installation: ``config/`` holds
copies of the repository's ``zookeeper.properties`` and ``server-{1,2,3}.properties`` in which only
ports (``clientPort``, ``listeners``, the port of ``zookeeper.connect``) and data directories
(``dataDir``, ``log.dirs``) are rewritten to free ports and temporary paths; every other setting
is as shipped (ZooKeeper session timeout 18 s, ``replica.lag.time.max.ms`` 30 s, RF 3 internal
topics, ``min.insync.replicas=2``).  ``scripts/`` is first on PATH, so each command line is the
seed's with ``localhost:2181`` / ``localhost:9092`` replaced by the free ports; the console consumer
gets ``--max-messages`` (and a ``--timeout-ms`` bound) so that it ends.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.broker_process import free_port

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
TOPIC = "my-replicated-topic"
MESSAGES = ["my test message 1", "my test message 2"]


@dataclass
class QuickStart:
    """A scratch Kafka directory: config/ copies, the processes started from it, and their ports."""

    home: Path
    zk_port: int = field(default_factory=free_port)
    broker_ports: dict[int, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def zk(self) -> str:
        return f"localhost:{self.zk_port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{SCRIPTS}:{os.environ.get('PATH', '')}",
                "KAFKA_HEAP_OPTS": "-Xmx128M -Xms32M", "LOG_DIR": str(self.home / "logs")}

    def write_configs(self) -> None:
        conf = self.home / "config"
        conf.mkdir(parents=True)
        zk = (REPO / "config" / "zookeeper.properties").read_text()
        zk = _set(zk, "dataDir", str(self.home / "zookeeper"))
        zk = _set(zk, "clientPort", str(self.zk_port))
        (conf / "zookeeper.properties").write_text(zk)
        for n in (1, 2, 3):
            port = free_port()
            self.broker_ports[n] = port
            text = (REPO / "config" / f"server-{n}.properties").read_text()
            text = _set(text, "listeners", f"PLAINTEXT://:{port}")
            text = _set(text, "log.dirs", str(self.home / f"kafka-logs-{n}"))
            text = _set(text, "zookeeper.connect", self.zk)
            (conf / f"server-{n}.properties").write_text(text)

    def background(self, name: str, line: str) -> subprocess.Popen[bytes]:
        """``line &``: its own process group and output file, killed at the end of the test."""
        (self.home / "logs").mkdir(exist_ok=True)
        with open(self.home / "logs" / f"{name}.out", "ab") as out:
            proc = subprocess.Popen(["bash", "-c", f"exec {line}"], cwd=self.home, env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def sh(self, line: str, stdin: str = "", timeout: float = 90) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(["bash", "-c", line], check=False, cwd=self.home, env=self.env(), input=stdin,
                             capture_output=True, text=True, timeout=timeout)
        assert res.returncode == 0, f"`{line}` exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
        return res

    def output(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.out"
        return "\n".join(path.read_text(errors="replace").splitlines()[-30:]) if path.exists() else ""

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)


def _set(text: str, key: str, value: str) -> str:
    """Rewrite the one active ``key=`` line of a properties file (fails if the file has none)."""
    pattern = re.compile(rf"^{re.escape(key)}=.*$", re.M)
    assert len(pattern.findall(text)) == 1, f"expected exactly one {key}= line in the shipped file"
    return pattern.sub(f"{key}={value}", text)


@pytest.fixture()
def qs(tmp_path: Path) -> Iterator[QuickStart]:
    q = QuickStart(tmp_path / "kafka")
    q.write_configs()
    try:
        yield q
    finally:
        q.kill_all()


def wait_until(what: str, check, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} (last seen: {last!r})")


def describe_line(q: QuickStart) -> dict[str, str]:
    out = q.sh(f"kafka-topics.sh --describe --zookeeper {q.zk} --topic {TOPIC}").stdout.splitlines()
    assert len(out) == 2, out
    assert out[0].startswith(f"Topic: {TOPIC}\tTopicId: ") and "\tPartitionCount: 1\tReplicationFactor: 3\t" in out[0]
    fields = out[1].split("\t")
    assert fields[0] == "" and fields[1:3] == [f"Topic: {TOPIC}", "Partition: 0"], out[1]
    parsed = dict(f.split(": ", 1) for f in fields[3:])
    assert list(parsed) == ["Leader", "Replicas", "Isr"], out[1]
    return parsed


def wait_listening(q: QuickStart, port: int, name: str) -> None:
    import socket

    def up() -> bool:
        proc = q.procs[name]
        assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{q.output(name)}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(f"{name} to listen on {port}", up, timeout=60)


def consume(q: QuickStart, count: int) -> list[str]:
    res = q.sh(f"kafka-console-consumer.sh --zookeeper {q.zk} --from-beginning --topic {TOPIC} "
               f"--max-messages {count} --timeout-ms 60000")
    assert res.stderr.endswith(f"Processed a total of {count} messages\n"), res.stderr
    return res.stdout.splitlines()


def test_multi_broker_quick_start(qs: QuickStart) -> None:
    qs.background("zookeeper", "zookeeper-server-start.sh config/zookeeper.properties")
    wait_listening(qs, qs.zk_port, "zookeeper")
    # 2. just start the nodes
    for n in (1, 2, 3):
        qs.background(f"server-{n}", f"kafka-server-start.sh config/server-{n}.properties")
    for n in (1, 2, 3):
        wait_listening(qs, qs.broker_ports[n], f"server-{n}")
    # 3. create new topic with replication factor of three
    created = qs.sh(f"kafka-topics.sh --create --zookeeper {qs.zk} --replication-factor 3 --partition 1 "
                    f"--topic {TOPIC}")
    assert created.stdout == f"Created topic {TOPIC}.\n"
    # 4. find out which broker is doing what
    first = wait_until("a leader and a full ISR", lambda: (d := describe_line(qs))["Leader"] != "none"
                       and len(d["Isr"].split(",")) == 3 and d)
    replicas = first["Replicas"].split(",")
    assert sorted(replicas) == ["1", "2", "3"] and first["Leader"] == replicas[0]
    assert sorted(first["Isr"].split(",")) == ["1", "2", "3"]
    # 5. publish a few messages to our new topic
    qs.sh(f"kafka-console-producer.sh --broker-list localhost:{qs.broker_ports[1]} --topic {TOPIC}",
          stdin="".join(m + "\n" for m in MESSAGES))
    # 6. consume these messages
    assert consume(qs, 2) == MESSAGES
    # 7. test out fault-tolerance: find the leader's process the seed's way and kill -9 it
    leader = int(first["Leader"])
    ps = qs.sh(f"ps ax -o pid=,args= | grep '[c]onfig/server-{leader}.properties'").stdout.split()
    pid = int(ps[0])
    assert pid == qs.procs[f"server-{leader}"].pid, ps
    qs.sh(f"kill -9 {pid}")
    qs.procs[f"server-{leader}"].wait(10)
    # 8. leadership has switched to one of the followers; the ISR lost the dead broker
    moved = wait_until("a new leader", lambda: (d := describe_line(qs))["Leader"] not in ("none", "-1",
                                                                                          str(leader)) and d)
    assert moved["Replicas"] == first["Replicas"]
    isr = moved["Isr"].split(",")
    assert str(leader) not in isr and len(isr) == 2 and moved["Leader"] in isr
    # 9. messages are still available
    assert consume(qs, 2) == MESSAGES
    # the killed broker comes back and rejoins the ISR
    qs.background(f"server-{leader}", f"kafka-server-start.sh config/server-{leader}.properties")
    wait_listening(qs, qs.broker_ports[leader], f"server-{leader}")
    back = wait_until("the ISR to grow back to three", lambda: len((d := describe_line(qs))["Isr"].split(",")) == 3
                      and d)
    assert sorted(back["Isr"].split(",")) == ["1", "2", "3"]
    assert consume(qs, 2) == MESSAGES
    for n in (1, 2, 3):
        log = qs.home / f"kafka-logs-{n}" / f"{TOPIC}-0" / "00000000000000000000.log"
        assert log.stat().st_size > 0, f"broker {n} holds no replica of the messages"
