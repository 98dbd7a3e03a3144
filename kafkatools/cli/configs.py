"""`kafka-configs`: describe and alter topic configs; describe broker configs.

Kafka 3.9's ``ConfigCommand`` over the admin API, for the entity types a single broker has:

* ``--describe``: ``Dynamic configs for topic T are:`` (``All configs for ...`` with ``--all``), then
  ``  name=value sensitive=false synonyms={SOURCE:name=value, ...}`` per entry -- without ``--all``
  only the entity's own dynamic entries (topic overrides, per-broker or cluster-default dynamic
  broker configs).  No name: every topic / every broker.
* ``--alter`` (topics): ``--add-config k1=v1,k2=[a,b]`` (brackets protect commas and are dropped),
  ``--add-config-file``, ``--delete-config k1,k2`` through IncrementalAlterConfigs, then
  ``Completed updating config for topic T.``  Deleting a key the topic does not set is Kafka's
  ``Invalid config(s): k``.  Altering broker configs is refused: our broker has no dynamic configs.
"""

from __future__ import annotations

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
    load_config_file,
    make_app,
    parse_bootstrap,
    run_app,
    run_async,
)
from kafkatools.errors import KafkatoolsError

if TYPE_CHECKING:
    from kafkatools.client.admin import ConfigEntry
    from kafkatools.client.cluster import KafkaClient

app = make_app("Change or describe configs for topics and brokers.")
SOURCES = {0: "UNKNOWN", 1: "DYNAMIC_TOPIC_CONFIG", 2: "DYNAMIC_BROKER_CONFIG", 3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
           4: "STATIC_BROKER_CONFIG", 5: "DEFAULT_CONFIG", 6: "DYNAMIC_BROKER_LOGGER_CONFIG",
           7: "CLIENT_METRICS_CONFIG"}
ENTITY_TYPES = ("topics", "clients", "users", "brokers", "broker-loggers", "ips", "client-metrics")
_OUTSIDE_BRACKETS = r"(?=[^\]]*(?:\[|$))"


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    action: str  # describe | alter
    entity_type: str  # topics | brokers
    entity_name: str | None  # None: all; "" with --entity-default
    add: dict[str, str]
    delete: tuple[str, ...]
    all: bool
    output: OutputFormat


def parse_add_config(text: str) -> dict[str, str]:
    """``k1=v1,k2=[a,b]``: split at commas and '=' outside brackets; brackets are dropped from values."""
    out: dict[str, str] = {}
    for item in re.split("," + _OUTSIDE_BRACKETS, text):
        pair = re.split(r"\s*=\s*" + _OUTSIDE_BRACKETS, item)
        if len(pair) != 2:
            raise UsageError('Invalid entity config: all configs to be added must be in the format "key=val".')
        out[pair[0].strip()] = re.sub(r"\[?\]?", "", pair[1]).strip()
    return out


def parse_delete_config(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


def render_entry(e: ConfigEntry) -> str:
    synonyms = ", ".join(f"{SOURCES.get(src, 'UNKNOWN')}:{name}={value}" for name, value, src in e.synonyms)
    return f"  {e.name}={e.value} sensitive={str(e.sensitive).lower()} synonyms={{{synonyms}}}"


def header(opts: Options, name: str) -> str:
    if opts.entity_type == "brokers" and name == "":
        return "Default configs for brokers in the cluster are:"
    kind = "All" if opts.all else "Dynamic"
    return f"{kind} configs for {opts.entity_type[:-1]} {name} are:"


async def _names(client: KafkaClient, opts: Options) -> list[str]:
    if opts.entity_name is not None:
        return [opts.entity_name]
    if opts.entity_type == "brokers":
        return [str(n) for n in sorted(client.nodes)]
    await client.refresh_metadata(None)
    return sorted(n for n, t in client.topics.items() if not t.is_internal)


async def _describe(client: KafkaClient, opts: Options, env: Env) -> None:
    from kafkatools.client.admin import BROKER_RESOURCE, TOPIC_RESOURCE, describe_configs

    rtype = TOPIC_RESOURCE if opts.entity_type == "topics" else BROKER_RESOURCE
    own = {"topics": 1, "brokers": 2}[opts.entity_type] if opts.entity_name != "" else 3
    for name in await _names(client, opts):
        entries = await describe_configs(client, rtype, name, synonyms=True)
        shown = [e for e in entries if opts.all or e.source == own]
        if opts.output is OutputFormat.JSON:
            import json

            env.stdout.write("".join(json.dumps({
                "entity_type": opts.entity_type, "entity_name": name, "name": e.name, "value": e.value,
                "source": SOURCES.get(e.source, "UNKNOWN"), "sensitive": e.sensitive,
                "synonyms": [{"name": n, "value": v, "source": SOURCES.get(s, "UNKNOWN")} for n, v, s in e.synonyms]},
                separators=(",", ":")) + "\n" for e in shown))
            continue
        env.stdout.write(header(opts, name) + "\n" + "".join(render_entry(e) + "\n" for e in shown))


async def _alter(client: KafkaClient, opts: Options, env: Env) -> None:
    from kafkatools.client.admin import DELETE, SET, TOPIC_RESOURCE, describe_configs, incremental_alter_configs

    if opts.entity_type != "topics":
        raise KafkatoolsError("Altering broker configs is not supported: the kafkatools broker has no dynamic "
                              "broker configs (set them in server.properties)")
    assert opts.entity_name
    current = {e.name for e in await describe_configs(client, TOPIC_RESOURCE, opts.entity_name, synonyms=False)
               if e.source == 1}  # the topic's own overrides: only those can be deleted
    invalid = [k for k in opts.delete if k not in current]
    if invalid:
        raise KafkatoolsError(f"Invalid config(s): {','.join(invalid)}")
    ops: list[tuple[str, int, str | None]] = [(k, SET, v) for k, v in opts.add.items()]
    ops += [(k, DELETE, None) for k in opts.delete]
    await incremental_alter_configs(client, TOPIC_RESOURCE, opts.entity_name, ops)
    env.stdout.write(f"Completed updating config for topic {opts.entity_name}.\n")


def execute(opts: Options, env: Env) -> None:
    from kafkatools.client.cluster import KafkaClient

    async def go() -> None:
        async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "kafka-configs")) as client:
            await (_describe if opts.action == "describe" else _alter)(client, opts, env)

    run_async(go())


def _entity(entity_type: list[str] | None, entity_name: list[str] | None, entity_default: bool, topic: str | None,
            broker: str | None, broker_defaults: bool) -> tuple[str, str | None]:
    shorthand = [(t, n) for t, n, on in (("topics", topic, topic is not None), ("brokers", broker, broker is not None),
                                         ("brokers", "", broker_defaults)) if on]
    if shorthand and (entity_type or entity_name or entity_default):
        raise UsageError("--entity-{type,name,default} should not be used in conjunction with specific entity flags")
    if len(shorthand) > 1:
        raise UsageError("Only one entity type may be specified except for 'users' and 'clients'")
    if shorthand:
        return shorthand[0]
    if not entity_type:
        raise UsageError("Must specify --entity-type or a shorthand flag (--topic, --broker, ...)")
    kind = entity_type[0]
    if kind not in ENTITY_TYPES:
        raise UsageError(f"Invalid entity type {kind}, the entity type must be one of {', '.join(ENTITY_TYPES)}")
    if kind not in ("topics", "brokers"):
        raise UsageError(f"Entity type {kind} is not supported by kafkatools yet (topics and brokers are)")
    if entity_default and kind != "brokers":
        raise UsageError(f"--entity-default is not allowed for entity type {kind}")
    name = "" if entity_default else (entity_name[0] if entity_name else None)
    if kind == "brokers" and name and not name.isdigit():
        raise UsageError(f"The entity name for brokers must be a valid integer broker id, but it is: {name}")
    return kind, name


Opt = typer.Option


@app.command()
def configs(
    bootstrap_server: Annotated[str | None, Opt("--bootstrap-server", help="REQUIRED: host:port[,...].")] = None,
    zookeeper: Annotated[str | None, Opt("--zookeeper", help="Not supported yet: ZooKeeper mode (issue 6).")] = None,
    command_config: Annotated[Path | None, Opt("--command-config", help="Admin client properties file.")] = None,
    describe: Annotated[bool, Opt("--describe", help="List configs for the given entity.")] = False,
    alter: Annotated[bool, Opt("--alter", help="Alter the configuration for the entity.")] = False,
    entity_type: Annotated[list[str] | None, Opt("--entity-type", help="topics or brokers.")] = None,
    entity_name: Annotated[list[str] | None, Opt("--entity-name", help="Topic name or broker id.")] = None,
    entity_default: Annotated[bool, Opt("--entity-default", help="The cluster-wide broker default.")] = False,
    topic: Annotated[str | None, Opt("--topic", help="Same as --entity-type topics --entity-name.")] = None,
    broker: Annotated[str | None, Opt("--broker", help="Same as --entity-type brokers --entity-name.")] = None,
    broker_defaults: Annotated[bool, Opt("--broker-defaults", help="Same as brokers --entity-default.")] = False,
    add_config: Annotated[str | None, Opt("--add-config", help="k1=v1,k2=[v1,v2,v3],k3=v3")] = None,
    add_config_file: Annotated[Path | None, Opt("--add-config-file", help="Properties file of configs to add.")
                               ] = None,
    delete_config: Annotated[str | None, Opt("--delete-config", help="k1,k2")] = None,
    all_: Annotated[bool, Opt("--all", help="With --describe: all configs, not only dynamic ones.")] = False,
    force: Annotated[bool, Opt("--force", help="Ignored.")] = False,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """Change or describe configs for topics and brokers."""
    if zookeeper is not None:
        raise UsageError("--zookeeper is not supported yet: ZooKeeper mode arrives with issue 6; use "
                         "--bootstrap-server")
    if not bootstrap_server:
        raise UsageError("One of the required --bootstrap-server or --bootstrap-controller arguments must be specified")
    if describe == alter:
        raise UsageError("Command must include exactly one action: --describe, --alter")
    kind, name = _entity(entity_type, entity_name, entity_default, topic, broker, broker_defaults)
    add: dict[str, str] = {}
    if alter:
        if add_config is not None and add_config_file is not None:
            raise UsageError("Only one of --add-config or --add-config-file must be specified")
        if add_config is None and add_config_file is None and delete_config is None:
            raise UsageError("At least one of --add-config, --add-config-file, or --delete-config must be specified "
                             "with --alter")
        if kind == "topics" and not name:
            raise UsageError("An entity name must be specified with --alter of topics")
        add = parse_add_config(add_config) if add_config is not None else load_config_file(
            str(add_config_file) if add_config_file else None)
    elif add_config is not None or delete_config is not None or add_config_file is not None:
        raise UsageError('Option "[describe]" can\'t be used with option "[add-config]" or "[delete-config]"')
    deleted = parse_delete_config(delete_config) if delete_config is not None else ()
    both = sorted(set(add) & set(deleted))
    if both:
        raise UsageError(f"Invalid config(s): {','.join(both)} (cannot both add and delete the same config)")
    client_config = load_client_config(str(command_config) if command_config else None)
    opts = Options(parse_bootstrap(bootstrap_server), client_config,
                   "alter" if alter else "describe", kind, name, add, deleted, all_, output)
    execute(opts, current_env())


def run(opts: Options, env: Env) -> None:
    execute(opts, env)


def main() -> None:
    """Entry point of kafka-configs."""
    raise SystemExit(run_app(app, "kafka-configs"))
