"""kafka-consumer-groups without a broker: option checks, Kafka's exact text layouts, reset helpers."""

from __future__ import annotations

import io

import pytest

from kafkatools.cli import consumer_groups as cg
from kafkatools.cli._common import Env, UsageError
from kafkatools.client.group_member import range_assign
from kafkatools.client.groups import decode_assignment, decode_subscription, encode_assignment, encode_subscription


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = cg.run_app(cg.app, "kafka-consumer-groups", cg.normalize_argv(list(args)), Env(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()


def test_offsets_table_starts_rows_with_newline_and_has_no_trailing_newline() -> None:
    rows: list[cg.Row] = [
        {"GROUP": "g", "TOPIC": "orders", "PARTITION": 0, "CURRENT-OFFSET": 40, "LOG-END-OFFSET": 42, "LAG": 2,
         "CONSUMER-ID": "consumer-1-abc", "HOST": "/10.0.0.5", "CLIENT-ID": "consumer-1"},
        {"GROUP": "g", "TOPIC": "a-very-long-topic-name", "PARTITION": 1, "CURRENT-OFFSET": None,
         "LOG-END-OFFSET": 17, "LAG": None, "CONSUMER-ID": "-", "HOST": "-", "CLIENT-ID": "-"},
    ]
    text = cg.render_offsets(rows)
    lines = text.split("\n")
    assert lines[0] == "" and not text.endswith("\n")
    assert lines[1] == ("GROUP           TOPIC                  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG"
                        "             CONSUMER-ID     HOST            CLIENT-ID")
    assert lines[2].split() == ["g", "orders", "0", "40", "42", "2", "consumer-1-abc", "/10.0.0.5", "consumer-1"]
    assert lines[3].split() == ["g", "a-very-long-topic-name", "1", "-", "17", "-", "-", "-", "-"]


def test_list_with_state_pads_group_to_longest_plus_ten() -> None:
    assert cg.render_list([("orders-app", "Stable")], True) == (
        "GROUP" + " " * 20 + " " + "STATE" + " " * 15 + "\n" + "orders-app" + " " * 15 + " " + "Stable" + " " * 14
        + "\n")
    assert cg.render_list([("a", "Empty"), ("b", "Stable")], False) == "a\nb\n"


def test_members_table_shows_instance_column_only_when_set_and_assignment_when_verbose() -> None:
    m: cg.Row = {"group": "g", "consumer_id": "c1", "group_instance_id": None, "host": "/h", "client_id": "cl",
                 "partitions": 3, "assignment": [("t", 0), ("t", 1), ("u", 2)]}
    text = cg.render_members("g", [m], verbose=True)
    assert "GROUP-INSTANCE-ID" not in text
    assert text.startswith("\nGROUP ") and text.endswith("(0,1), (2)\n")
    static = dict(m, group_instance_id="instance-1")
    assert "GROUP-INSTANCE-ID" in cg.render_members("g", [static], verbose=False)


def test_state_table_renders_coordinator_with_two_spaces() -> None:
    text = cg.render_state({"group": "g", "coordinator": "localhost:9092  (0)", "assignment_strategy": "range",
                            "state": "Stable", "members": 2})
    assert text.split("\n")[2].split() == ["g", "localhost:9092", "(0)", "range", "Stable", "2"]


def test_reset_table_uses_one_row_per_line() -> None:
    text = cg.render_reset({"g": {("t", 1): 5, ("t", 0): 3}})
    assert text == ("\n" + f"{'GROUP':<30} {'TOPIC':<30} {'PARTITION':<10} {'NEW-OFFSET':<15}\n"
                    + f"{'g':<30} {'t':<30} {'0':<10} {'3':<15}\n" + f"{'g':<30} {'t':<30} {'1':<10} {'5':<15}\n")


def test_reset_csv_round_trip_with_and_without_group_column() -> None:
    plan = {"g": {("t", 0): 3, ("t", 1): 9}}
    assert cg.export_csv(plan, with_group=False) == "t,0,3\nt,1,9\n"
    assert cg.parse_reset_csv(cg.export_csv(plan, with_group=False), ("g",)) == plan
    assert cg.parse_reset_csv(cg.export_csv(plan, with_group=True), ("g", "h")) == plan
    with pytest.raises(UsageError):
        cg.parse_reset_csv("t,zero,3\n", ("g",))


def test_duration_and_datetime_parsing() -> None:
    assert cg.parse_duration_ms("P1DT2H3M4.5S") == ((24 + 2) * 60 + 3) * 60_000 + 4500
    assert cg.parse_duration_ms("PT10M") == 600_000
    with pytest.raises(UsageError):
        cg.parse_duration_ms("10 minutes")
    assert cg.parse_datetime_ms("2020-01-01T00:00:00.000Z") == 1577836800000
    assert cg.parse_datetime_ms("2020-01-01T01:00:00.000+01:00") == 1577836800000


@pytest.mark.parametrize(("args", "message"), [
    (["--list"], 'Missing required argument "[bootstrap-server]"'),
    (["--bootstrap-server", "h:1"], "exactly one action"),
    (["--bootstrap-server", "h:1", "--describe"], "[all-groups], [group]"),
    (["--bootstrap-server", "h:1", "--describe", "--group", "g", "--members", "--state"], "at most one"),
    (["--bootstrap-server", "h:1", "--reset-offsets", "--group", "g", "--all-topics"], "[to-offset]"),
    (["--bootstrap-server", "h:1", "--reset-offsets", "--group", "g", "--all-topics", "--to-earliest",
      "--to-latest"], "[to-offset]"),
    (["--bootstrap-server", "h:1", "--reset-offsets", "--group", "g", "--to-earliest"], "[all-topics], [topic]"),
    (["--bootstrap-server", "h:1", "--reset-offsets", "--group", "g", "--all-topics", "--to-earliest",
      "--dry-run", "--execute"], "only accepts one of"),
    (["--bootstrap-server", "h:1", "--delete-offsets", "--group", "g"], "[group], [topic]"),
])
def test_bad_option_combinations_are_one_line_usage_errors(args: list[str], message: str) -> None:
    rc, out, err = run(*args)
    assert rc == 1 and out == ""
    assert message in err and err.count("\n") == 1, err


def test_state_takes_an_optional_value() -> None:
    assert cg.normalize_argv(["--list", "--state"]) == ["--list", "--state", ""]
    assert cg.normalize_argv(["--state", "--list"]) == ["--state", "", "--list"]
    assert cg.normalize_argv(["--list", "--state", "stable,empty"]) == ["--list", "--state", "stable,empty"]


def test_consumer_protocol_payloads_round_trip() -> None:
    sub = decode_subscription(encode_subscription(["b", "a"], version=1))
    assert sub.topics == ["a", "b"]
    assert decode_assignment(encode_assignment({"t": [2, 0], "u": [1]})) == [("t", 0), ("t", 2), ("u", 1)]
    assert decode_assignment(b"") == []


def test_range_assignor_matches_kafka() -> None:
    got = range_assign({"c": ["t"], "a": ["t", "u"], "b": ["t"]}, {"t": 7, "u": 2})
    assert got == {"a": {"t": [0, 1, 2], "u": [0, 1]}, "b": {"t": [3, 4]}, "c": {"t": [5, 6]}}
    assert range_assign({"a": ["t"], "b": ["t"]}, {"t": 1}) == {"a": {"t": [0]}, "b": {}}
