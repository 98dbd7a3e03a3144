"""`kafka-broker-api-versions`: each broker's advertised API versions next to what we can use.

Output as Kafka 3.9's ``BrokerApiVersionsCommand`` (``NodeApiVersions.toString(true)``)::

    host:port (id: 0 rack: null) -> (
    \\tProduce(0): 0 to 11 [usable: 11],
    \\tOffsetDelete(47): 0 [usable: 0],
    \\tSomeApi(99): UNSUPPORTED
    )

One line per API our codec knows (sorted by key) plus ``UNKNOWN(key): a to b`` for keys the broker
advertises that we don't know; ``[unusable: node too old|too new]`` when the ranges do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

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

app = make_app("Print the API versions supported by each broker.")


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    output: OutputFormat


def version_lines(broker: dict[int, tuple[int, int]], ours: dict[int, tuple[str, int, int]]) -> list[str]:
    """``Name(key): ...`` for every key we know or the broker advertises; ``ours``: key -> (name, min, max)."""
    out: list[str] = []
    for key in sorted(set(broker) | set(ours)):
        if key not in broker:
            out.append(f"{ours[key][0]}({key}): UNSUPPORTED")
            continue
        lo, hi = broker[key]
        text = str(lo) if lo == hi else f"{lo} to {hi}"
        if key not in ours:
            out.append(f"UNKNOWN({key}): {text}")
            continue
        name, our_lo, our_hi = ours[key]
        if hi < our_lo:
            usable = "[unusable: node too old]"
        elif lo > our_hi:
            usable = "[unusable: node too new]"
        else:
            usable = f"[usable: {min(hi, our_hi)}]"
        out.append(f"{name}({key}): {text} {usable}")
    return out


def render_node(host: str, port: int, node_id: int, rack: str | None, lines: list[str]) -> str:
    return f"{host}:{port} (id: {node_id} rack: {rack or 'null'}) -> (\n\t" + ",\n\t".join(lines) + "\n)\n"


async def _collect(opts: Options) -> list[tuple[object, dict[int, tuple[int, int]]]]:
    from kafkatools.client.admin import api_versions
    from kafkatools.client.cluster import KafkaClient

    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "broker-api-versions")) as client:
        return [(node, await api_versions(client, node_id)) for node_id, node in sorted(client.nodes.items())]


def execute(opts: Options, env: Env) -> None:
    from kafkatools.codec import API_BY_KEY

    ours = {k: (s.name, s.min_version, s.max_version) for k, s in API_BY_KEY.items()}
    for node, table in run_async(_collect(opts)):
        host, port, node_id, rack = (getattr(node, a) for a in ("host", "port", "node_id", "rack"))
        if opts.output is OutputFormat.JSON:
            import json

            env.stdout.write(json.dumps({"host": host, "port": port, "id": node_id, "rack": rack, "apis": [
                {"key": k, "name": ours[k][0] if k in ours else "UNKNOWN",
                 "min": table[k][0] if k in table else None, "max": table[k][1] if k in table else None}
                for k in sorted(set(table) | set(ours))]}, separators=(",", ":")) + "\n")
        else:
            env.stdout.write(render_node(host, port, node_id, rack, version_lines(table, ours)))


@app.command()
def broker_api_versions(
    bootstrap_server: Annotated[str | None, typer.Option("--bootstrap-server", help="REQUIRED: host:port[,...].")
                                ] = None,
    command_config: Annotated[Path | None, typer.Option("--command-config", help="Admin client properties file.")
                              ] = None,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """Print the API versions supported by each broker."""
    if not bootstrap_server:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    opts = Options(parse_bootstrap(bootstrap_server),
                   load_client_config(str(command_config) if command_config else None), output)
    execute(opts, current_env())


def run(opts: Options, env: Env) -> None:
    execute(opts, env)


def main() -> None:
    """Entry point of kafka-broker-api-versions."""
    raise SystemExit(run_app(app, "kafka-broker-api-versions"))
