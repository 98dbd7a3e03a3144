"""The issue-4 network tools as real subprocesses against a real broker (started by kafka-server-start)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.broker_process import BrokerProcess, command


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("tools-broker")).start()
    try:
        yield b
    finally:
        b.kill()


def tool(name: str, *args: str, stdin: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([command(name), *args], check=False, input=stdin, capture_output=True, text=True, timeout=60)
    if ok:
        assert res.returncode == 0, f"{name} {args} exited {res.returncode}: {res.stderr}"
    return res


def create(kb: BrokerProcess, topic: str, partitions: int = 1, *extra: str) -> None:
    tool("kafka-topics", "--bootstrap-server", kb.bootstrap, "--create", "--topic", topic,
         "--partitions", str(partitions), "--replication-factor", "1", *extra)


def consume(kb: BrokerProcess, topic: str, n: int, *props: str) -> subprocess.CompletedProcess[str]:
    args = ["--bootstrap-server", kb.bootstrap, "--topic", topic, "--from-beginning", "--max-messages", str(n),
            "--timeout-ms", "10000"]
    for p in props:
        args += ["--property", p]
    return tool("kafka-console-consumer", *args)


def test_topics_create_list_describe_alter_delete(kb: BrokerProcess) -> None:
    b = kb.bootstrap
    res = tool("kafka-topics", "--bootstrap-server", b, "--create", "--topic", "orders.v1", "--partitions", "2",
               "--replication-factor", "1", "--config", "retention.ms=86400000")
    assert res.stdout.splitlines() == [
        "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. "
        "To avoid issues it is best to use either, but not both.", "Created topic orders.v1."]
    create(kb, "plain")
    listed = tool("kafka-topics", "--bootstrap-server", b, "--list", "--exclude-internal").stdout.splitlines()
    assert "orders.v1" in listed and "plain" in listed and listed == sorted(listed)
    desc = tool("kafka-topics", "--bootstrap-server", b, "--describe", "--topic", r"orders\.v1").stdout
    lines = desc.splitlines()
    assert re.fullmatch(r"Topic: orders\.v1\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 2\tReplicationFactor: 1\t"
                        r"Configs: retention\.ms=86400000", lines[0]), lines[0]
    assert lines[1:] == [f"\tTopic: orders.v1\tPartition: {p}\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\t"
                         "LastKnownElr: N/A" for p in (0, 1)]
    plain = tool("kafka-topics", "--bootstrap-server", b, "--describe", "--topic", "plain").stdout.splitlines()[0]
    assert plain.endswith("\tConfigs: ")
    overrides = tool("kafka-topics", "--bootstrap-server", b, "--describe", "--topics-with-overrides").stdout
    assert "orders.v1" in overrides and "plain" not in overrides and "\tPartition:" not in overrides
    tool("kafka-topics", "--bootstrap-server", b, "--alter", "--topic", "plain", "--partitions", "3")
    js = json.loads(tool("kafka-topics", "--bootstrap-server", b, "--describe", "--topic", "plain", "--output",
                         "json").stdout)
    assert js["partition_count"] == 3 and [p["partition"] for p in js["partitions"]] == [0, 1, 2]
    missing = tool("kafka-topics", "--bootstrap-server", b, "--describe", "--topic", "nope", ok=False)
    assert missing.returncode == 1
    assert missing.stderr == "Error while executing topic command : Topic 'Optional[nope]' does not exist as expected\n"
    assert tool("kafka-topics", "--bootstrap-server", b, "--delete", "--topic", "nope", "--if-exists").stdout == ""
    dup = tool("kafka-topics", "--bootstrap-server", b, "--create", "--topic", "plain", ok=False)
    assert dup.returncode == 1 and dup.stderr.startswith("Error while executing topic command : ")
    assert tool("kafka-topics", "--bootstrap-server", b, "--create", "--topic", "plain", "--if-not-exists").returncode \
        == 0
    tool("kafka-topics", "--bootstrap-server", b, "--delete", "--topic", "plain")
    assert "plain" not in tool("kafka-topics", "--bootstrap-server", b, "--list").stdout.splitlines()


def test_producer_properties_and_consumer_formatter(kb: BrokerProcess) -> None:
    create(kb, "fmt")
    lines = "h1:v1,h2:NIL\tk1\tvalue one\nNIL\tNIL\tvalue two\nNIL\tk3\tNIL\n"
    tool("kafka-console-producer", "--broker-list", kb.bootstrap, "--topic", "fmt", "--property", "parse.key=true",
         "--property", "parse.headers=true", "--property", "null.marker=NIL", "--compression-codec", "--sync",
         stdin=lines)
    res = consume(kb, "fmt", 3, "print.key=true", "print.headers=true", "print.partition=true", "print.offset=true",
                  "print.timestamp=true", "null.literal=<null>")
    rows = [ln.split("\t") for ln in res.stdout.splitlines()]
    assert [r[1:] for r in rows] == [
        ["Partition:0", "Offset:0", "h1:v1,h2:<null>", "k1", "value one"],
        ["Partition:0", "Offset:1", "NO_HEADERS", "<null>", "value two"],
        ["Partition:0", "Offset:2", "NO_HEADERS", "k3", "<null>"]]
    assert all(re.fullmatch(r"CreateTime:\d{13}", r[0]) for r in rows)
    assert res.stderr.strip().endswith("Processed a total of 3 messages")
    sep = consume(kb, "fmt", 1, "print.key=true", "key.separator=|", "line.separator=;")
    assert sep.stdout == "k1|value one;"


def test_producer_errors_are_one_line(kb: BrokerProcess) -> None:
    res = tool("kafka-console-producer", "--bootstrap-server", kb.bootstrap, "--topic", "perr", "--property",
               "parse.key=true", stdin="k\tv\nno separator here\n", ok=False)
    assert res.returncode == 1
    assert res.stderr == "kafka-console-producer: No key separator found on line number 2: 'no separator here'\n"
    # the line read before the bad one was still sent
    assert consume(kb, "perr", 1, "print.key=true").stdout == "k\tv\n"
    bad = tool("kafka-console-producer", "--bootstrap-server", kb.bootstrap, "--topic", "perr", "--property",
               "parse.headers=true", "--property", "headers.separator=\t", ok=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "may not be equal" in bad.stderr


def test_keyed_records_follow_murmur2_and_get_offsets_sorting(kb: BrokerProcess) -> None:
    from kafkatools.client.producer import partition_for_key

    create(kb, "keyed", 12)
    keys = [f"key-{i}" for i in range(60)]
    tool("kafka-console-producer", "--bootstrap-server", kb.bootstrap, "--topic", "keyed", "--property",
         "parse.key=true", stdin="".join(f"{k}\tv\n" for k in keys))
    expected = {p: 0 for p in range(12)}
    for k in keys:
        expected[partition_for_key(k.encode(), 12)] += 1
    out = tool("kafka-get-offsets", "--bootstrap-server", kb.bootstrap, "--topic", "keyed").stdout.splitlines()
    assert out == [f"keyed:{p}:{expected[p]}" for p in sorted(range(12), key=lambda p: f"keyed-{p}")]
    assert out[1].startswith("keyed:1:") and out[2].startswith("keyed:10:")  # string order
    earliest = tool("kafka-get-offsets", "--bootstrap-server", kb.bootstrap, "--topic-partitions", "keyed:2-4",
                    "--time", "earliest").stdout
    assert earliest == "keyed:2:0\nkeyed:3:0\n"
    nothing = tool("kafka-get-offsets", "--bootstrap-server", kb.bootstrap, "--topic", "no-such-topic", ok=False)
    assert nothing.returncode == 1
    assert "Could not match any topic-partitions with the specified filters" in nothing.stderr
    seen = tool("kafka-console-consumer", "--bootstrap-server", kb.bootstrap, "--include", "key.*", "--from-beginning",
                "--max-messages", "60", "--timeout-ms", "10000", "--property", "print.key=true",
                "--property", "print.partition=true").stdout.splitlines()
    assert sorted(seen) == sorted(f"Partition:{partition_for_key(k.encode(), 12)}\t{k}\tv" for k in keys)


def test_consumer_partition_and_offset(kb: BrokerProcess) -> None:
    create(kb, "offs")
    tool("kafka-console-producer", "--bootstrap-server", kb.bootstrap, "--topic", "offs",
         stdin="".join(f"m{i}\n" for i in range(5)))
    res = tool("kafka-console-consumer", "--bootstrap-server", kb.bootstrap, "--topic", "offs", "--partition", "0",
               "--offset", "3", "--timeout-ms", "2000")
    assert res.stdout == "m3\nm4\n"
    assert "Processed a total of 2 messages" in res.stderr


def test_broker_api_versions_format(kb: BrokerProcess) -> None:
    out = tool("kafka-broker-api-versions", "--bootstrap-server", kb.bootstrap).stdout.splitlines()
    assert out[0] == f"127.0.0.1:{kb.port} (id: 0 rack: null) -> ("
    assert out[-1] == ")"
    body = out[1:-1]
    assert all(ln.startswith("\t") for ln in body)
    assert all(ln.endswith(",") for ln in body[:-1]) and not body[-1].endswith(",")
    assert re.fullmatch(r"\tProduce\(0\): \d+ to \d+ \[usable: \d+\],", body[0])
    assert any(re.fullmatch(r"\tApiVersions\(18\): 0 to \d \[usable: \d\],", ln) for ln in body)
    assert any(ln.endswith(": UNSUPPORTED,") or ln.endswith(": UNSUPPORTED") for ln in body)


def test_configs_alter_and_describe(kb: BrokerProcess, tmp_path: Path) -> None:
    create(kb, "conf")
    b = kb.bootstrap
    res = tool("kafka-configs", "--bootstrap-server", b, "--alter", "--entity-type", "topics", "--entity-name", "conf",
               "--add-config", "retention.ms=86400000,cleanup.policy=[compact,delete]")
    assert res.stdout == "Completed updating config for topic conf.\n"
    desc = tool("kafka-configs", "--bootstrap-server", b, "--describe", "--topic", "conf").stdout.splitlines()
    assert desc[0] == "Dynamic configs for topic conf are:"
    assert sorted(ln.split(" ")[2] for ln in desc[1:]) == ["cleanup.policy=compact,delete", "retention.ms=86400000"]
    assert all(re.fullmatch(r"  \S+=\S+ sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:\S+=\S+.*\}", ln)
               for ln in desc[1:])
    tool("kafka-configs", "--bootstrap-server", b, "--alter", "--topic", "conf", "--delete-config", "retention.ms")
    after = tool("kafka-configs", "--bootstrap-server", b, "--describe", "--topic", "conf").stdout
    assert "retention.ms" not in after and "cleanup.policy=compact,delete" in after
    bad = tool("kafka-configs", "--bootstrap-server", b, "--alter", "--topic", "conf", "--delete-config",
               "segment.ms", ok=False)
    assert bad.returncode == 1 and bad.stderr == "kafka-configs: Invalid config(s): segment.ms\n"
    everything = tool("kafka-configs", "--bootstrap-server", b, "--describe", "--topic", "conf", "--all").stdout
    assert everything.startswith("All configs for topic conf are:\n") and "  segment.bytes=" in everything
    broker = tool("kafka-configs", "--bootstrap-server", b, "--describe", "--broker", "0", "--all").stdout
    assert broker.startswith("All configs for broker 0 are:\n") and "  broker.id=0 sensitive=false" in broker
    refused = tool("kafka-configs", "--bootstrap-server", b, "--alter", "--broker", "0", "--add-config", "a=b",
                   ok=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "not supported" in refused.stderr
