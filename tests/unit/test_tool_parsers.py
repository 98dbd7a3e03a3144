"""Pure parts of the issue-4 tools: line reader grammar, formatter, option parsers, murmur2, renderers."""

from __future__ import annotations

import io
import uuid

import pytest

from kafkatools.cli._common import Env, UsageError, run_app
from kafkatools.cli.broker_api_versions import render_node, version_lines
from kafkatools.cli.configs import parse_add_config, parse_delete_config
from kafkatools.cli.console_consumer import MessageFormatter
from kafkatools.cli.console_producer import LineReader, LineReaderError, merge_producer_config, normalize_argv
from kafkatools.cli.get_offsets import parse_time, parse_topic_partitions
from kafkatools.cli.topics import include_pattern, parse_replica_assignment, topic_id_text
from kafkatools.client.consumer import ConsumerRecord
from kafkatools.client.producer import murmur2, partition_for_key


# -- murmur2: values from Kafka's own UtilsTest, and kafka-python's implementation ------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
    ("a-little-bit-longer-string", -1486304829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    ("abc", 479470107),
])
def test_murmur2_matches_kafka(text: str, expected: int) -> None:
    assert murmur2(text.encode()) == expected


def test_murmur2_matches_kafka_python_for_every_tail_length() -> None:
    from kafka.partitioner.default import murmur2 as reference

    for n in range(0, 33):
        data = bytes((i * 37 + 11) % 256 for i in range(n))
        assert murmur2(data) & 0xFFFFFFFF == reference(data) & 0xFFFFFFFF, n


def test_partition_for_key_is_positive_modulo() -> None:
    assert partition_for_key(b"21", 7) == (-973932308 & 0x7FFFFFFF) % 7
    assert all(0 <= partition_for_key(bytes([i]), 3) < 3 for i in range(256))


# -- LineMessageReader grammar --------------------------------------------------------------------
def test_plain_lines_are_values() -> None:
    assert LineReader().parse("a\tb", 1) == (None, b"a\tb", [])


def test_key_headers_and_value() -> None:
    r = LineReader.from_properties({"parse.key": "true", "parse.headers": "true"})
    assert r.parse("h1:v1,h2:v2\tk\tv", 1) == (b"k", b"v", [("h1", b"v1"), ("h2", b"v2")])


def test_custom_separators_and_null_marker() -> None:
    r = LineReader.from_properties({"parse.key": "true", "key.separator": "|", "parse.headers": "true",
                                    "headers.delimiter": "#", "headers.separator": ";",
                                    "headers.key.separator": "=", "null.marker": "NULL"})
    assert r.parse("a=1;b=NULL#NULL|x", 3) == (None, b"x", [("a", b"1"), ("b", None)])
    assert r.parse("NULL#k|NULL", 4) == (b"k", None, [])


def test_missing_key_separator_names_line() -> None:
    r = LineReader.from_properties({"parse.key": "true"})
    with pytest.raises(LineReaderError, match=r"^No key separator found on line number 7: 'novalue'$"):
        r.parse("novalue", 7)


def test_missing_header_key_separator() -> None:
    r = LineReader.from_properties({"parse.headers": "true"})
    with pytest.raises(LineReaderError, match="No header key separator found in pair 'bad' on line number 2"):
        r.parse("bad\tv", 2)


def test_ignore_error_keeps_line_as_value() -> None:
    r = LineReader.from_properties({"parse.key": "true", "parse.headers": "true", "ignore.error": "true"})
    assert r.parse("just a value", 1) == (None, b"just a value", [])
    assert r.parse("k0\tv0", 1)[2] == [("k0", None)]


def test_header_key_equal_to_null_marker_is_an_error() -> None:
    r = LineReader.from_properties({"parse.headers": "true", "null.marker": "N"})
    with pytest.raises(LineReaderError, match="Header keys should not be equal to the null marker 'N'"):
        r.parse("N:v\tvalue", 1)


def test_headers_separator_is_a_regex_and_trailing_empties_drop() -> None:
    r = LineReader.from_properties({"parse.headers": "true", "headers.separator": "[,;]"})
    assert r.parse("a:1;b:2,\tv", 1)[2] == [("a", b"1"), ("b", b"2")]


@pytest.mark.parametrize(("props", "message"), [
    ({"headers.separator": "\t"}, "headers.delimiter and headers.separator may not be equal"),
    ({"headers.key.separator": "\t"}, "headers.delimiter and headers.key.separator may not be equal"),
    ({"headers.key.separator": ","}, "headers.separator and headers.key.separator may not be equal"),
    ({"null.marker": "\t"}, "null.marker and key.separator may not be equal"),
    ({"null.marker": ":"}, "null.marker and headers.key.separator may not be equal"),
])
def test_reader_property_collisions(props: dict[str, str], message: str) -> None:
    with pytest.raises(LineReaderError, match=message):
        LineReader.from_properties(props)


def test_producer_defaults_apply_only_when_unset() -> None:
    merged = merge_producer_config({"linger.ms": "5"}, {"acks": "1"})
    assert merged["linger.ms"] == "5" and merged["acks"] == "1" and merged["request.timeout.ms"] == "1500"
    assert merge_producer_config({"linger.ms": "5"}, {"linger.ms": 7})["linger.ms"] == "7"
    assert merged["client.id"] == "console-producer"


def test_bare_compression_codec_means_gzip() -> None:
    assert normalize_argv(["--compression-codec", "--topic", "t"]) == ["--compression-codec", "gzip", "--topic", "t"]
    assert normalize_argv(["--compression-codec", "lz4"]) == ["--compression-codec", "lz4"]


# -- DefaultMessageFormatter ----------------------------------------------------------------------
def _record(**kw: object) -> ConsumerRecord:
    base: dict[str, object] = dict(topic="t", partition=0, offset=42, timestamp=1700000000123,
                                   timestamp_type="CreateTime", key=b"user-7", value=b'{"amount":12}',
                                   headers=[("src", b"web"), ("trace", b"abc")])
    base.update(kw)
    return ConsumerRecord(**base)  # type: ignore[arg-type]


def test_formatter_all_columns_in_kafka_order() -> None:
    f = MessageFormatter.from_properties({p: "true" for p in ("print.timestamp", "print.partition", "print.offset",
                                                              "print.headers", "print.key")})
    assert f.format(_record()) == b'CreateTime:1700000000123\tPartition:0\tOffset:42\tsrc:web,trace:abc\tuser-7\t' \
                                  b'{"amount":12}\n'
    assert f.format(_record(offset=43, key=None, value=b"hello", headers=[])) == \
        b"CreateTime:1700000000123\tPartition:0\tOffset:43\tNO_HEADERS\tnull\thello\n"


def test_formatter_separators_null_literal_and_no_value() -> None:
    f = MessageFormatter.from_properties({"print.key": "true", "key.separator": "|", "line.separator": ";",
                                          "null.literal": "<nil>", "print.value": "false"})
    assert f.format(_record(key=None)) == b"<nil>;"
    g = MessageFormatter.from_properties({"print.timestamp": "true", "print.headers": "true",
                                          "headers.separator": "&"})
    assert g.format(_record(timestamp_type="NoTimestampType", headers=[("a", None), ("b", b"2")])) == \
        b'NO_TIMESTAMP\ta:null&b:2\t{"amount":12}\n'


def test_formatter_default_prints_value_only() -> None:
    assert MessageFormatter().format(_record()) == b'{"amount":12}\n'


# -- kafka-configs, kafka-get-offsets, kafka-topics parsers ------------------------------------------
def test_add_config_brackets_protect_commas() -> None:
    assert parse_add_config("k1=v1,k2=[a,b],k3 = v3") == {"k1": "v1", "k2": "a,b", "k3": "v3"}
    assert parse_add_config("follower.replication.throttled.replicas=[0:1,1:2]") == {
        "follower.replication.throttled.replicas": "0:1,1:2"}
    with pytest.raises(UsageError, match='must be in the format "key=val"'):
        parse_add_config("k1=v1,novalue")
    assert parse_delete_config("a, b,,c") == ("a", "b", "c")


def test_topic_partitions_filters() -> None:
    filters = parse_topic_partitions("t1:1,t2:0-3,t3,t4:5-,t5:-3")
    keep = {(t, p) for t in ("t1", "t2", "t3", "t4", "t5") for p in range(8)
            if any(rx.fullmatch(t) and test(p) for rx, test in filters)}
    assert keep == {("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2), *(("t3", p) for p in range(8)), ("t4", 5),
                    ("t4", 6), ("t4", 7), ("t5", 0), ("t5", 1), ("t5", 2)}
    with pytest.raises(UsageError):
        parse_topic_partitions("t:x")


def test_time_values() -> None:
    assert [parse_time(t) for t in ("latest", "earliest", "max-timestamp", "-1", "1700000000000")] == \
        [-1, -2, -3, -1, 1700000000000]
    with pytest.raises(UsageError, match="Malformed time argument soon"):
        parse_time("soon")


def test_replica_assignment_and_include_list() -> None:
    assert parse_replica_assignment("1:2,3:4") == [[1, 2], [3, 4]]
    with pytest.raises(UsageError, match="duplicate"):
        parse_replica_assignment("1:1")
    with pytest.raises(UsageError, match="different replication factor"):
        parse_replica_assignment("1:2,3")
    rx = include_pattern("'a.*, b'")
    assert rx.fullmatch("abc") and rx.fullmatch("b") and not rx.fullmatch("cb")


def test_topic_id_is_22_char_urlsafe_base64() -> None:
    assert topic_id_text(uuid.UUID(bytes=b"\xfb\xff\xbf" * 5 + b"\x00")) == "-_-_-_-_-_-_-_-_-_-_AA"


# -- kafka-broker-api-versions --------------------------------------------------------------------
def test_api_version_lines() -> None:
    ours = {0: ("Produce", 0, 11), 47: ("OffsetDelete", 0, 0), 50: ("DescribeUserScramCredentials", 0, 0),
            3: ("Metadata", 4, 12)}
    broker = {0: (0, 9), 47: (0, 0), 3: (0, 2), 99: (1, 3)}
    assert version_lines(broker, ours) == [
        "Produce(0): 0 to 9 [usable: 9]", "Metadata(3): 0 to 2 [unusable: node too old]",
        "OffsetDelete(47): 0 [usable: 0]", "DescribeUserScramCredentials(50): UNSUPPORTED", "UNKNOWN(99): 1 to 3"]
    expected = "h:1 (id: 0 rack: null) -> (\n\tA(0): 0,\n\tB(1): 1\n)\n"
    assert render_node("h", 1, 0, None, ["A(0): 0", "B(1): 1"]) == expected


# -- usage errors are one line, exit 1, no traceback --------------------------------------------------
@pytest.mark.parametrize(("module", "argv", "message"), [
    ("topics", ["--list"], "kafka-topics: error: --bootstrap-server must be specified"),
    ("topics", ["--bootstrap-server", "h:1", "--list", "--create"], "Command must include exactly one action"),
    ("topics", ["--bootstrap-server", "h:1", "--create", "--topic", "t", "--partitions", "0"],
     "The partitions must be greater than 0"),
    ("topics", ["--bootstrap-server", "h:1", "--alter", "--topic", "t"], 'Missing required argument "[partitions]"'),
    ("topics", ["--zookeeper", "h:1", "--bootstrap-server", "h:1", "--list"],
     "Only one of --bootstrap-server or --zookeeper must be specified"),
    ("console_producer", ["--bootstrap-server", "h:1"], 'Missing required argument "[topic]"'),
    ("console_producer", ["--broker-list", "h:1", "--topic", "t", "--compression-codec", "brotli"],
     "Unknown compression codec 'brotli'"),
    ("console_consumer", ["--bootstrap-server", "h:1"], "Exactly one of include/topic is required."),
    ("console_consumer", ["--zookeeper", "h:1", "--bootstrap-server", "h:1", "--topic", "t"],
     "Only one of --bootstrap-server or --zookeeper must be specified"),
    ("console_consumer", ["--bootstrap-server", "h:1", "--topic", "t", "--offset", "3"],
     "The partition is required when offset is specified."),
    ("console_consumer", ["--bootstrap-server", "h:1", "--topic", "t", "--from-beginning", "--consumer-property",
                          "auto.offset.reset=latest"], "Can't simultaneously specify --from-beginning"),
    ("get_offsets", ["--topic", "t"], 'Missing required argument "[bootstrap-server]"'),
    ("get_offsets", ["--bootstrap-server", "h:1", "--topic-partitions", "t:1", "--topic", "t"],
     'Option "[topic-partitions]" can\'t be used with option "[topic]"'),
    ("configs", ["--bootstrap-server", "h:1", "--alter", "--topic", "t"], "At least one of --add-config"),
    ("configs", ["--bootstrap-server", "h:1", "--describe", "--alter", "--topic", "t"], "exactly one action"),
    ("broker_api_versions", ["--bogus"], "No such option: --bogus"),
])
def test_usage_errors(module: str, argv: list[str], message: str) -> None:
    import importlib

    mod = importlib.import_module(f"kafkatools.cli.{module}")
    out, err = io.StringIO(), io.StringIO()
    status = run_app(mod.app, "kafka-" + module.replace("_", "-"), argv, Env(io.StringIO(), out, err))
    assert status == 1
    assert message in err.getvalue()
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
    assert out.getvalue() == ""
