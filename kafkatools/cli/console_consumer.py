"""`kafka-console-consumer`: fetch records and print them with Kafka's DefaultMessageFormatter.

Flags and output follow Kafka 3.9's ``ConsoleConsumer``: columns in the fixed order timestamp,
partition, offset, headers, key, value, each followed by ``key.separator`` when another column
follows and by ``line.separator`` after the last; ``Processed a total of N messages`` on stderr at the
end (also after Ctrl-C, max messages, ``--timeout-ms`` or a closed stdout).

Without ``--group`` the consumer assigns itself every partition of the topic(s) (Kafka would join an
auto-generated group whose offsets it never commits: the same records, without the group round
trips).  With ``--group`` it joins the group (range assignor), starts from the committed offsets and
commits its positions every 5 s and at the end, as ``enable.auto.commit`` does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kafkatools.cli._common import (
    Env,
    OutputFormat,
    OutputOption,
    UsageError,
    VersionOption,
    current_env,
    load_client_config,
    make_app,
    parse_bootstrap,
    run_app,
    run_async,
)

if TYPE_CHECKING:
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.client.consumer import Consumer, ConsumerRecord

app = make_app("Consume records from Kafka and print them to standard output.")
FORMATTERS = ("DefaultMessageFormatter", "kafka.tools.DefaultMessageFormatter",
              "org.apache.kafka.tools.consumer.DefaultMessageFormatter")
DESERIALIZERS = ("org.apache.kafka.common.serialization.StringDeserializer",
                 "org.apache.kafka.common.serialization.ByteArrayDeserializer")
COMMIT_INTERVAL = 5.0


@dataclass(frozen=True, slots=True)
class MessageFormatter:
    """DefaultMessageFormatter's properties; ``format`` renders one record as bytes."""

    print_timestamp: bool = False
    print_partition: bool = False
    print_offset: bool = False
    print_headers: bool = False
    print_key: bool = False
    print_value: bool = True
    key_separator: bytes = b"\t"
    line_separator: bytes = b"\n"
    headers_separator: bytes = b","
    null_literal: bytes = b"null"

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> MessageFormatter:
        def flag(name: str, default: bool = False) -> bool:
            return props[name].strip().lower() == "true" if name in props else default

        def text(name: str, default: str) -> bytes:
            return props.get(name, default).encode()

        return cls(flag("print.timestamp"), flag("print.partition"), flag("print.offset"), flag("print.headers"),
                   flag("print.key"), flag("print.value", True), text("key.separator", "\t"),
                   text("line.separator", "\n"), text("headers.separator", ","), text("null.literal", "null"))

    def format(self, r: ConsumerRecord) -> bytes:
        cols: list[bytes] = []
        if self.print_timestamp:
            cols.append(b"NO_TIMESTAMP" if r.timestamp_type == "NoTimestampType"
                        else f"{r.timestamp_type}:{r.timestamp}".encode())
        if self.print_partition:
            cols.append(b"Partition:%d" % r.partition)
        if self.print_offset:
            cols.append(b"Offset:%d" % r.offset)
        if self.print_headers:
            cols.append(self.headers_separator.join(
                k.encode() + b":" + (self.null_literal if v is None else v) for k, v in r.headers) or b"NO_HEADERS")
        if self.print_key:
            cols.append(self.null_literal if r.key is None else r.key)
        if self.print_value:
            cols.append(self.null_literal if r.value is None else r.value)
        return self.key_separator.join(cols) + self.line_separator if cols else b""

    def as_json(self, r: ConsumerRecord) -> dict[str, object]:
        def text(b: bytes | None) -> str | None:
            return None if b is None else b.decode("utf-8", errors="replace")

        return {"topic": r.topic, "partition": r.partition, "offset": r.offset, "timestamp": r.timestamp,
                "timestamp_type": r.timestamp_type, "headers": [[k, text(v)] for k, v in r.headers],
                "key": text(r.key), "value": text(r.value)}


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    topic: str | None
    include: str | None
    partition: int | None
    offset: str  # earliest | latest | N
    auto_offset_reset: str
    group: str | None
    max_messages: int | None
    timeout_ms: int | None
    isolation_level: int
    skip_on_error: bool
    formatter: MessageFormatter
    config: dict[str, str]
    output: OutputFormat


class _Sink:
    """Writes formatted bytes to stdout (its binary buffer when there is one) and counts the records."""

    def __init__(self, env: Env) -> None:
        self.count = 0
        self.text = env.stdout
        self.raw = getattr(env.stdout, "buffer", None)

    def write(self, data: bytes) -> None:
        if self.raw is not None:
            self.raw.write(data)
        else:
            self.text.write(data.decode("utf-8", errors="replace"))

    def flush(self) -> None:
        (self.raw or self.text).flush()


async def _topics(client: KafkaClient, opts: Options) -> list[str]:
    if opts.topic is not None:
        return [opts.topic]
    await client.refresh_metadata(None)
    pattern = re.compile(opts.include or "")
    return sorted(t for t, m in client.topics.items() if not m.is_internal and pattern.fullmatch(t))


async def _manual_assignment(client: KafkaClient, consumer: Consumer, opts: Options, topics: list[str]) -> None:
    from kafkatools.client.consumer import EARLIEST, LATEST

    start_spec = EARLIEST if opts.auto_offset_reset == "earliest" else LATEST
    if opts.partition is not None:
        assert opts.topic is not None
        spec = {"earliest": EARLIEST, "latest": LATEST}.get(opts.offset)
        await consumer.assign({(opts.topic, opts.partition): int(opts.offset) if spec is None else spec})
        return
    if topics:
        await client.refresh_metadata(topics)
    known = {tp: start_spec for t in topics if t in client.topics for tp in
             ((t, p.partition_index) for p in client.topics[t].partitions)}
    if known.keys() != consumer.positions.keys():
        keep = {tp: consumer.positions[tp] for tp in known if tp in consumer.positions}
        await consumer.assign({**known, **keep})


async def consume(opts: Options, env: Env) -> int:
    """Print records until a stop condition; the number printed."""
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.client.consumer import Consumer

    sink = _Sink(env)
    try:
        async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "console-consumer")) as client:
            consumer = Consumer(client, auto_offset_reset=opts.auto_offset_reset,
                                isolation_level=opts.isolation_level,
                                max_wait_ms=min(int(opts.config.get("fetch.max.wait.ms", "500")),
                                                opts.timeout_ms if opts.timeout_ms is not None else 500))
            if opts.group is not None:
                await _consume_group(client, consumer, opts, sink)
            else:
                await _consume_loop(client, consumer, opts, sink, None)
    except BrokenPipeError:
        env.stderr.write("Unable to write to standard out, closing consumer.\n")
    finally:
        env.stderr.write(f"Processed a total of {sink.count} messages\n")
    return sink.count


async def _consume_group(client: KafkaClient, consumer: Consumer, opts: Options, sink: _Sink) -> None:
    from kafkatools.client.group_member import GroupMember

    assert opts.group is not None
    member = GroupMember(client, opts.group, await _topics(client, opts))
    await member.start()
    try:
        await _consume_loop(client, consumer, opts, sink, member)
    finally:
        if consumer.positions and opts.config.get("enable.auto.commit", "true").strip().lower() == "true":
            try:
                await member.commit(dict(consumer.positions))
            finally:
                await member.close()
        else:
            await member.close()


async def _consume_loop(client: KafkaClient, consumer: Consumer, opts: Options, sink: _Sink,
                        member: object | None) -> None:
    from kafkatools.client.consumer import EARLIEST, LATEST
    from kafkatools.client.group_member import GroupMember

    topics = await _topics(client, opts)
    assigned: list[tuple[str, int]] | None = None
    last_data = last_commit = last_refresh = time.monotonic()
    auto_commit = opts.config.get("enable.auto.commit", "true").strip().lower() == "true"
    if member is None:
        await _manual_assignment(client, consumer, opts, topics)
    while opts.max_messages is None or sink.count < opts.max_messages:
        now = time.monotonic()
        if isinstance(member, GroupMember):
            current = await member.poll_assignment()
            if current != assigned:
                if assigned and consumer.positions and auto_commit:
                    await member.commit(dict(consumer.positions))
                committed = await member.committed(current) if current else {}
                default = EARLIEST if opts.auto_offset_reset == "earliest" else LATEST
                await consumer.assign({tp: committed[tp].offset if tp in committed and committed[tp].offset >= 0
                                       else default for tp in current})
                assigned = current
            elif auto_commit and consumer.positions and now - last_commit >= COMMIT_INTERVAL:
                await member.commit(dict(consumer.positions))
                last_commit = now
        elif opts.include is not None and now - last_refresh >= 3.0:
            await _manual_assignment(client, consumer, opts, await _topics(client, opts))
            last_refresh = now
        if not consumer.positions and not consumer._unresolved:
            import asyncio

            await asyncio.sleep(0.1)
            records = []
        else:
            records = await consumer.poll()
        if records:
            last_data = time.monotonic()
        elif opts.timeout_ms is not None and (time.monotonic() - last_data) * 1000 >= opts.timeout_ms:
            current_env().stderr.write("ERROR Error processing message, terminating consumer process: "
                                       "org.apache.kafka.common.errors.TimeoutException\n")
            break
        for r in records:
            if opts.max_messages is not None and sink.count >= opts.max_messages:
                consumer.positions[(r.topic, r.partition)] = min(consumer.positions[(r.topic, r.partition)], r.offset)
                continue
            if opts.output is OutputFormat.JSON:
                import json

                sink.write(json.dumps(opts.formatter.as_json(r), ensure_ascii=False).encode() + b"\n")
            else:
                sink.write(opts.formatter.format(r))
            sink.count += 1
        if records:
            sink.flush()


Opt = typer.Option


@app.command()
def console_consumer(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    zookeeper: Annotated[str | None, Opt("--zookeeper", help="Find the brokers through ZooKeeper.")] = None,
    topic: Annotated[str | None, Opt("--topic", help="The topic to consume on.")] = None,
    include: Annotated[str | None, Opt("--include", help="Regex of topics to consume.")] = None,
    whitelist: Annotated[str | None, Opt("--whitelist", help="DEPRECATED, use --include.")] = None,
    partition: Annotated[int | None, Opt("--partition", help="Consume this partition only.")] = None,
    offset: Annotated[str | None, Opt("--offset", help="earliest, latest (default) or an offset.")] = None,
    from_beginning: Annotated[bool, Opt("--from-beginning", help="Start with the earliest message.")] = False,
    group: Annotated[str | None, Opt("--group", help="The consumer group id.")] = None,
    max_messages: Annotated[int | None, Opt("--max-messages", help="Exit after this many messages.")] = None,
    timeout_ms: Annotated[int | None, Opt("--timeout-ms", help="Exit when no message arrives for this long.")
                          ] = None,
    skip_message_on_error: Annotated[bool, Opt("--skip-message-on-error", help="Skip unprintable messages.")] = False,
    isolation_level: Annotated[str, Opt("--isolation-level", help="read_uncommitted or read_committed.")
                               ] = "read_uncommitted",
    formatter: Annotated[str | None, Opt("--formatter", help="Only DefaultMessageFormatter.")] = None,
    formatter_config: Annotated[Path | None, Opt("--formatter-config", help="Formatter properties file.")] = None,
    prop: Annotated[list[str] | None, Opt("--property", help="Formatter property k=v (repeatable).")] = None,
    key_deserializer: Annotated[str | None, Opt("--key-deserializer", help="String or ByteArray.")] = None,
    value_deserializer: Annotated[str | None, Opt("--value-deserializer", help="String or ByteArray.")] = None,
    consumer_property: Annotated[list[str] | None, Opt("--consumer-property", help="Consumer k=v.")] = None,
    consumer_config: Annotated[Path | None, Opt("--consumer.config", help="Consumer properties file.")] = None,
    enable_systest_events: Annotated[bool, Opt("--enable-systest-events", help="Ignored.")] = False,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """Consume records from Kafka and print them to standard output."""
    if zookeeper is not None and bootstrap_server:
        raise UsageError("Only one of --bootstrap-server or --zookeeper must be specified")
    if zookeeper is not None:  # the 0.8 consumer's way in: find the brokers through /brokers/ids
        from kafkatools.coordination.errors import CoordinationError
        from kafkatools.coordination.zk_admin import bootstrap_from_zookeeper

        try:
            bootstrap_server = bootstrap_from_zookeeper(zookeeper)
        except CoordinationError as e:
            raise UsageError(f"Cannot find brokers through ZooKeeper: {e}") from None
    if not bootstrap_server:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    include = include or whitelist
    if (topic is None) == (include is None):
        raise UsageError("Exactly one of include/topic is required.")
    if partition is not None and topic is None:
        raise UsageError("The topic is required when partition is specified.")
    if offset is not None and partition is None:
        raise UsageError("The partition is required when offset is specified.")
    if from_beginning and offset is not None:
        raise UsageError("Options from-beginning and offset cannot be specified together.")
    if offset is not None and offset not in ("earliest", "latest") and not (offset.isdigit()):
        raise UsageError("The provided offset value is incorrect. Valid values are 'earliest', 'latest', or a "
                         "non-negative long.")
    if formatter is not None and formatter not in FORMATTERS:
        raise UsageError(f"Formatter {formatter} is not supported by kafkatools (only DefaultMessageFormatter)")
    for d in (key_deserializer, value_deserializer):
        if d is not None and d not in DESERIALIZERS:
            raise UsageError(f"Deserializer {d} is not supported by kafkatools (String or ByteArray only)")
    if isolation_level not in ("read_uncommitted", "read_committed"):
        raise UsageError(f"Invalid value {isolation_level} for configuration isolation.level: String must be one "
                         "of: read_committed, read_uncommitted")
    config = load_client_config(str(consumer_config) if consumer_config else None, consumer_property)
    group = group or config.get("group.id")
    if group is not None and config.get("group.id", group) != group:
        raise UsageError(f"The group ids provided in different places (directly using '--group': {group}, via "
                         f"'--consumer-property': {config['group.id']}) do not match.")
    if group is not None and partition is not None:
        raise UsageError("Options group and partition cannot be specified together.")
    reset = config.get("auto.offset.reset")
    if from_beginning and reset is not None and reset != "earliest":
        raise UsageError(f"Can't simultaneously specify --from-beginning and 'auto.offset.reset={reset}', as they "
                         "conflict.")
    reset = "earliest" if from_beginning else (reset or "latest")
    if offset is None:
        offset = "earliest" if from_beginning else "latest"
    fmt = MessageFormatter.from_properties(load_client_config(str(formatter_config) if formatter_config else None,
                                                              prop))
    opts = Options(parse_bootstrap(bootstrap_server), topic, include, partition, offset, reset, group, max_messages,
                   timeout_ms, 1 if isolation_level == "read_committed" else 0, skip_message_on_error, fmt, config,
                   output)
    run(opts, current_env())


def run(opts: Options, env: Env) -> None:
    run_async(consume(opts, env))


def main() -> None:
    """Entry point of kafka-console-consumer."""
    raise SystemExit(run_app(app, "kafka-console-consumer"))
