"""kafka-reassign-partitions without a broker: option checks, JSON files, Kafka's exact lines."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from kafkatools.cli import reassign_partitions as rp
from kafkatools.cli._common import Env, run_app
from kafkatools.client.admin import Reassignment


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run_app(rp.app, "kafka-reassign-partitions", list(args), Env(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("args", "message"), [
    (["--bootstrap-server", "h:1"], "Command must include exactly one action: --generate, --execute, --verify, "
                                    "--cancel, --list"),
    (["--list", "--verify", "--bootstrap-server", "h:1"], "Command must include exactly one action"),
    (["--list"], "Please specify --bootstrap-server"),
    (["--list", "--bootstrap-server", "h:1", "--zookeeper", "z:2"], "Only one of --bootstrap-server or --zookeeper"),
    (["--execute", "--bootstrap-server", "h:1"], 'Missing required argument "[reassignment-json-file]"'),
    (["--generate", "--bootstrap-server", "h:1", "--broker-list", "1"],
     'Missing required argument "[topics-to-move-json-file]"'),
    (["--list", "--bootstrap-server", "h:1", "--additional"], 'Option "[additional]" can\'t be used with action '
                                                              '"[list]"'),
    (["--verify", "--bootstrap-server", "h:1", "--reassignment-json-file", "f", "--throttle", "5"],
     'Option "[throttle]" can\'t be used with action "[verify]"'),
    (["--cancel", "--zookeeper", "z:2", "--reassignment-json-file", "f"], 'Option "[zookeeper]" can\'t be used'),
])
def test_usage_errors(args: list[str], message: str) -> None:
    rc, out, err = run(*args)
    assert rc == 1 and out == "" and message in err and err.count("\n") == 1


def test_reassignment_json_is_compact_sorted_with_any_log_dirs() -> None:
    text = rp.format_json({("t", 1): [3, 1], ("a", 0): [2]})
    assert text == ('{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[2],"log_dirs":["any"]},'
                    '{"topic":"t","partition":1,"replicas":[3,1],"log_dirs":["any","any"]}]}')
    assert rp.parse_reassignment(text) == [(("a", 0), [2]), (("t", 1), [3, 1])]


@pytest.mark.parametrize(("text", "message"), [
    ('{"version":2,"partitions":[]}', "Not supported version field value 2"),
    ('{"partitions":[]}', "Partition reassignment list cannot be empty"),
    ('{"partitions":[{"topic":"t","partition":0,"replicas":[]}]}', "Partition replica list cannot be empty"),
    ('{"partitions":[{"topic":"t","partition":0,"replicas":[1]},{"topic":"t","partition":0,"replicas":[2]}]}',
     "Partition reassignment contains duplicate topic partitions: t-0"),
    ('{"partitions":[{"topic":"t","partition":0,"replicas":[1,1]}]}',
     "Partition replica lists may not contain duplicate entries: t-0 contains multiple entries for 1"),
    ('{"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}',
     "Size of replicas list [1, 2] is different from size of log dirs list ['any'] for partition t-0"),
    ('{"partitions":[{"topic":"t","partition":0,"replicas":[1],"log_dirs":["/d"]}]}', "log directories"),
    ("not json", "The input string is not a valid JSON"),
])
def test_execute_file_checks(text: str, message: str) -> None:
    with pytest.raises(rp.ReassignError, match=None) as e:
        rp.check_execute(rp.parse_reassignment(text))
    assert message in str(e.value)


def test_topics_file() -> None:
    assert rp.parse_topics('{"version":1,"topics":[{"topic":"a"},{"topic":"b"}]}') == ["a", "b"]
    with pytest.raises(rp.ReassignError, match="duplicate entries: a"):
        rp.parse_topics('{"topics":[{"topic":"a"},{"topic":"a"}]}')
    with pytest.raises(rp.ReassignError, match="duplicate entries"):
        rp.parse_broker_list("1,2,1")


def test_execute_and_status_lines() -> None:
    assert rp.current_block({("t", 0): [1, 2]}) == (
        "Current partition replica assignment\n\n"
        '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}\n\n'
        "Save this to use as the --reassignment-json-file option during rollback")
    assert rp.started_line([("t", 1), ("t", 0)]) == "Successfully started partition reassignments for t-0,t-1"
    assert rp.started_line([("t", 0)]) == "Successfully started partition reassignment for t-0"
    lines = rp.status_lines({("t", 0): [2, 3], ("t", 1): [2, 3], ("t", 2): [2, 3]},
                            {("t", 0): [2, 3], ("t", 1): [2, 3, 1], ("t", 2): [1, 2]}, {("t", 1)})
    assert lines == ["Status of partition reassignment:", "Reassignment of partition t-0 is completed.",
                     "Reassignment of partition t-1 is still in progress.",
                     "There is no active reassignment of partition t-2, but replica set is 1,2 rather than 2,3."]
    assert rp.throttle_lines({3, 1, 2}, {"t"}) == ["Clearing broker-level throttles on brokers 1,2,3",
                                                   "Clearing topic-level throttles on topic t"]
    assert rp.throttle_lines({1}, {"a", "b"}) == ["Clearing broker-level throttles on broker 1",
                                                  "Clearing topic-level throttles on topics a,b"]


def test_list_lines() -> None:
    assert rp.list_lines({}) == ["No partition reassignments found."]
    assert rp.list_lines({("t", 0): Reassignment([2, 3, 1], [3], [1]), ("a", 0): Reassignment([1, 2], [], [2])}) == [
        "Current partition reassignments:", "a-0: replicas: 1,2. removing: 2.",
        "t-0: replicas: 2,3,1. adding: 3. removing: 1."]


def test_generate_keeps_replication_factor_and_uses_only_listed_brokers() -> None:
    random.seed(7)
    current = {("t", p): [1, 2] for p in range(4)} | {("u", 0): [1]}
    proposed = rp.propose(current, [2, 3, 4])
    assert set(proposed) == set(current)
    for tp, replicas in proposed.items():
        assert len(replicas) == len(current[tp]) and len(set(replicas)) == len(replicas)
        assert set(replicas) <= {2, 3, 4}
    leaders = [proposed[("t", p)][0] for p in range(3)]
    assert sorted(leaders) == [2, 3, 4]  # leaders spread over the ring


def test_execute_reads_the_file_before_connecting(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"partitions": []}))
    rc, out, err = run("--execute", "--bootstrap-server", "127.0.0.1:1", "--reassignment-json-file", str(f))
    assert rc == 1 and out == "" and err == "Partition reassignment list cannot be empty\n"


def test_throttle_is_accepted_with_a_note(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text("{}")
    rc, out, err = run("--execute", "--bootstrap-server", "127.0.0.1:1", "--reassignment-json-file", str(f),
                       "--throttle", "1000000")
    assert rc == 1 and out == ""
    assert err == rp.THROTTLE_NOTE + "\nPartition reassignment list cannot be empty\n"
