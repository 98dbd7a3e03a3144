"""The single-node quick start of ../shared/seed/quickstart.txt, typed through the scripts/*.sh wrappers.

Every command is the seed's line with ``--bootstrap-server 127.0.0.1:<port>`` in place of
``--zookeeper localhost:2181`` (the default broker runs without ZooKeeper) and ``--broker-list``
kept as typed; the consumer gets ``--max-messages 2`` so that it ends.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.broker_process import BrokerProcess

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path / "kafka").start()
    try:
        yield b
    finally:
        b.kill()


def sh(line: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    res = subprocess.run(["bash", "-c", line], check=False, cwd=SCRIPTS, input=stdin, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, f"`{line}` exited {res.returncode}:\n{res.stderr}"
    return res


def test_single_node_quick_start(server: BrokerProcess) -> None:
    boot = f"--bootstrap-server {server.bootstrap}"
    created = sh(f"./kafka-topics.sh --create {boot} --replication-factor 1 --partition 1 --topic test")
    assert created.stdout == "Created topic test.\n"
    listed = sh(f"./kafka-topics.sh --list {boot}")
    assert listed.stdout.splitlines() == ["test"]
    sh(f"./kafka-console-producer.sh --broker-list {server.bootstrap} --topic test",
       stdin="this is a message\nthis is another message\n")
    consumed = sh(f"./kafka-console-consumer.sh {boot} --topic test --from-beginning --max-messages 2")
    assert consumed.stdout == "this is a message\nthis is another message\n"
    assert consumed.stderr.endswith("Processed a total of 2 messages\n")
    described = sh(f"./kafka-topics.sh --describe {boot} --topic test").stdout.splitlines()
    assert described[0].startswith("Topic: test\tTopicId: ") and "\tPartitionCount: 1\tReplicationFactor: 1\t" \
        in described[0]
    assert described[1] == "\tTopic: test\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A"
    log = server.log_dir / "data" / "test-0" / "00000000000000000000.log"
    assert log.stat().st_size > 0, "the records were not written to the partition's first segment"
