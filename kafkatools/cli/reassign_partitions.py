"""`kafka-reassign-partitions`: generate, execute, verify, cancel and list partition reassignments.

Kafka 3.9's ``ReassignPartitionsCommand`` over AlterPartitionReassignments / ListPartitionReassignments
and Metadata, with its flags, checks and output lines (reference §b.12, §c.7); JSON is compact,
partitions sorted by topic then number::

    {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3],"log_dirs":["any","any"]}]}

``--zookeeper host:port[/chroot]`` is Kafka <= 2.x's way: ``--execute`` writes
``/admin/reassign_partitions`` (refused while one is pending: "There is an existing assignment
running."), ``--verify``/``--list``/``--generate`` read the znodes; the controller does the rest.

Deliberate differences: errors are one line on stderr with exit 1 (Kafka prints them on stdout);
``--throttle``/``--replica-alter-log-dirs-throttle`` are accepted but not applied (our brokers do not
throttle replication; a note on stderr says so); ``log_dirs`` other than ``"any"`` are refused (no
AlterReplicaLogDirs); ``--cancel`` ends "None of the specified partition moves are active." with a
newline, which Kafka forgets.
"""

from __future__ import annotations

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
from kafkatools.cli._reassignment_json import (
    Partition,
    ReassignError,
    check_execute,
    current_block,
    format_json,
    list_lines,
    parse_broker_list,
    parse_reassignment,
    parse_topics,
    propose,
    started_line,
    status_lines,
    throttle_lines,
    tp_text,
)
from kafkatools.errors import KafkaError

if TYPE_CHECKING:
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.coordination.cluster_registry import ClusterRegistry

app = make_app("Move topic partitions between replicas.")
ACTIONS = ("generate", "execute", "verify", "cancel", "list")
REQUIRED = {"generate": ("topics-to-move-json-file", "broker-list"), "execute": ("reassignment-json-file",),
            "verify": ("reassignment-json-file",), "cancel": ("reassignment-json-file",), "list": ()}
PERMITTED = {"generate": ("command-config", "disable-rack-aware"),
             "execute": ("additional", "command-config", "throttle", "replica-alter-log-dirs-throttle", "timeout"),
             "verify": ("command-config", "preserve-throttles"),
             "cancel": ("command-config", "preserve-throttles", "timeout"), "list": ("command-config",)}
EXISTING = ("Cannot execute because there is an existing partition assignment.  Use --additional to override this "
            "and create a new partition assignment in addition to the existing one. The --additional flag can also "
            "be used to change the throttle by resubmitting the current reassignment.")
THROTTLE_NOTE = ("Note: --throttle and --replica-alter-log-dirs-throttle are accepted but not applied: kafkatools "
                 "brokers do not throttle replication.")

@dataclass(frozen=True, slots=True)
class Options:
    action: str
    bootstrap: list[tuple[str, int]]
    zookeeper: str | None
    config: dict[str, str]
    topics_json: str | None  # contents of --topics-to-move-json-file
    brokers: tuple[int, ...]
    reassignment_json: str | None  # contents of --reassignment-json-file
    additional: bool
    throttle: int
    preserve_throttles: bool


def write(env: Env, lines: list[str] | str) -> None:
    env.stdout.write("".join(line + "\n" for line in ([lines] if isinstance(lines, str) else lines)))


# --- over the admin API ---------------------------------------------------------------------------------


async def _replicas(client: KafkaClient, topics: set[str]) -> dict[Partition, list[int]]:
    await client.refresh_metadata(sorted(topics))
    out: dict[Partition, list[int]] = {}
    for topic in sorted(topics):
        t = client.topics.get(topic)
        if t is None:
            continue
        out.update({(topic, p.partition_index): list(p.replica_nodes) for p in t.partitions})
    return out


async def _run_admin(opts: Options, env: Env) -> None:
    from kafkatools.client import admin
    from kafkatools.client.cluster import KafkaClient

    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "reassign-partitions-tool")) as c:
        if opts.action == "list":
            write(env, list_lines(await admin.list_partition_reassignments(c)))
            return
        if opts.action == "generate":
            assert opts.topics_json is not None
            topics = parse_topics(opts.topics_json)
            current = await _replicas(c, set(topics))
            missing = [t for t in topics if not any(tp[0] == t for tp in current)]
            if missing:
                raise ReassignError(f"Topic {missing[0]} not found.")
            brokers = [b for b in sorted(c.nodes) if b in opts.brokers]
            generated(env, current, propose(current, brokers))
            return
        assert opts.reassignment_json is not None
        parts = parse_reassignment(opts.reassignment_json)
        if opts.action == "execute":
            targets = check_execute(parts)
            if not opts.additional and await admin.list_partition_reassignments(c):
                raise ReassignError(EXISTING)
            unknown = sorted({b for r in targets.values() for b in r} - set(c.nodes))
            if unknown:
                raise ReassignError(f"Unknown broker id {unknown[0]}")
            current = await _replicas(c, {t for t, _ in targets})
            absent = sorted(set(targets) - set(current))
            if absent:
                raise ReassignError(f"Unable to find partition: {', '.join(map(tp_text, absent))}")
            write(env, current_block({tp: current[tp] for tp in targets}))
            results = await admin.alter_partition_reassignments(c, dict(targets.items()))
            failed = {tp: msg or str(code) for tp, (code, msg) in results.items() if code != 0}
            if failed:
                raise ReassignError("Error reassigning partition(s): "
                                    + "; ".join(f"{tp_text(tp)}: {m}" for tp, m in sorted(failed.items())))
            write(env, started_line(list(targets)))
            return
        targets = dict(parts)
        ongoing = await admin.list_partition_reassignments(c)
        if opts.action == "verify":
            current = await _replicas(c, {t for t, _ in targets})
            current.update({tp: m.replicas for tp, m in ongoing.items()})
            write(env, [*status_lines(targets, current, set(ongoing) & set(targets)), ""])
            if not ongoing and not opts.preserve_throttles:
                write(env, throttle_lines(set(c.nodes) | {b for r in targets.values() for b in r},
                                          {t for t, _ in targets}))
            return
        active = sorted(set(ongoing) & set(targets))
        if active:
            results = await admin.alter_partition_reassignments(c, dict.fromkeys(active))
            failed = {tp: msg or str(code) for tp, (code, msg) in results.items() if code != 0}
            if failed:
                raise ReassignError(f"Error cancelling partition reassignment{'' if len(failed) == 1 else 's'} for: "
                                    + "; ".join(f"{tp_text(tp)}: {m}" for tp, m in sorted(failed.items())))
            s = "" if len(active) == 1 else "s"
            write(env, f"Successfully cancelled partition reassignment{s} for: {','.join(map(tp_text, active))}")
        else:
            write(env, "None of the specified partition reassignments are active.")
        write(env, "None of the specified partition moves are active.")
        if not opts.preserve_throttles:
            write(env, throttle_lines(set(c.nodes) | {b for r in targets.values() for b in r},
                                      {t for t, _ in targets}))


def generated(env: Env, current: dict[Partition, list[int]], proposed: dict[Partition, list[int]]) -> None:
    write(env, ["Current partition replica assignment", format_json(current), "",
                "Proposed partition reassignment configuration", format_json(proposed)])


# --- over ZooKeeper (Kafka <= 2.x) ------------------------------------------------------------------------


def _zk_replicas(registry: ClusterRegistry, topics: set[str]) -> tuple[dict[Partition, list[int]], set[Partition]]:
    """Current replicas of ``topics``' partitions and which of them are being moved."""
    from kafkatools.broker.zk.reassignment import ongoing

    current: dict[Partition, list[int]] = {}
    moving: set[Partition] = set()
    for topic in sorted(topics):
        a = registry.topic_assignment(topic)
        if a is None:
            continue
        for p, replicas in a.partitions.items():
            move = ongoing(a, p)
            current[(topic, p)] = move.target if move is not None else list(replicas)
            if move is not None:
                moving.add((topic, p))
    return current, moving


def run_on_zookeeper(opts: Options, env: Env) -> None:
    from kafkatools.broker.zk.reassignment import list_ongoing, read_requests
    from kafkatools.client.admin import Reassignment
    from kafkatools.coordination import zk_admin as za
    from kafkatools.coordination import zk_paths as zp
    from kafkatools.coordination.cluster_registry import ClusterRegistry
    from kafkatools.coordination.errors import NodeExistsError
    from kafkatools.coordination.kazoo_store import KazooStore

    assert opts.zookeeper is not None
    store = KazooStore(opts.zookeeper, connect_timeout_s=10.0)
    registry = ClusterRegistry(store)
    try:
        if opts.action == "list":
            moves = {(tp.topic, tp.partition): Reassignment(m.replicas, m.adding, m.removing)
                     for tp, m in list_ongoing(registry).items()}
            write(env, list_lines(moves))
        elif opts.action == "generate":
            assert opts.topics_json is not None
            topics = parse_topics(opts.topics_json)
            current, _ = _zk_replicas(registry, set(topics))
            missing = [t for t in topics if not any(tp[0] == t for tp in current)]
            if missing:
                raise ReassignError(f"Topic {missing[0]} not found.")
            brokers = [b for b in registry.live_brokers() if b in opts.brokers]
            generated(env, current, propose(current, brokers))
        elif opts.action == "execute":
            assert opts.reassignment_json is not None
            targets = check_execute(parse_reassignment(opts.reassignment_json))
            if read_requests(registry)[0]:
                raise ReassignError("There is an existing assignment running.")
            unknown = sorted({b for r in targets.values() for b in r} - set(registry.live_brokers()))
            if unknown:
                raise ReassignError(f"Unknown broker id {unknown[0]}")
            current, _ = _zk_replicas(registry, {t for t, _ in targets})
            absent = sorted(set(targets) - set(current))
            if absent:
                raise ReassignError(f"Unable to find partition: {', '.join(map(tp_text, absent))}")
            write(env, current_block({tp: current[tp] for tp in targets}))
            data = za.encode_reassignment({za.TopicPartition(t, p): r for (t, p), r in sorted(targets.items())})
            try:
                store.create(zp.REASSIGN_PARTITIONS, data, make_parents=True)
            except NodeExistsError:
                raise ReassignError("There is an existing assignment running.") from None
            write(env, started_line(list(targets)))
        else:  # verify
            assert opts.reassignment_json is not None
            targets = dict(parse_reassignment(opts.reassignment_json))
            current, moving = _zk_replicas(registry, {t for t, _ in targets})
            pending = {(tp.topic, tp.partition) for tp in read_requests(registry)[0]}
            write(env, status_lines(targets, current, (moving | pending) & set(targets)))
    finally:
        store.close()


# --- command line ---------------------------------------------------------------------------------------


def validate(actions: dict[str, bool], given: dict[str, bool], bootstrap: str | None, zookeeper: str | None) -> str:
    """validateAndParseArgs: one action, its required options, nothing it does not permit; the action."""
    chosen = [a for a, on in actions.items() if on]
    if len(chosen) != 1:
        raise UsageError("Command must include exactly one action: --generate, --execute, --verify, --cancel, --list")
    action = chosen[0]
    if bootstrap and zookeeper:
        raise UsageError("Only one of --bootstrap-server or --zookeeper must be specified")
    if not bootstrap and not zookeeper:
        raise UsageError("Please specify --bootstrap-server")
    if zookeeper and action == "cancel":
        raise UsageError('Option "[zookeeper]" can\'t be used with action "[cancel]"')
    for name in REQUIRED[action]:
        if not given[name]:
            raise UsageError(f'Missing required argument "[{name}]"')
    for name, on in given.items():
        if on and name not in REQUIRED[action] and name not in PERMITTED[action]:
            raise UsageError(f'Option "[{name}]" can\'t be used with action "[{action}]"')
    return action


Opt = typer.Option


@app.command()
def reassign_partitions(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    zookeeper: Annotated[str | None, Opt("--zookeeper", help="host:port[/chroot] (Kafka <= 2.x).")] = None,
    command_config: Annotated[Path | None, Opt("--command-config", help="Admin client properties file.")] = None,
    generate: Annotated[bool, Opt("--generate", help="Propose an assignment of --topics-to-move-json-file.")] = False,
    execute: Annotated[bool, Opt("--execute", help="Start the reassignment in --reassignment-json-file.")] = False,
    verify: Annotated[bool, Opt("--verify", help="Report the status of --reassignment-json-file.")] = False,
    cancel: Annotated[bool, Opt("--cancel", help="Cancel the reassignments in --reassignment-json-file.")] = False,
    list_: Annotated[bool, Opt("--list", help="List the reassignments in progress.")] = False,
    topics_to_move_json_file: Annotated[Path | None, Opt("--topics-to-move-json-file",
                                                         help='{"version":1,"topics":[{"topic":"foo"}]}')] = None,
    broker_list: Annotated[str | None, Opt("--broker-list", help="Brokers to place replicas on: 1,2,3.")] = None,
    reassignment_json_file: Annotated[Path | None, Opt("--reassignment-json-file",
                                                       help="The reassignment (as --generate proposes it).")] = None,
    additional: Annotated[bool, Opt("--additional", help="Execute even while others are in progress.")] = False,
    throttle: Annotated[int | None, Opt("--throttle", help="Accepted, not applied (B/s).")] = None,
    log_dirs_throttle: Annotated[int | None, Opt("--replica-alter-log-dirs-throttle",
                                                 help="Accepted, not applied (B/s).")] = None,
    timeout: Annotated[int | None, Opt("--timeout", help="Accepted (ms; log dir moves are not supported).")] = None,
    preserve_throttles: Annotated[bool, Opt("--preserve-throttles", help="Do not clear throttles.")] = False,
    disable_rack_aware: Annotated[bool, Opt("--disable-rack-aware", help="Placement ignores racks (always).")
                                  ] = False,
    version: VersionOption = False,
) -> None:
    """Move topic partitions between replicas."""
    given = {"command-config": command_config is not None, "topics-to-move-json-file": topics_to_move_json_file
             is not None, "broker-list": broker_list is not None, "reassignment-json-file":
             reassignment_json_file is not None, "additional": additional, "throttle": throttle is not None,
             "replica-alter-log-dirs-throttle": log_dirs_throttle is not None, "timeout": timeout is not None,
             "preserve-throttles": preserve_throttles, "disable-rack-aware": disable_rack_aware}
    action = validate(dict(zip(ACTIONS, (generate, execute, verify, cancel, list_), strict=True)), given,
                      bootstrap_server, zookeeper)
    env = current_env()
    opts = Options(action, parse_bootstrap(bootstrap_server) if bootstrap_server else [], zookeeper,
                   load_client_config(str(command_config) if command_config else None),
                   topics_to_move_json_file.read_text(encoding="utf-8") if topics_to_move_json_file else None,
                   parse_broker_list(broker_list), reassignment_json_file.read_text(encoding="utf-8")
                   if reassignment_json_file else None, additional, -1 if throttle is None else throttle,
                   preserve_throttles)
    if (throttle is not None and throttle >= 0) or (log_dirs_throttle is not None and log_dirs_throttle >= 0):
        env.stderr.write(THROTTLE_NOTE + "\n")
    run(opts, env)


def run(opts: Options, env: Env) -> None:
    try:
        if opts.topics_json is not None:  # file problems are reported before any connection is made
            parse_topics(opts.topics_json)
        if opts.reassignment_json is not None:
            parts = parse_reassignment(opts.reassignment_json)
            if opts.action == "execute":
                check_execute(parts)
        if opts.zookeeper is not None:
            run_on_zookeeper(opts, env)
        else:
            run_async(_run_admin(opts, env))
    except (ReassignError, KafkaError) as e:
        env.stderr.write(f"{e.message if isinstance(e, KafkaError) else e}\n")
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of kafka-reassign-partitions."""
    raise SystemExit(run_app(app, "kafka-reassign-partitions"))
