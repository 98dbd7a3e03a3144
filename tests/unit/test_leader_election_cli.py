"""kafka-leader-election without a broker: Kafka's option checks, the JSON file, the result lines."""

from __future__ import annotations

import io

import pytest

from kafkatools.cli import leader_election as le
from kafkatools.cli._common import Env, run_app
from kafkatools.errors import KafkatoolsError


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run_app(le.app, "kafka-leader-election", list(args), Env(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("args", "message"), [
    (["--topic", "t", "--partition", "0"], "Missing required option(s): bootstrap-server, election-type"),
    (["--bootstrap-server", "h:1", "--topic", "t"], "Missing required option(s): election-type"),
    (["--bootstrap-server", "h:1", "--election-type", "preferred"],
     "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"),
    (["--bootstrap-server", "h:1", "--election-type", "preferred", "--topic", "t", "--all-topic-partitions"],
     "One and only one of the following options is required"),
    (["--bootstrap-server", "h:1", "--election-type", "preferred", "--topic", "t"],
     "Missing required option(s): partition"),
    (["--bootstrap-server", "h:1", "--election-type", "preferred", "--all-topic-partitions", "--partition", "1"],
     "Option partition is only allowed if topic is used"),
    (["--bootstrap-server", "h:1", "--election-type", "sideways", "--all-topic-partitions"], "sideways"),
])
def test_usage_errors(args: list[str], message: str) -> None:
    rc, out, err = run(*args)
    assert rc == 1 and out == "" and message in err


def test_election_type_is_case_insensitive() -> None:
    rc, _, err = run("--bootstrap-server", "h:1", "--election-type", "PREFERRED")
    assert rc == 1 and "One and only one" in err  # parsed; failed on the next check


def test_json_file() -> None:
    assert le.parse_election_data('{"partitions":[{"topic":"foo","partition":1},{"topic":"b","partition":0}]}') == (
        ("foo", 1), ("b", 0))
    with pytest.raises(KafkatoolsError, match='missing "partitions" field'):
        le.parse_election_data('{"topics":[]}')
    with pytest.raises(KafkatoolsError, match="duplicate partitions: foo-1"):
        le.parse_election_data('{"partitions":[{"topic":"foo","partition":1},{"topic":"foo","partition":1}]}')
    with pytest.raises(KafkatoolsError, match="invalid partition entry"):
        le.parse_election_data('{"partitions":[{"topic":"foo"}]}')


def test_result_lines() -> None:
    lines, failed = le.render(le.ElectionType.PREFERRED, {
        ("t", 1): (0, None), ("t", 0): (0, None), ("t", 2): (84, "Leader election not needed for topic partition"),
        ("t", 3): (80, "Failed to elect leader for partition t-3 under strategy "
                       "PreferredReplicaPartitionLeaderElectionStrategy"),
    })
    assert lines == [
        "Successfully completed leader election (PREFERRED) for partitions t-0, t-1",
        "Valid replica already elected for partitions t-2",
        "Error completing leader election (PREFERRED) for partition: t-3: "
        "org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition "
        "t-3 under strategy PreferredReplicaPartitionLeaderElectionStrategy",
    ]
    assert failed == 1
    lines, failed = le.render(le.ElectionType.UNCLEAN, {("t", 0): (83, None)})
    assert lines == ["Error completing leader election (UNCLEAN) for partition: t-0: "
                     "org.apache.kafka.common.errors.EligibleLeadersNotAvailableException"] and failed == 1
    assert le.render(le.ElectionType.PREFERRED, {}) == ([], 0)
