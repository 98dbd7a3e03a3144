"""`kafka-leader-election`: elect the preferred (or, unclean, any live) replica as leader.

Kafka 3.9's ``LeaderElectionCommand`` over ElectLeaders (key 43) sent to the controller.  Exactly
one of ``--topic``/``--partition``, ``--all-topic-partitions`` or ``--path-to-json-file``
(``{"partitions":[{"topic":"foo","partition":1}]}``).  Output::

    Successfully completed leader election (PREFERRED) for partitions t-0, t-1
    Valid replica already elected for partitions t-2
    Error completing leader election (PREFERRED) for partition: t-3: <Java exception>: <message>

and, when any partition failed, ``N replica(s) could not be elected`` on stderr with exit 1.
Partitions are listed sorted (Kafka prints a hash set's order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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

app = make_app("Elect a new leader for a set of topic partitions (preferred or unclean election).")
ELECTION_NOT_NEEDED = 84
JAVA_EXCEPTIONS = {7: "TimeoutException", 31: "ClusterAuthorizationException", -1: "UnknownServerException"}


class ElectionType(StrEnum):
    PREFERRED = "preferred"
    UNCLEAN = "unclean"


Partition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    election: ElectionType
    partitions: tuple[Partition, ...] | None  # None: every eligible partition


def java_exception(code: int, message: str | None) -> str:
    """How Java prints the exception for ``code`` (``Throwable.toString``): class name, then the message."""
    from kafkatools.errors import error_for

    name = error_for(code).name
    simple = JAVA_EXCEPTIONS.get(code) or "".join(w.capitalize() for w in name.split("_")) + "Exception"
    text = f"org.apache.kafka.common.errors.{simple}"
    return f"{text}: {message}" if message else text


def parse_election_data(text: str) -> tuple[Partition, ...]:
    """``{"partitions":[{"topic":"foo","partition":1},…]}`` with Kafka's checks."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise KafkatoolsError(f"Replica election data is not valid JSON: {e}") from None
    if not isinstance(data, dict) or "partitions" not in data:
        raise KafkatoolsError('Replica election data is missing "partitions" field')
    items = data["partitions"]
    if not isinstance(items, list):
        raise KafkatoolsError('Replica election data field "partitions" must be a list')
    out: list[Partition] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str) or \
                not isinstance(item.get("partition"), int) or isinstance(item.get("partition"), bool):
            raise KafkatoolsError(f"Replica election data has an invalid partition entry: {json.dumps(item)}")
        out.append((item["topic"], item["partition"]))
    dupes = sorted({p for p in out if out.count(p) > 1})
    if dupes:
        raise KafkatoolsError("Replica election data contains duplicate partitions: "
                              + ",".join(f"{t}-{p}" for t, p in dupes))
    return tuple(out)


def validate(bootstrap: str | None, election: ElectionType | None, topic: str | None, partition: int | None,
             all_partitions: bool, json_file: Path | None) -> None:
    """LeaderElectionCommandOptions.validate: Kafka's messages, in Kafka's order."""
    missing = [n for n, v in (("bootstrap-server", bootstrap), ("election-type", election)) if not v]
    if missing:
        raise UsageError(f"Missing required option(s): {', '.join(missing)}")
    if sum((topic is not None, all_partitions, json_file is not None)) != 1:
        raise UsageError("One and only one of the following options is required: topic, all-topic-partitions, "
                         "path-to-json-file")
    if topic is not None and partition is None:
        raise UsageError("Missing required option(s): partition")
    if topic is None and partition is not None:
        raise UsageError("Option partition is only allowed if topic is used")


def render(election: ElectionType, results: dict[Partition, tuple[int, str | None]]) -> tuple[list[str], int]:
    """The tool's lines and how many partitions failed."""
    kind = election.name
    ok = [f"{t}-{p}" for (t, p), (code, _) in sorted(results.items()) if code == 0]
    noop = [f"{t}-{p}" for (t, p), (code, _) in sorted(results.items()) if code == ELECTION_NOT_NEEDED]
    failed = [(f"{t}-{p}", code, msg) for (t, p), (code, msg) in sorted(results.items())
              if code not in (0, ELECTION_NOT_NEEDED)]
    lines = []
    if ok:
        lines.append(f"Successfully completed leader election ({kind}) for partitions {', '.join(ok)}")
    if noop:
        lines.append(f"Valid replica already elected for partitions {', '.join(noop)}")
    lines += [f"Error completing leader election ({kind}) for partition: {tp}: {java_exception(code, msg)}"
              for tp, code, msg in failed]
    return lines, len(failed)


async def _elect(opts: Options) -> dict[Partition, tuple[int, str | None]]:
    from kafkatools.client.admin import PREFERRED_ELECTION, UNCLEAN_ELECTION, elect_leaders
    from kafkatools.client.cluster import KafkaClient

    kind = PREFERRED_ELECTION if opts.election is ElectionType.PREFERRED else UNCLEAN_ELECTION
    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "leader-election")) as client:
        return await elect_leaders(client, kind, None if opts.partitions is None else list(opts.partitions))


def run(opts: Options, env: Env) -> None:
    lines, failed = render(opts.election, run_async(_elect(opts)))
    env.stdout.write("".join(line + "\n" for line in lines))
    if failed:
        env.stderr.write(f"{failed} replica(s) could not be elected\n")
        raise typer.Exit(1)


Opt = typer.Option


@app.command()
def leader_election(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    election_type: Annotated[ElectionType | None, Opt("--election-type", case_sensitive=False,
                                                      help="REQUIRED: preferred or unclean.")] = None,
    topic: Annotated[str | None, Opt("--topic", help="The topic (needs --partition).")] = None,
    partition: Annotated[int | None, Opt("--partition", help="The partition of --topic.")] = None,
    all_topic_partitions: Annotated[bool, Opt("--all-topic-partitions",
                                              help="Every eligible partition of every topic.")] = False,
    path_to_json_file: Annotated[Path | None, Opt("--path-to-json-file",
                                                  help='{"partitions":[{"topic":"foo","partition":1}]}')] = None,
    admin_config: Annotated[Path | None, Opt("--admin.config", help="Admin client properties file.")] = None,
    version: VersionOption = False,
) -> None:
    """Elect a new leader for a set of topic partitions (preferred or unclean election)."""
    validate(bootstrap_server, election_type, topic, partition, all_topic_partitions, path_to_json_file)
    assert bootstrap_server is not None and election_type is not None
    partitions: tuple[Partition, ...] | None = None
    if path_to_json_file is not None:
        partitions = parse_election_data(path_to_json_file.read_text(encoding="utf-8"))
    elif topic is not None and partition is not None:
        partitions = ((topic, partition),)
    opts = Options(parse_bootstrap(bootstrap_server),
                   load_client_config(str(admin_config) if admin_config else None), election_type, partitions)
    run(opts, current_env())


def main() -> None:
    """Entry point of kafka-leader-election."""
    raise SystemExit(run_app(app, "kafka-leader-election"))
