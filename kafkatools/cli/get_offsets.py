"""`kafka-get-offsets`: print ``topic:partition:offset`` for the partitions matching the filters.

Kafka 3.9's ``GetOffsetShell``: ``--topic`` is a regex, ``--partitions`` a list of ids,
``--topic-partitions`` a list of ``regex[:N|lo-hi|lo-|-hi]`` (hi exclusive); ``--time`` is a
timestamp in ms or -1/latest, -2/earliest, -3/max-timestamp.  Lines are sorted by the *string*
``topic-partition`` (so ``t-10`` comes before ``t-2``); partitions answering -1 are left out and
per-partition errors go to stderr as ``Skip getting offsets for topic-partition T-P due to error: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
from kafkatools.errors import KafkatoolsError

if TYPE_CHECKING:
    from kafkatools.client.cluster import KafkaClient

app = make_app("An interactive shell for getting topic-partition offsets.")
TIMES = {"latest": -1, "earliest": -2, "max-timestamp": -3, "earliest-local": -4, "latest-tiered": -5}
PartitionTest = Callable[[int], bool]
Filter = tuple[re.Pattern[str], PartitionTest]
_TP = re.compile(r"^([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?$")


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    filters: tuple[Filter, ...]
    time: int
    exclude_internal: bool
    output: OutputFormat


def parse_time(text: str) -> int:
    value = TIMES.get(text.strip().lower())
    if value is not None:
        return value
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"Malformed time argument {text}. Please use -1 or latest / -2 or earliest / -3 or "
                         "max-timestamp, or a specified long format timestamp") from None


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text or ".*")
    except re.error as e:
        raise UsageError(f"Invalid topic regex '{text}': {e}") from None


def _range(low: int, high: int | None) -> PartitionTest:
    return lambda p: p >= low and (high is None or p < high)


def parse_topic_partitions(text: str) -> list[Filter]:
    """``--topic-partitions``: ``t1:1,t2:0-3,t3,t4:5-,t5:-3`` into (topic regex, partition test) pairs."""
    out: list[Filter] = []
    for item in text.split(","):
        m = _TP.match(item.strip())
        if m is None:
            raise UsageError(f"Invalid topic-partition filter: '{item}'")
        topic, single, lo, hi = m.groups()
        high: int | None
        if single:
            low, high = int(single), int(single) + 1
        else:
            low, high = int(lo) if lo else 0, int(hi) if hi else None
        out.append((_regex(topic), _range(low, high)))
    return out


def parse_partition_list(text: str) -> set[int]:
    try:
        return {int(p) for p in text.split(",") if p.strip()}
    except ValueError:
        raise UsageError("--partitions expects a comma separated list of numeric partition ids, but received: "
                         f"{text}") from None


async def _offsets(client: KafkaClient, opts: Options, env: Env) -> None:
    from kafkatools.client.admin import list_offsets

    await client.refresh_metadata(None)
    chosen: list[tuple[str, int]] = []
    for name, meta in client.topics.items():
        if opts.exclude_internal and meta.is_internal:
            continue
        for p in meta.partitions:
            if any(rx.fullmatch(name) and test(p.partition_index) for rx, test in opts.filters):
                chosen.append((name, p.partition_index))
    if not chosen:
        raise KafkatoolsError("Error occurred: Could not match any topic-partitions with the specified filters")
    found = await list_offsets(client, chosen, opts.time)
    from kafkatools.errors import error_for

    for (topic, n), (code, offset, _) in sorted(found.items(), key=lambda kv: f"{kv[0][0]}-{kv[0][1]}"):
        if code:
            env.stderr.write(f"Skip getting offsets for topic-partition {topic}-{n} due to error: "
                             f"{error_for(code).name}\n")
        elif offset >= 0:
            if opts.output is OutputFormat.JSON:
                env.stdout.write(f'{{"topic":"{topic}","partition":{n},"offset":{offset}}}\n')
            else:
                env.stdout.write(f"{topic}:{n}:{offset}\n")


def execute(opts: Options, env: Env) -> None:
    from kafkatools.client.cluster import KafkaClient

    async def go() -> None:
        async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "GetOffsetShell")) as client:
            await _offsets(client, opts, env)

    run_async(go())


Opt = typer.Option


@app.command()
def get_offsets(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    broker_list: Annotated[str | None, Opt("--broker-list", help="DEPRECATED, use --bootstrap-server.")] = None,
    topic_partitions: Annotated[str | None, Opt("--topic-partitions", help="t1:1,t2:0-3,t3,t4:5-,t5:-3")] = None,
    topic: Annotated[str | None, Opt("--topic", help="Topic regex (default: all topics).")] = None,
    partitions: Annotated[str | None, Opt("--partitions", help="Comma-separated partition ids.")] = None,
    time_: Annotated[str, Opt("--time", help="ms, -1/latest, -2/earliest, -3/max-timestamp.")] = "latest",
    command_config: Annotated[Path | None, Opt("--command-config", help="Client properties file.")] = None,
    exclude_internal_topics: Annotated[bool, Opt("--exclude-internal-topics", help="Hide internal topics.")
                                       ] = False,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """An interactive shell for getting topic-partition offsets."""
    servers = bootstrap_server or broker_list
    if not servers:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    if topic_partitions is not None:
        for name, value in (("topic", topic), ("partitions", partitions)):
            if value is not None:
                raise UsageError(f'Option "[topic-partitions]" can\'t be used with option "[{name}]"')
        filters = parse_topic_partitions(topic_partitions)
    else:
        wanted = parse_partition_list(partitions) if partitions is not None else None
        filters = [(_regex(topic or ".*"), (lambda p: True) if wanted is None else wanted.__contains__)]
    opts = Options(parse_bootstrap(servers), load_client_config(str(command_config) if command_config else None),
                   tuple(filters), parse_time(time_), exclude_internal_topics, output)
    execute(opts, current_env())


def run(opts: Options, env: Env) -> None:
    execute(opts, env)


def main() -> None:
    """Entry point of kafka-get-offsets."""
    raise SystemExit(run_app(app, "kafka-get-offsets"))
