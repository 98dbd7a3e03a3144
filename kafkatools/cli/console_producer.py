"""`kafka-console-producer`: read lines from stdin and produce each as a record.

Flags, defaults and the line grammar follow Kafka 3.9's ``ConsoleProducer`` and its
``LineMessageReader``: ``[headers<headers.delimiter>][key<key.separator>]value``, headers as
``k1:v1,k2:v2`` (``headers.separator`` is a regex), ``null.marker`` turning a key, value or header
value into null.  Option defaults (linger 1000 ms, acks -1, request timeout 1500 ms, ...) apply only
when ``--producer.config``/``--producer-property`` do not set the key; ``--compression-codec`` always
wins.  Lines are UTF-8 and end at ``\\n`` (a trailing ``\\r`` is dropped).

Differences by design: a line the reader rejects is one line on stderr and exit 1 (Kafka prints a
stack trace); records already read are still sent first.  At EOF the open batches go at once rather
than after ``linger.ms``.  ``--line-reader`` is accepted and ignored with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kafkatools.cli._common import (
    Env,
    UsageError,
    VersionOption,
    current_env,
    load_client_config,
    make_app,
    parse_bootstrap,
    run_app,
    run_async,
)
from kafkatools.errors import KafkatoolsError

if TYPE_CHECKING:
    from kafkatools.client.producer import Delivery

app = make_app("Read data from standard input and publish it to Kafka.")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
Header = tuple[str, bytes | None]


class LineReaderError(KafkatoolsError):
    """A line (or the reader's properties) does not fit the configured grammar."""


def java_split(pattern: re.Pattern[str], text: str) -> list[str]:
    """``String.split(regex)``: no match keeps the text whole; trailing empty strings are dropped."""
    parts = pattern.split(text)
    if len(parts) == 1:
        return parts
    while parts and parts[-1] == "":
        parts.pop()
    return parts


@dataclass(frozen=True, slots=True)
class LineReader:
    """Kafka's LineMessageReader grammar, configured from ``--property`` values."""

    parse_key: bool = False
    key_separator: str = "\t"
    parse_headers: bool = False
    headers_delimiter: str = "\t"
    headers_separator: str = ","
    headers_key_separator: str = ":"
    ignore_error: bool = False
    null_marker: str | None = None

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> LineReader:
        def flag(name: str) -> bool:
            return props.get(name, "false").strip().lower() == "true"

        reader = cls(flag("parse.key"), props.get("key.separator", "\t"), flag("parse.headers"),
                     props.get("headers.delimiter", "\t"), props.get("headers.separator", ","),
                     props.get("headers.key.separator", ":"), flag("ignore.error"), props.get("null.marker"))
        try:
            re.compile(reader.headers_separator)
        except re.error as e:
            raise LineReaderError(f"Invalid headers.separator regex '{reader.headers_separator}': {e}") from None
        pairs = [("headers.delimiter", "headers.separator"), ("headers.delimiter", "headers.key.separator"),
                 ("headers.separator", "headers.key.separator"), ("null.marker", "key.separator"),
                 ("null.marker", "headers.separator"), ("null.marker", "headers.delimiter"),
                 ("null.marker", "headers.key.separator")]
        for a, b in pairs:
            if getattr(reader, a.replace(".", "_")) == getattr(reader, b.replace(".", "_")):
                raise LineReaderError(f"{a} and {b} may not be equal")
        return reader

    def _cut(self, enabled: bool, line: str, start: int, mark: str, what: str, number: int) -> str | None:
        if not enabled:
            return None
        at = line.find(mark, start)
        if at < 0:
            if self.ignore_error:
                return None
            raise LineReaderError(f"No {what} found on line number {number}: '{line}'")
        return line[start:at]

    def _headers(self, text: str, number: int) -> list[Header]:
        out: list[Header] = []
        for pair in java_split(re.compile(self.headers_separator), text):
            at = pair.find(self.headers_key_separator)
            if at < 0:
                if self.ignore_error:
                    out.append((pair, None))
                    continue
                raise LineReaderError(f"No header key separator found in pair '{pair}' on line number {number}")
            key, value = pair[:at], pair[at + len(self.headers_key_separator):]
            if key == self.null_marker:
                raise LineReaderError(f"Header keys should not be equal to the null marker '{self.null_marker}' as "
                                      "they can't be null")
            out.append((key, None if value == self.null_marker else value.encode()))
        return out

    def parse(self, line: str, number: int) -> tuple[bytes | None, bytes | None, list[Header]]:
        """``(key, value, headers)`` of line ``number`` (1-based, for messages)."""
        if not self.parse_key and not self.parse_headers and self.null_marker is None:
            return None, line.encode(), []
        headers = self._cut(self.parse_headers, line, 0, self.headers_delimiter, "headers delimiter", number)
        start = 0 if headers is None else len(headers) + len(self.headers_delimiter)
        key = self._cut(self.parse_key, line, start, self.key_separator, "key separator", number)
        value = line[start + (0 if key is None else len(key) + len(self.key_separator)):]
        hdrs = self._headers(headers, number) if headers is not None and headers != self.null_marker else []
        return (None if key is None or key == self.null_marker else key.encode(),
                None if value == self.null_marker else value.encode(), hdrs)


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    topic: str
    config: dict[str, str]  # the producer's settings after Kafka's merge rule
    reader: LineReader
    sync: bool


# (option value, config key, default) in ConsoleProducer's merge order
def merge_producer_config(config: dict[str, str], given: dict[str, object | None]) -> dict[str, str]:
    """Kafka's ``maybeMergeOptions``: an option's value applies if given, else its default if the key is unset."""
    defaults = {"linger.ms": "1000", "acks": "-1", "request.timeout.ms": "1500", "retries": "3",
                "retry.backoff.ms": "100", "batch.size": "16384", "metadata.max.age.ms": "300000",
                "max.block.ms": "60000", "buffer.memory": "33554432", "send.buffer.bytes": "102400"}
    out = dict(config)
    for key, default in defaults.items():
        value = given.get(key)
        if value is not None:
            out[key] = str(value)
        else:
            out.setdefault(key, default)
    out.setdefault("client.id", "console-producer")
    return out


def _int(config: dict[str, str], key: str) -> int:
    try:
        return int(config[key].strip())
    except ValueError:
        raise UsageError(f"Invalid value {config[key]} for configuration {key}: Not a number of type INT") from None


def _acks(value: str) -> int:
    v = value.strip().lower()
    if v == "all":
        return -1
    if v in ("-1", "0", "1"):
        return int(v)
    raise UsageError(f'Invalid value {value} for configuration acks: String must be one of: all, -1, 0, 1')


async def _pump_lines(env: Env, queue: object) -> None:
    """Read stdin in a thread, handing complete lines to the event loop in chunks (cheap for 100k lines)."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    q: asyncio.Queue[list[str] | None] = queue  # type: ignore[assignment]
    prompt = bool(env.stdin_isatty and env.stdout_isatty)

    def put(item: list[str] | None) -> None:
        loop.call_soon_threadsafe(q.put_nowait, item)

    def work() -> None:
        try:
            if prompt:
                while True:
                    env.stdout.write(">")
                    env.stdout.flush()
                    line = env.stdin.readline()
                    if not line:
                        break
                    put([line.rstrip("\n").removesuffix("\r")])
                return
            raw = getattr(env.stdin, "buffer", None)
            rest = ""
            while True:
                if raw is not None and hasattr(raw, "read1"):
                    chunk = raw.read1(1 << 16).decode("utf-8", errors="replace")
                else:
                    chunk = env.stdin.read(1 << 16)
                if not chunk:
                    break
                lines = (rest + chunk).split("\n")
                rest = lines.pop()
                if lines:
                    put([ln.removesuffix("\r") for ln in lines])
            if rest:
                put([rest.removesuffix("\r")])
        finally:
            put(None)

    threading.Thread(target=work, name="stdin-reader", daemon=True).start()


async def produce(opts: Options, env: Env) -> None:
    import asyncio

    from kafkatools.client.cluster import KafkaClient
    from kafkatools.client.producer import Producer
    from kafkatools.wire.records import Compression

    c = opts.config
    compression = Compression.from_name(c.get("compression.type", "none").strip().lower())
    producer_timeout = max(_int(c, "request.timeout.ms"), 1000)
    async with KafkaClient(opts.bootstrap, client_id=c["client.id"], request_timeout=producer_timeout / 1000) as client:
        producer = Producer(
            client, acks=_acks(c["acks"]), compression=compression, linger_ms=_int(c, "linger.ms"),
            batch_size=_int(c, "batch.size"), retries=_int(c, "retries"), retry_backoff_ms=_int(c, "retry.backoff.ms"),
            request_timeout_ms=producer_timeout, max_block_ms=_int(c, "max.block.ms"),
            max_request_size=int(c.get("max.request.size", "1048576")), buffer_memory=_int(c, "buffer.memory"),
            idempotent=c.get("enable.idempotence", "false").strip().lower() == "true")
        queue: asyncio.Queue[list[str] | None] = asyncio.Queue()
        await _pump_lines(env, queue)
        deliveries: list[Delivery] = []
        number = 0
        try:
            while (lines := await queue.get()) is not None:
                for line in lines:
                    number += 1
                    key, value, headers = opts.reader.parse(line, number)
                    d = await producer.send(opts.topic, value, key, headers)
                    if opts.sync:
                        await producer.flush()
                        await d.result()
                    elif not deliveries or deliveries[-1]._batch is not d._batch:
                        deliveries.append(d)
        finally:
            await producer.flush()
            for d in deliveries:
                try:
                    await d.result()
                except KafkatoolsError as e:
                    env.stderr.write(f"ERROR Error when sending message to topic {opts.topic}: {e}\n")
            await producer.close()


def normalize_argv(argv: list[str]) -> list[str]:
    """A bare ``--compression-codec`` (optional argument in Kafka) means gzip."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--compression-codec" and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            out.append("gzip")
    return out


Opt = typer.Option


@app.command()
def console_producer(
    topic: Annotated[str | None, Opt("--topic", help="REQUIRED: the topic id to produce messages to.")] = None,
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED unless --broker-list: "
                                                "host:port[,host:port].")] = None,
    broker_list: Annotated[str | None, Opt("--broker-list", help="DEPRECATED, use --bootstrap-server.")] = None,
    sync: Annotated[bool, Opt("--sync", help="Send each message synchronously.")] = False,
    compression_codec: Annotated[str | None, Opt("--compression-codec", help="none, gzip (bare flag), snappy, "
                                                 "lz4 or zstd.")] = None,
    batch_size: Annotated[int | None, Opt("--batch-size", help="Batch size in bytes (16384).")] = None,
    max_partition_memory_bytes: Annotated[int | None, Opt("--max-partition-memory-bytes",
                                                          help="Also batch.size; wins when given.")] = None,
    message_send_max_retries: Annotated[int | None, Opt("--message-send-max-retries", help="Retries (3).")] = None,
    retry_backoff_ms: Annotated[int | None, Opt("--retry-backoff-ms", help="Backoff before a retry (100).")] = None,
    timeout: Annotated[int | None, Opt("--timeout", help="linger.ms: wait up to this for a batch (1000).")] = None,
    request_required_acks: Annotated[str | None, Opt("--request-required-acks", help="acks: -1/all, 0, 1 (-1).")
                                     ] = None,
    request_timeout_ms: Annotated[int | None, Opt("--request-timeout-ms", help="Request timeout (1500).")] = None,
    metadata_expiry_ms: Annotated[int | None, Opt("--metadata-expiry-ms", help="metadata.max.age.ms.")] = None,
    max_block_ms: Annotated[int | None, Opt("--max-block-ms", help="Wait for metadata up to this (60000).")] = None,
    max_memory_bytes: Annotated[int | None, Opt("--max-memory-bytes", help="buffer.memory (33554432).")] = None,
    socket_buffer_size: Annotated[int | None, Opt("--socket-buffer-size", help="send.buffer.bytes.")] = None,
    line_reader: Annotated[str | None, Opt("--line-reader", help="Ignored: the line reader is built in.")] = None,
    prop: Annotated[list[str] | None, Opt("--property", help="Line reader property k=v (repeatable).")] = None,
    reader_config: Annotated[Path | None, Opt("--reader-config", help="Line reader properties file.")] = None,
    producer_property: Annotated[list[str] | None, Opt("--producer-property", help="Producer k=v.")] = None,
    producer_config: Annotated[Path | None, Opt("--producer.config", help="Producer properties file.")] = None,
    version: VersionOption = False,
) -> None:
    """Read data from standard input and publish it to Kafka."""
    env = current_env()
    if not topic:
        raise UsageError('Missing required argument "[topic]"')
    servers = bootstrap_server or broker_list
    if not servers:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    if line_reader is not None:
        env.stderr.write(f"WARN --line-reader {line_reader} is ignored: kafkatools has one built-in line reader\n")
    if compression_codec is not None and compression_codec.lower() not in CODECS:
        raise UsageError(f"Unknown compression codec '{compression_codec}' (expected one of {', '.join(CODECS)})")
    config = load_client_config(str(producer_config) if producer_config else None, producer_property)
    given: dict[str, object | None] = {
        "linger.ms": timeout, "acks": request_required_acks, "request.timeout.ms": request_timeout_ms,
        "retries": message_send_max_retries, "retry.backoff.ms": retry_backoff_ms,
        "batch.size": max_partition_memory_bytes if max_partition_memory_bytes is not None else batch_size,
        "metadata.max.age.ms": metadata_expiry_ms, "max.block.ms": max_block_ms, "buffer.memory": max_memory_bytes,
        "send.buffer.bytes": socket_buffer_size}
    config = merge_producer_config(config, given)
    config["compression.type"] = (compression_codec or "none").lower()
    reader_props = load_client_config(str(reader_config) if reader_config else None, prop)
    opts = Options(parse_bootstrap(servers), topic, config, LineReader.from_properties(reader_props), sync)
    run(opts, env)


def run(opts: Options, env: Env) -> None:
    run_async(produce(opts, env))


def main() -> None:
    """Entry point of kafka-console-producer."""
    import sys

    raise SystemExit(run_app(app, "kafka-console-producer", normalize_argv(sys.argv[1:])))
