"""kafka-log-dirs, kafka-leader-election and kafka-reassign-partitions --cancel against real brokers.

On the three-broker ZooKeeper cluster: log dirs of every broker, a reorder-only reassignment that
leaves the old leader in charge, a preferred election that moves it to the new first replica, and
a cancelled move.  On a standalone broker: log dirs, and reassignment to its only broker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from kafkatools.coordination.cluster_registry import ClusterRegistry
from tests.integration.broker_process import BrokerProcess, command
from tests.integration.test_zk_cluster import (  # noqa: F401 - fixtures
    brokers,
    chroot,
    produce,
    registry,
    wait_for,
    wait_state,
    zookeeper,
)


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command(tool), *args], capture_output=True, text=True, timeout=60, check=False)


def partitions_of(doc: dict[str, object], broker: int) -> dict[str, int]:
    """partition -> size on ``broker`` in a kafka-log-dirs JSON document."""
    out: dict[str, int] = {}
    for b in doc["brokers"]:  # type: ignore[attr-defined]
        if b["broker"] == broker:
            for d in b["logDirs"]:
                assert d["error"] is None and d["logDir"].endswith("/data")
                out.update({p["partition"]: p["size"] for p in d["partitions"]})
    return out


def log_dirs(*args: str) -> dict[str, object]:
    out = run("kafka-log-dirs", "--describe", *args)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Querying brokers for log directories information" and len(lines) == 3
    assert lines[1].startswith("Received log directory information from brokers ")
    doc: dict[str, object] = json.loads(lines[2])
    assert list(doc) == ["brokers", "version"] and doc["version"] == 1
    return doc


def test_log_dirs_election_and_cancel_on_the_cluster(brokers: list[BrokerProcess],  # noqa: F811
                                                     registry: ClusterRegistry, tmp_path: Path) -> None:  # noqa: F811
    wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    bootstrap = ",".join(b.bootstrap for b in brokers)
    registry.create_topic("el", {0: [1, 2]})
    registry.create_topic("other", {0: [3]})
    wait_state(registry, "el-0 led by 1 with ISR 1,2", lambda s: s.leader == 1 and sorted(s.isr) == [1, 2], topic="el")
    produce(bootstrap, "el", [f"v{i}" for i in range(50)])
    wait_for("metadata of all brokers", lambda: "brokers 1,2,3" in run(
        "kafka-log-dirs", "--describe", "--bootstrap-server", bootstrap).stdout)

    doc = log_dirs("--bootstrap-server", bootstrap, "--topic-list", "el")
    assert [b["broker"] for b in doc["brokers"]] == [1, 2, 3]  # type: ignore[attr-defined]
    assert list(partitions_of(doc, 1)) == ["el-0"] and partitions_of(doc, 1)["el-0"] > 0
    assert list(partitions_of(doc, 3)) == []  # "other" is filtered out
    only3 = log_dirs("--bootstrap-server", bootstrap, "--broker-list", "3")
    assert [b["broker"] for b in only3["brokers"]] == [3] and "other-0" in partitions_of(only3, 3)  # type: ignore
    bad = run("kafka-log-dirs", "--describe", "--bootstrap-server", bootstrap, "--broker-list", "3,9")
    assert (bad.returncode, bad.stderr) == (1, "ERROR: The given brokers do not exist from --broker-list: 9. "
                                               "Current existent brokers: 1,2,3\n")

    # reorder only: broker 2 becomes the preferred replica, broker 1 stays leader
    plan = tmp_path / "reorder.json"
    plan.write_text('{"version":1,"partitions":[{"topic":"el","partition":0,"replicas":[2,1]}]}')
    started = run("kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--execute",
                  "--reassignment-json-file", str(plan))
    assert started.returncode == 0, started.stderr
    wait_for("the new order", lambda: (a := registry.topic_assignment("el")) is not None and a.partitions[0] == [2, 1])
    assert wait_state(registry, "leader still 1", lambda s: s.leader == 1, topic="el").leader == 1

    elected = run("kafka-leader-election", "--bootstrap-server", bootstrap, "--election-type", "preferred",
                  "--topic", "el", "--partition", "0")
    assert (elected.returncode, elected.stdout) == (0, "Successfully completed leader election (PREFERRED) for "
                                                       "partitions el-0\n"), elected.stderr
    wait_state(registry, "broker 2 leading", lambda s: s.leader == 2, topic="el")
    spec = tmp_path / "elect.json"
    spec.write_text('{"partitions":[{"topic":"el","partition":0}]}')
    again = run("kafka-leader-election", "--bootstrap-server", bootstrap, "--election-type", "PREFERRED",
                "--path-to-json-file", str(spec))
    assert (again.returncode, again.stdout) == (0, "Valid replica already elected for partitions el-0\n")
    everything = run("kafka-leader-election", "--bootstrap-server", bootstrap, "--election-type", "preferred",
                     "--all-topic-partitions")
    assert (everything.returncode, everything.stdout) == (0, ""), everything.stderr  # nothing needed an election

    # a move to broker 3 while it is frozen (SIGSTOP; its session outlives the few tool runs): list, then cancel
    move = tmp_path / "move.json"
    move.write_text('{"version":1,"partitions":[{"topic":"el","partition":0,"replicas":[3,2,1]}]}')
    frozen = brokers[2].proc
    assert frozen is not None
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        started = run("kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--execute",
                      "--reassignment-json-file", str(move))
        assert started.returncode == 0, started.stderr
        listed = run("kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--list")
        assert listed.stdout == "Current partition reassignments:\nel-0: replicas: 3,2,1. adding: 3.\n"
        busy = run("kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--execute",
                   "--reassignment-json-file", str(move))
        assert busy.returncode == 1 and busy.stderr.startswith("Cannot execute because there is an existing")
        cancelled = run("kafka-reassign-partitions", "--bootstrap-server", bootstrap, "--cancel",
                        "--reassignment-json-file", str(move))
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == ("Successfully cancelled partition reassignment for: el-0\n"
                                "None of the specified partition moves are active.\n"
                                "Clearing broker-level throttles on brokers 1,2,3\n"
                                "Clearing topic-level throttles on topic el\n")
    a = registry.topic_assignment("el")
    assert a is not None and a.partitions[0] == [2, 1] and a.adding_replicas == {}
    wait_state(registry, "ISR back to 2,1", lambda s: sorted(s.isr) == [1, 2] and s.leader == 2, topic="el")
    wait_for("broker 3 to drop the cancelled replica", lambda: not (brokers[2].log_dir / "data" / "el-0").exists())


def test_log_dirs_and_reassignment_on_a_standalone_broker(broker: BrokerProcess, tmp_path: Path) -> None:
    made = run("kafka-topics", "--create", "--bootstrap-server", broker.bootstrap, "--topic", "solo",
               "--partitions", "2", "--replication-factor", "1")
    assert made.returncode == 0, made.stderr
    produce(broker.bootstrap, "solo", ["a", "b", "c"])
    doc = log_dirs("--bootstrap-server", broker.bootstrap)
    sizes = partitions_of(doc, broker.node_id)
    assert {"solo-0", "solo-1"} <= set(sizes) and sum(sizes[p] for p in ("solo-0", "solo-1")) > 0

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"partitions": [{"topic": "solo", "partition": 1, "replicas": [broker.node_id]}]}))
    out = run("kafka-reassign-partitions", "--bootstrap-server", broker.bootstrap, "--execute",
              "--reassignment-json-file", str(plan))
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("Successfully started partition reassignment for solo-1\n")
    verified = run("kafka-reassign-partitions", "--bootstrap-server", broker.bootstrap, "--verify",
                   "--reassignment-json-file", str(plan))
    assert verified.stdout.startswith("Status of partition reassignment:\n"
                                      "Reassignment of partition solo-1 is completed.\n")
    listed = run("kafka-reassign-partitions", "--bootstrap-server", broker.bootstrap, "--list")
    assert listed.stdout == "No partition reassignments found.\n"
    cancelled = run("kafka-reassign-partitions", "--bootstrap-server", broker.bootstrap, "--cancel",
                    "--reassignment-json-file", str(plan))
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.startswith("None of the specified partition reassignments are active.\n"
                                       "None of the specified partition moves are active.\n")
