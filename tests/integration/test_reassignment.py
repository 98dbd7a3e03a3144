"""kafka-reassign-partitions on three real brokers and a real ZooKeeper: a partition moves from [1,2] to [2,3].

Checks the tool's lines, ZooKeeper's znodes (RS while moving, TRS after; /admin/reassign_partitions
for the --zookeeper way), that the new replica holds every record (kafka-dump-log on its segment)
and that the broker moved away from deletes its replica directory.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

from kafkatools.coordination import zk_paths as zp
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
from tests.integration.test_zookeeper_store import ZooKeeperProcess


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command("kafka-reassign-partitions"), *args], capture_output=True, text=True, timeout=60,
                          check=False)


def records_in(data_dir: Path, topic_partition: str) -> int:
    """How many records the replica's segments hold, read with kafka-dump-log."""
    total = 0
    for seg in sorted((data_dir / topic_partition).glob("*.log")):
        out = subprocess.run([command("kafka-dump-log"), "--files", str(seg)], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        total += sum(int(n) for n in re.findall(r"\bcount: (\d+)", out))
    return total


def move_file(tmp_path: Path, topic: str, replicas: list[int]) -> Path:
    f = tmp_path / f"move-{topic}.json"
    f.write_text(json.dumps({"version": 1, "partitions": [{"topic": topic, "partition": 0, "replicas": replicas}]}))
    return f


def test_execute_verify_list_moves_the_data(brokers: list[BrokerProcess], registry: ClusterRegistry,  # noqa: F811
                                            tmp_path: Path) -> None:
    wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    registry.create_topic("moving", {0: [1, 2]})
    wait_state(registry, "moving-0 led with ISR 1,2", lambda s: s.leader == 1 and sorted(s.isr) == [1, 2],
               topic="moving")
    bootstrap = ",".join(b.bootstrap for b in brokers)
    produce(bootstrap, "moving", [f"r{i}" for i in range(300)])
    wait_for("the follower to hold every record", lambda: records_in(brokers[1].log_dir / "data", "moving-0") == 300)

    plan = move_file(tmp_path, "moving", [2, 3])
    started = tool("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file", str(plan))
    assert started.returncode == 0, started.stderr
    assert started.stdout == (
        "Current partition replica assignment\n\n"
        '{"version":1,"partitions":[{"topic":"moving","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}\n\n'
        "Save this to use as the --reassignment-json-file option during rollback\n"
        "Successfully started partition reassignment for moving-0\n")

    def verified() -> str | None:
        out = tool("--bootstrap-server", bootstrap, "--verify", "--reassignment-json-file", str(plan))
        assert out.returncode == 0, out.stderr
        return out.stdout if "is completed." in out.stdout else None

    done = wait_for("--verify to report completion", verified, timeout=45)
    assert done == ("Status of partition reassignment:\nReassignment of partition moving-0 is completed.\n\n"
                    "Clearing broker-level throttles on brokers 1,2,3\n"
                    "Clearing topic-level throttles on topic moving\n")
    a = registry.topic_assignment("moving")
    assert a is not None and a.partitions == {0: [2, 3]} and a.adding_replicas == {} and a.removing_replicas == {}
    final = wait_state(registry, "leader 2 and ISR 2,3", lambda s: s.leader == 2 and sorted(s.isr) == [2, 3],
                       topic="moving")
    assert final.leader_epoch > 0
    assert records_in(brokers[2].log_dir / "data", "moving-0") == 300
    wait_for("broker 1 to delete its replica", lambda: not (brokers[0].log_dir / "data" / "moving-0").exists())
    topics = write(tmp_path / "topics.json", '{"version":1,"topics":[{"topic":"moving"}]}')
    generated = tool("--bootstrap-server", bootstrap, "--generate", "--broker-list", "1,3",
                     "--topics-to-move-json-file", str(topics))
    assert generated.returncode == 0, generated.stderr
    lines = generated.stdout.splitlines()
    assert lines[:4] == ["Current partition replica assignment", '{"version":1,"partitions":[{"topic":"moving",'
                         '"partition":0,"replicas":[2,3],"log_dirs":["any","any"]}]}', "",
                         "Proposed partition reassignment configuration"]
    assert sorted(json.loads(lines[4])["partitions"][0]["replicas"]) == [1, 3]
    listed = tool("--bootstrap-server", bootstrap, "--list")
    assert (listed.returncode, listed.stdout) == (0, "No partition reassignments found.\n")

    again = tool("--bootstrap-server", bootstrap, "--execute", "--reassignment-json-file",
                 str(move_file(tmp_path, "moving", [2, 4])))
    assert again.returncode == 1 and again.stdout == "" and again.stderr == "Unknown broker id 4\n"


def test_zookeeper_execute_writes_the_legacy_znode(brokers: list[BrokerProcess], registry: ClusterRegistry,  # noqa: F811
                                                   zookeeper: ZooKeeperProcess, chroot: str,  # noqa: F811
                                                   tmp_path: Path) -> None:
    zk = zookeeper.connect + chroot
    wait_for("three registrations", lambda: sorted(registry.live_brokers()) == [1, 2, 3])
    registry.create_topic("legacy", {0: [1, 2]})
    wait_state(registry, "legacy-0 with ISR 1,2", lambda s: sorted(s.isr) == [1, 2], topic="legacy")
    # a pending request makes a second --execute refuse, as Kafka <= 2.x did; the controller is frozen
    # meanwhile (its session outlives one tool run), else it may drop the request before the tool reads it
    controller = brokers[wait_for("a controller", registry.controller_id) - 1].proc
    assert controller is not None
    os.kill(controller.pid, signal.SIGSTOP)
    try:
        registry.store.create(zp.REASSIGN_PARTITIONS, b'{"version":1,"partitions":[]}')
        plan = move_file(tmp_path, "legacy", [3, 1])
        refused = tool("--zookeeper", zk, "--execute", "--reassignment-json-file", str(plan))
    finally:
        os.kill(controller.pid, signal.SIGCONT)
    assert (refused.returncode, refused.stderr) == (1, "There is an existing assignment running.\n")
    wait_for("the controller to drop the empty request", lambda: registry.store.exists(zp.REASSIGN_PARTITIONS) is None)

    started = tool("--zookeeper", zk, "--execute", "--reassignment-json-file", str(plan))
    assert started.returncode == 0, started.stderr
    assert started.stdout.endswith("Successfully started partition reassignment for legacy-0\n")
    wait_for("the znode to go once done", lambda: registry.store.exists(zp.REASSIGN_PARTITIONS) is None)
    a = registry.topic_assignment("legacy")
    assert a is not None and a.partitions == {0: [3, 1]} and a.removing_replicas == {}
    wait_state(registry, "ISR 3,1", lambda s: sorted(s.isr) == [1, 3] and s.leader == 1, topic="legacy")
    verified = tool("--zookeeper", zk, "--verify", "--reassignment-json-file", str(plan))
    assert verified.stdout == "Status of partition reassignment:\nReassignment of partition legacy-0 is completed.\n"
    wait_for("broker 2 to delete its replica", lambda: not (brokers[1].log_dir / "data" / "legacy-0").exists())
    generated = tool("--zookeeper", zk, "--generate", "--broker-list", "2,3", "--topics-to-move-json-file",
                     str(write(tmp_path / "topics.json", '{"version":1,"topics":[{"topic":"legacy"}]}')))
    assert generated.returncode == 0, generated.stderr
    lines = generated.stdout.splitlines()
    assert lines[:3] == ["Current partition replica assignment",
                         '{"version":1,"partitions":[{"topic":"legacy","partition":0,"replicas":[3,1],'
                         '"log_dirs":["any","any"]}]}', ""]
    assert lines[3] == "Proposed partition reassignment configuration"
    proposed = json.loads(lines[4])["partitions"][0]
    assert sorted(proposed["replicas"]) == [2, 3]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
