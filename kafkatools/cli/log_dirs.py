"""`kafka-log-dirs`: each broker's log directories and the partitions in them, as one line of JSON.

Kafka 3.9's ``LogDirsCommand`` over DescribeLogDirs::

    Querying brokers for log directories information
    Received log directory information from brokers 1,2,3
    {"brokers":[{"broker":1,"logDirs":[{"partitions":[{"partition":"t-0","size":83,"offsetLag":0,
     "isFuture":false}],"error":null,"logDir":"/tmp/kafka-logs"}]}],"version":1}

Key order is the one a real 3.9 tool prints (Java HashMaps, observed); brokers come in id order,
partitions by topic then number.  ``--topic-list`` filters what is printed, ``--broker-list`` which
brokers are asked; naming a broker the cluster does not have is Kafka's
``ERROR: The given brokers do not exist from --broker-list: …`` (stderr, exit 1).
"""

from __future__ import annotations

import json
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

if TYPE_CHECKING:
    from kafkatools.client.admin import LogDirInfo

app = make_app("Query log directory usage on the specified brokers.")
ERROR_CLASSES = {56: "org.apache.kafka.common.errors.KafkaStorageException",
                 -1: "org.apache.kafka.common.errors.UnknownServerException"}


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    brokers: tuple[int, ...]  # empty: every broker
    topics: tuple[str, ...]  # empty: every topic


def split_list(text: str | None) -> list[str]:
    return [x for x in (text or "").split(",") if x]


def parse_broker_list(text: str | None) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(x) for x in split_list(text)}))
    except ValueError:
        raise UsageError(f"--broker-list must be a comma-separated list of broker ids, not '{text}'") from None


def render(infos: dict[int, list[LogDirInfo]], topics: tuple[str, ...]) -> str:
    """The tool's JSON line, keys in the order Kafka 3.9 prints them."""
    brokers = []
    for broker, dirs in sorted(infos.items()):
        log_dirs = []
        for d in dirs:
            parts = [{"partition": f"{t}-{p}", "size": size, "offsetLag": lag, "isFuture": future}
                     for t, p, size, lag, future in sorted(d.partitions) if not topics or t in topics]
            error = None if d.error_code == 0 else ERROR_CLASSES.get(d.error_code, f"error code {d.error_code}")
            log_dirs.append({"partitions": parts, "error": error, "logDir": d.log_dir})
        brokers.append({"broker": broker, "logDirs": log_dirs})
    return json.dumps({"brokers": brokers, "version": 1}, separators=(",", ":"), ensure_ascii=False)


class UnknownBrokersError(Exception):
    pass


async def _collect(opts: Options, env: Env) -> dict[int, list[LogDirInfo]]:
    from kafkatools.client.admin import describe_log_dirs
    from kafkatools.client.cluster import KafkaClient

    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "log-dirs-tool")) as client:
        cluster = sorted(client.nodes)
        missing = sorted(set(opts.brokers) - set(cluster))
        if missing:
            raise UnknownBrokersError(
                f"ERROR: The given brokers do not exist from --broker-list: {','.join(map(str, missing))}. "
                f"Current existent brokers: {','.join(map(str, cluster))}")
        env.stdout.write("Querying brokers for log directories information\n")
        wanted = list(opts.brokers) or cluster
        return {b: await describe_log_dirs(client, b) for b in wanted}


def run(opts: Options, env: Env) -> None:
    try:
        infos = run_async(_collect(opts, env))
    except UnknownBrokersError as e:
        env.stderr.write(f"{e}\n")
        raise typer.Exit(1) from None
    env.stdout.write(f"Received log directory information from brokers {','.join(map(str, sorted(infos)))}\n")
    env.stdout.write(render(infos, opts.topics) + "\n")


Opt = typer.Option


@app.command()
def log_dirs(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    command_config: Annotated[Path | None, Opt("--command-config", help="Admin client properties file.")] = None,
    describe: Annotated[bool, Opt("--describe", help="REQUIRED: describe the log directories of the brokers.")
                        ] = False,
    topic_list: Annotated[str | None, Opt("--topic-list", help="topic1,topic2 (default: all topics).")] = None,
    broker_list: Annotated[str | None, Opt("--broker-list", help="0,1,2 (default: all brokers).")] = None,
    version: VersionOption = False,
) -> None:
    """Query log directory usage on the specified brokers."""
    if not bootstrap_server:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    if not describe:
        raise UsageError('Missing required argument "[describe]"')
    config = load_client_config(str(command_config) if command_config else None)
    opts = Options(parse_bootstrap(bootstrap_server), config, parse_broker_list(broker_list),
                   tuple(dict.fromkeys(split_list(topic_list))))
    run(opts, current_env())


def main() -> None:
    """Entry point of kafka-log-dirs."""
    raise SystemExit(run_app(app, "kafka-log-dirs"))
