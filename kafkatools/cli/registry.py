"""Every kafkatools command, where its definition lives, and a one-line summary.

``python -m kafkatools.cli.docs`` reads this list to write ``completions/`` and ``man/``; its
``--check`` fails when they are stale.  The console scripts themselves are in ``pyproject.toml``.

How a tool registers (one ``Tool`` row per command):

* ``name``: the command as installed (``kafka-topics``); completions also cover ``<name>.sh``.
* ``module`` / ``attribute``: where its interface is defined.  The attribute may be

  - a ``typer.Typer`` app built with ``_common.make_app`` (the usual case): options, whether they take
    a value, choices (Enum annotations) and help are read from the click command typer builds; the
    description is the command's docstring, else the app's ``help``.  Annotate file-valued options
    with ``pathlib.Path`` (or use one of ``docs.FILE_OPTIONS``) to get file completion;
  - a function returning such an app;
  - a ``_static.StaticSpec`` for a hand-parsed command (``kafka-server-start``).

  While the module is still a placeholder (no such attribute) the tool is skipped, so a row can be
  added before the tool lands.
* ``summary``: the man page's NAME line -- what the tool does, in a few words.

After adding a row or changing a tool's options, run ``python -m kafkatools.cli.docs`` and commit
``completions/`` and ``man/``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkatools.cli._static import StaticSpec

if TYPE_CHECKING:
    from typer._click import Command


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    module: str
    attribute: str
    summary: str


TOOLS: tuple[Tool, ...] = (
    Tool("kafka-server-start", "kafkatools.cli.server_start", "SPEC", "start a Kafka-compatible broker"),
    Tool("kafka-server-stop", "kafkatools.cli.server_stop", "SPEC", "stop running kafka-server-start brokers"),
    Tool("kafka-topics", "kafkatools.cli.topics", "app", "create, delete, describe, or change a topic"),
    Tool("kafka-console-producer", "kafkatools.cli.console_producer", "app", "produce records read from stdin"),
    Tool("kafka-console-consumer", "kafkatools.cli.console_consumer", "app", "consume records and print them"),
    Tool("kafka-dump-log", "kafkatools.cli.dump_log", "app", "decode log, index and snapshot files"),
    Tool("kafka-checkpoints", "kafkatools.cli.checkpoints", "app", "read and write checkpoint files"),
    Tool("kafka-get-offsets", "kafkatools.cli.get_offsets", "app", "print partition offsets for a time"),
    Tool("kafka-broker-api-versions", "kafkatools.cli.broker_api_versions", "app", "print each broker's API versions"),
    Tool("kafka-configs", "kafkatools.cli.configs", "app", "describe and alter dynamic configs"),
    Tool("kafka-consumer-groups", "kafkatools.cli.consumer_groups", "app", "list, describe, delete and reset groups"),
    Tool("kafka-reassign-partitions", "kafkatools.cli.reassign_partitions", "app",
         "generate, execute, verify, cancel and list partition reassignments"),
    Tool("kafka-leader-election", "kafkatools.cli.leader_election", "app", "elect preferred or unclean leaders"),
    Tool("kafka-log-dirs", "kafkatools.cli.log_dirs", "app", "describe each broker's log directories as JSON"),
    Tool("zookeeper-server-start", "kafkatools.cli.zookeeper_server", "START_SPEC", "start a ZooKeeper server"),
    Tool("zookeeper-server-stop", "kafkatools.cli.zookeeper_server", "STOP_SPEC", "stop running ZooKeeper servers"),
)


def load(tool: Tool) -> Command | StaticSpec | None:
    """The tool's click command or static spec; None while its module is a placeholder."""
    import typer

    from kafkatools.cli._common import command_for

    found = getattr(importlib.import_module(tool.module), tool.attribute, None)
    if found is None or isinstance(found, StaticSpec):
        return found
    if not isinstance(found, typer.Typer) and callable(found):
        found = found()
    if not isinstance(found, typer.Typer):
        raise TypeError(f"{tool.module}.{tool.attribute} is neither a typer app nor a StaticSpec")
    return command_for(found)
