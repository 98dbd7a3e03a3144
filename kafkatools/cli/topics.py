"""`kafka-topics`: create, delete, describe, list and alter (partition count) topics.

Flags, checks and output follow Kafka 3.9's ``TopicCommand`` over the admin API: ``--list`` prints the
sorted names once (an empty cluster prints one empty line), ``--describe`` a topic line (TopicId,
PartitionCount, ReplicationFactor, the non-default Configs) and one line per partition, ``--topic``
is a regex (commas mean "or") except for ``--create``.  ``--partition`` is accepted for
``--partitions``, as the 0.8-era quick start types it (joptsimple allowed unambiguous prefixes then).

Deviation by design: ``Error while executing topic command : <message>`` goes to stderr (Kafka
prints it on stdout), so that errors are always one line on stderr with exit 1.
"""

from __future__ import annotations

import base64
import re
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
    parse_property_options,
    run_app,
    run_async,
)
from kafkatools.errors import KafkaError, KafkatoolsError

if TYPE_CHECKING:
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.codec import messages

app = make_app("Create, delete, describe, or change a topic.")
ACTIONS = ("create", "list", "describe", "alter", "delete")
PERIOD_WARNING = ("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could "
                  "collide. To avoid issues it is best to use either, but not both.")
DEFAULT_CONFIG = 5
FILTERS = ("under-replicated-partitions", "unavailable-partitions", "under-min-isr-partitions",
           "at-min-isr-partitions")


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    action: str
    topic: str | None
    topic_id: str | None
    partitions: int | None
    replication_factor: int | None
    assignment: list[list[int]] | None
    topic_configs: dict[str, str]
    if_exists: bool
    if_not_exists: bool
    exclude_internal: bool
    with_overrides: bool
    partition_filter: str | None
    output: OutputFormat


class TopicCommandError(KafkatoolsError):
    """Reported as Kafka's ``Error while executing topic command : <message>``."""


def topic_id_text(topic_id: object) -> str:
    """A topic id as Kafka prints it: url-safe base64 of the 16 bytes, no padding (22 characters)."""
    return base64.urlsafe_b64encode(getattr(topic_id, "bytes", b"")).decode().rstrip("=")


def include_pattern(raw: str) -> re.Pattern[str]:
    """Kafka's ``IncludeList``: commas mean alternation, spaces and surrounding quotes are dropped."""
    text = re.sub(r"[\"']+$", "", re.sub(r"^[\"']+", "", raw.strip().replace(",", "|").replace(" ", "")))
    try:
        return re.compile(text)
    except re.error as e:
        raise UsageError(f"{raw} is an invalid regex: {e}") from None


def parse_replica_assignment(text: str) -> list[list[int]]:
    """``1:2,3:4`` -> ``[[1, 2], [3, 4]]`` with Kafka's checks (duplicates, uneven replication factor)."""
    out: list[list[int]] = []
    for i, part in enumerate(text.split(",")):
        try:
            brokers = [int(b.strip()) for b in part.split(":") if b.strip()]
        except ValueError:
            raise UsageError(f"Invalid replica assignment '{text}': broker ids must be integers") from None
        if len(set(brokers)) != len(brokers):
            raise UsageError(f"Partition replica lists may not contain duplicate entries: {part}")
        if out and len(brokers) != len(out[0]):
            raise UsageError(f"Partition {i} has different replication factor: {part}")
        out.append(brokers)
    return out


def render_topic(t: messages.MetadataResponse.MetadataResponseTopic, configs: list[tuple[str, str | None]]) -> str:
    rf = len(t.partitions[0].replica_nodes) if t.partitions else 0
    tid = f"\tTopicId: {topic_id_text(t.topic_id)}" if getattr(t.topic_id, "int", 0) else ""
    conf = ",".join(f"{k}={v}" for k, v in configs)
    return f"Topic: {t.name}{tid}\tPartitionCount: {len(t.partitions)}\tReplicationFactor: {rf}\tConfigs: {conf}"


def render_partition(topic: str, p: messages.MetadataResponse.MetadataResponsePartition) -> str:
    leader = "none" if p.leader_id < 0 else str(p.leader_id)
    return (f"\tTopic: {topic}\tPartition: {p.partition_index}\tLeader: {leader}\t"
            f"Replicas: {','.join(map(str, p.replica_nodes))}\tIsr: {','.join(map(str, p.isr_nodes))}"
            "\tElr: N/A\tLastKnownElr: N/A")


def partition_matches(flt: str | None, p: messages.MetadataResponse.MetadataResponsePartition, live: set[int],
                      min_isr: int) -> bool:
    if flt is None:
        return True
    if flt == "under-replicated-partitions":
        return len(p.isr_nodes) < len(p.replica_nodes)
    if flt == "unavailable-partitions":
        return p.leader_id < 0 or p.leader_id not in live
    if flt == "under-min-isr-partitions":
        return p.leader_id < 0 or len(p.isr_nodes) < min_isr
    return len(p.isr_nodes) == min_isr


# -- running (network) ------------------------------------------------------------------------------
async def _matching(client: KafkaClient, opts: Options) -> list[str]:
    await client.refresh_metadata(None)
    names = sorted(client.topics)
    if opts.exclude_internal:
        names = [n for n in names if not client.topics[n].is_internal]
    if opts.topic is not None:
        pattern = include_pattern(opts.topic)
        names = [n for n in names if pattern.fullmatch(n)]
    if opts.topic_id is not None:
        names = [n for n in names if topic_id_text(client.topics[n].topic_id) == opts.topic_id]
    return names


def _ensure_found(found: list[str], opts: Options) -> None:
    if not found and not opts.if_exists and (opts.topic is not None or opts.topic_id is not None):
        what = opts.topic if opts.topic is not None else opts.topic_id
        raise TopicCommandError(f"Topic 'Optional[{what}]' does not exist as expected")


async def _create(client: KafkaClient, opts: Options, env: Env) -> None:
    from kafkatools.client.admin import create_topic

    assert opts.topic is not None
    if "." in opts.topic or "_" in opts.topic:
        env.stdout.write(PERIOD_WARNING + "\n")
    try:
        await create_topic(client, opts.topic, opts.partitions if opts.partitions is not None else -1,
                           opts.replication_factor if opts.replication_factor is not None else -1,
                           opts.assignment, opts.topic_configs)
    except KafkaError as e:
        if opts.if_not_exists and e.error.name == "TOPIC_ALREADY_EXISTS":
            return
        raise
    if opts.output is OutputFormat.JSON:
        env.stdout.write(f'{{"created":{_json(opts.topic)}}}\n')
    else:
        env.stdout.write(f"Created topic {opts.topic}.\n")


def _json(value: object) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def _describe(client: KafkaClient, opts: Options, env: Env) -> None:
    from kafkatools.client.admin import TOPIC_RESOURCE, describe_many_configs

    names = await _matching(client, opts)
    _ensure_found(names, opts)
    configs = await describe_many_configs(client, TOPIC_RESOURCE, names)
    live = set(client.nodes)
    for name in names:
        t = client.topics[name]
        entries = configs.get(name, [])
        overrides = [(c.name, c.value) for c in entries if c.source != DEFAULT_CONFIG]
        min_isr = next((int(c.value) for c in entries if c.name == "min.insync.replicas" and c.value), 1)
        if opts.with_overrides and not overrides:
            continue
        parts = sorted(t.partitions, key=lambda p: p.partition_index)
        shown = [p for p in parts if partition_matches(opts.partition_filter, p, live, min_isr)]
        if opts.output is OutputFormat.JSON:
            env.stdout.write(_json({
                "topic": name, "topic_id": topic_id_text(t.topic_id), "partition_count": len(parts),
                "replication_factor": len(parts[0].replica_nodes) if parts else 0, "configs": dict(overrides),
                "partitions": [] if opts.with_overrides else [
                    {"partition": p.partition_index, "leader": p.leader_id if p.leader_id >= 0 else None,
                     "replicas": p.replica_nodes, "isr": p.isr_nodes} for p in shown]}) + "\n")
            continue
        if opts.partition_filter is None:
            env.stdout.write(render_topic(t, overrides) + "\n")
        if not opts.with_overrides:
            for p in shown:
                env.stdout.write(render_partition(name, p) + "\n")


async def execute(opts: Options, env: Env) -> None:
    from kafkatools.client import admin
    from kafkatools.client.cluster import KafkaClient

    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "kafka-topics")) as client:
        if opts.action == "create":
            await _create(client, opts, env)
        elif opts.action == "list":
            names = await _matching(client, opts)
            if opts.output is OutputFormat.JSON:
                env.stdout.write("".join(_json({"topic": n}) + "\n" for n in names))
            else:
                env.stdout.write("\n".join(names) + "\n")
        elif opts.action == "describe":
            await _describe(client, opts, env)
        elif opts.action == "delete":
            names = await _matching(client, opts)
            _ensure_found(names, opts)
            internal = [n for n in names if client.topics[n].is_internal]
            if internal:
                raise TopicCommandError(f"Topic {internal[0]} is a kafka internal topic and is not allowed to be "
                                        "marked for deletion.")
            if names:
                await admin.delete_topics(client, names)
        else:
            names = await _matching(client, opts)
            _ensure_found(names, opts)
            for name in names:
                current = len(client.topics[name].partitions)
                extra = opts.assignment[current:] if opts.assignment is not None else None
                await admin.create_partitions(client, name, opts.partitions or current, extra)


def validate(actions: dict[str, bool], topic: str | None, partitions: int | None, replication_factor: int | None,
             replica_assignment: str | None, configs: list[str] | None, filters: dict[str, bool],
             with_overrides: bool, if_exists: bool, if_not_exists: bool) -> str:
    """TopicCommandOptions.checkArgs, as far as it concerns the admin-API tool; the action."""
    chosen = [a for a, on in actions.items() if on]
    if len(chosen) != 1:
        raise UsageError("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
    action = chosen[0]
    if action in ("create", "alter", "delete") and not topic:
        raise UsageError('Missing required argument "[topic]"')
    if action == "alter":
        if configs:
            raise UsageError('Option combination "[bootstrap-server],[config]" can\'t be used with option "[alter]" '
                             "(the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)")
        if partitions is None:
            raise UsageError('Missing required argument "[partitions]"')
    if action not in ("create", "alter"):
        for name, value in (("partitions", partitions), ("replica-assignment", replica_assignment)):
            if value is not None:
                raise UsageError(f'Option "[{name}]" can\'t be used with option "[{action}]"')
    if action != "create":
        if replication_factor is not None:
            raise UsageError(f'Option "[replication-factor]" can\'t be used with option "[{action}]"')
        if configs:
            raise UsageError(f'Option "[config]" can\'t be used with option "[{action}]"')
        if if_not_exists:
            raise UsageError(f'Option "[if-not-exists]" can\'t be used with option "[{action}]"')
    elif replica_assignment is not None:
        for name, value in (("partitions", partitions), ("replication-factor", replication_factor)):
            if value is not None:
                raise UsageError(f'Option "[{name}]" can\'t be used with option "[replica-assignment]"')
    if if_exists and action not in ("alter", "delete", "describe"):
        raise UsageError(f'Option "[if-exists]" can\'t be used with option "[{action}]"')
    if action != "describe" and (with_overrides or any(filters.values())):
        flag = "topics-with-overrides" if with_overrides else next(f for f, on in filters.items() if on)
        raise UsageError(f'Option "[{flag}]" can\'t be used with option "[{action}]"')
    if sum(filters.values()) + with_overrides > 1:
        on = [f for f, v in filters.items() if v] + (["topics-with-overrides"] if with_overrides else [])
        raise UsageError(f'Option "[{on[0]}]" can\'t be used with option "[{on[1]}]"')
    if partitions is not None and partitions < 1:
        raise UsageError("The partitions must be greater than 0")
    if replication_factor is not None and not 1 <= replication_factor <= 32767:
        raise UsageError("The replication factor must be between 1 and 32767 inclusive")
    return action


Opt = typer.Option


@app.command()
def topics(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    zookeeper: Annotated[str | None, Opt("--zookeeper", help="host:port[/chroot] (Kafka <= 2.8).")] = None,
    command_config: Annotated[Path | None, Opt("--command-config", help="Admin client properties file.")] = None,
    list_: Annotated[bool, Opt("--list", help="List all available topics.")] = False,
    describe: Annotated[bool, Opt("--describe", help="List details for the given topics.")] = False,
    create: Annotated[bool, Opt("--create", help="Create a new topic.")] = False,
    alter: Annotated[bool, Opt("--alter", help="Alter the number of partitions and replica assignment.")] = False,
    delete: Annotated[bool, Opt("--delete", help="Delete a topic.")] = False,
    topic: Annotated[str | None, Opt("--topic", help="The topic (a regex except with --create).")] = None,
    topic_id: Annotated[str | None, Opt("--topic-id", help="The topic id (describe only).")] = None,
    partitions: Annotated[int | None, Opt("--partitions", "--partition", help="Number of partitions.")] = None,
    replication_factor: Annotated[int | None, Opt("--replication-factor", help="Replication factor.")] = None,
    replica_assignment: Annotated[str | None, Opt("--replica-assignment", help="b1:b2,b3:b4 per partition.")
                                  ] = None,
    config: Annotated[list[str] | None, Opt("--config", help="Topic config override k=v (repeatable).")] = None,
    delete_config: Annotated[str | None, Opt("--delete-config", help="ZooKeeper mode only.")] = None,
    if_exists: Annotated[bool, Opt("--if-exists", help="Only act if the topic exists.")] = False,
    if_not_exists: Annotated[bool, Opt("--if-not-exists", help="Only create if the topic does not exist.")] = False,
    exclude_internal: Annotated[bool, Opt("--exclude-internal", help="Hide internal topics.")] = False,
    topics_with_overrides: Annotated[bool, Opt("--topics-with-overrides", help="Only topics with overrides.")
                                     ] = False,
    under_replicated: Annotated[bool, Opt("--under-replicated-partitions", help="ISR < replicas.")] = False,
    unavailable: Annotated[bool, Opt("--unavailable-partitions", help="Leader not available.")] = False,
    under_min_isr: Annotated[bool, Opt("--under-min-isr-partitions", help="ISR < min.insync.replicas.")] = False,
    at_min_isr: Annotated[bool, Opt("--at-min-isr-partitions", help="ISR = min.insync.replicas.")] = False,
    size_limit: Annotated[int, Opt("--partition-size-limit-per-response", help="Ignored.")] = 2000,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """Create, delete, describe, or change a topic."""
    if zookeeper is not None and bootstrap_server:
        raise UsageError("Only one of --bootstrap-server or --zookeeper must be specified")
    if not bootstrap_server and zookeeper is None:
        raise UsageError("--bootstrap-server must be specified")
    if delete_config is not None and zookeeper is None:
        raise UsageError('Option "[delete-config]" can\'t be used with option "[bootstrap-server]"')
    filters = dict(zip(FILTERS, (under_replicated, unavailable, under_min_isr, at_min_isr), strict=True))
    action = validate(dict(zip(ACTIONS, (create, list_, describe, alter, delete), strict=True)), topic, partitions,
                      replication_factor, replica_assignment, config, filters, topics_with_overrides, if_exists,
                      if_not_exists)
    opts = Options(parse_bootstrap(bootstrap_server) if bootstrap_server else [],
                   load_client_config(str(command_config or "") or None), action,
                   topic, topic_id, partitions, replication_factor,
                   parse_replica_assignment(replica_assignment) if replica_assignment else None,
                   parse_property_options(config), if_exists, if_not_exists, exclude_internal, topics_with_overrides,
                   next((f for f, on in filters.items() if on), None), output)
    if zookeeper is not None:
        run_on_zookeeper(zookeeper, opts, current_env())
        return
    run(opts, current_env())


def run_on_zookeeper(connect: str, opts: Options, env: Env) -> None:
    """Kafka <= 2.8's ``--zookeeper`` mode: read and write the cluster's znodes directly (coordination.zk_admin)."""
    from kafkatools.coordination import zk_admin as za
    from kafkatools.coordination.cluster_registry import ClusterRegistry
    from kafkatools.coordination.errors import CoordinationError
    from kafkatools.coordination.kazoo_store import KazooStore

    try:
        store = KazooStore(connect, connect_timeout_s=10.0)
    except CoordinationError as e:
        env.stderr.write(f"Error while executing topic command : {e}\n")
        raise typer.Exit(1) from None
    registry = ClusterRegistry(store)
    out = env.stdout
    try:
        marked = za.zk_marked_for_deletion(registry)
        names = [n for n in registry.topics() if not (opts.exclude_internal and n in za.INTERNAL_TOPICS)]
        if opts.topic is not None and opts.action != "create":
            names = [n for n in names if include_pattern(opts.topic).fullmatch(n)]
            _ensure_found(names, opts)
        if opts.action == "create":
            assert opts.topic is not None
            if "." in opts.topic or "_" in opts.topic:
                out.write(PERIOD_WARNING + "\n")
            if opts.if_not_exists and opts.topic in names:
                return
            za.zk_create_topic(registry, opts.topic, opts.partitions, opts.replication_factor, opts.assignment,
                               opts.topic_configs)
            out.write(f"Created topic {opts.topic}.\n")
        elif opts.action == "list":
            out.write("".join(f"{n} - marked for deletion\n" if n in marked else f"{n}\n" for n in names))
        elif opts.action == "describe":
            for name in names:
                d = za.zk_describe_topic(registry, name)
                if d is None:
                    continue
                rf = len(d.partitions[0].replicas) if d.partitions else 0
                conf = ",".join(f"{k}={v}" for k, v in d.configs.items())
                tid = f"\tTopicId: {d.topic_id}" if d.topic_id else ""
                flag = "\tMarkedForDeletion: true" if d.marked_for_deletion else ""
                out.write(f"Topic: {name}{tid}\tPartitionCount: {len(d.partitions)}\tReplicationFactor: {rf}"
                          f"\tConfigs: {conf}{flag}\n")
                for p in d.partitions:
                    leader = "none" if p.leader < 0 else str(p.leader)
                    out.write(f"\tTopic: {name}\tPartition: {p.partition}\tLeader: {leader}\t"
                              f"Replicas: {','.join(map(str, p.replicas))}\tIsr: {','.join(map(str, p.isr))}{flag}\n")
        elif opts.action == "delete":
            for name in names:
                za.zk_delete_topic(registry, name)
                out.write(f"Topic {name} is marked for deletion.\n"
                          "Note: This will have no impact if delete.topic.enable is not set to true.\n")
        else:
            raise TopicCommandError("--alter with --zookeeper is not supported; use --bootstrap-server")
    except (KafkaError, TopicCommandError, CoordinationError) as e:
        message = e.message if isinstance(e, KafkaError) else str(e)
        env.stderr.write(f"Error while executing topic command : {message}\n")
        raise typer.Exit(1) from None
    finally:
        store.close()


def run(opts: Options, env: Env) -> None:
    try:
        run_async(execute(opts, env))
    except (KafkaError, TopicCommandError) as e:
        message = e.message if isinstance(e, KafkaError) else str(e)
        env.stderr.write(f"Error while executing topic command : {message}\n")
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of kafka-topics."""
    raise SystemExit(run_app(app, "kafka-topics"))
