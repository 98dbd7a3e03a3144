"""Option values every Kafka tool parses the same way: ``k=v`` lists, config files, host:port lists, output.

Re-exported by ``_common``; tools import from there.  Kept free of typer's runtime machinery (only
the ``Annotated`` option declaration) so it can be unit-tested on plain values.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, TextIO

import typer

from kafkatools.cli._env import UsageError
from kafkatools.properties import load_properties, parse_overrides


def parse_property_options(values: list[str] | None) -> dict[str, str]:
    """Repeated ``--property k=v`` (or ``--producer-property``, ``--config`` ...) into a dict.

    Split on the first '='; a later key wins, as in Kafka.  ``PropertiesError`` names a bad item.
    """
    return parse_overrides(list(values or ()))


def load_config_file(path: str | None) -> dict[str, str]:
    """``--command-config`` / ``--producer.config`` / ``--consumer.config``: a java .properties file, or {}."""
    return load_properties(path) if path else {}


def load_client_config(path: str | None, properties: list[str] | None = None) -> dict[str, str]:
    """A client's settings: the config file, then ``k=v`` options on top (Kafka: the option beats the file)."""
    config = load_config_file(path)
    config.update(parse_property_options(properties))
    return config


BOOTSTRAP_HINT = "Please provide valid host:port like host1:9091,host2:9092"
# host, [IPv6] or host name, then :port -- the shape Kafka's ToolsUtils.validatePortOrDie accepts.
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.%]+)\]|(?P<host>[0-9A-Za-z\-%._]+)):(?P<port>[0-9]{1,5})$")


def parse_bootstrap(value: str) -> list[tuple[str, int]]:
    """``--bootstrap-server host1:9091,host2:9092`` into ``[(host, port), ...]``; UsageError if malformed."""
    out: list[tuple[str, int]] = []
    for item in value.split(","):
        m = _HOST_PORT.match(item.strip())
        if m is None or int(m["port"]) > 65535:
            raise UsageError(BOOTSTRAP_HINT)
        out.append((m["v6"] or m["host"], int(m["port"])))
    return out


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


OutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", case_sensitive=False, help="text: Kafka's format; json: one JSON object per line."),
]
"""``--output [text|json]``; declare as ``output: OutputOption = OutputFormat.TEXT``."""


class Printer:
    """Writes one result per call, as Kafka's text line or as one compact JSON object per line.

    JSON lines keep streams (console consumer, dump-log) pipeable into ``jq -c`` one record at a time.
    """

    def __init__(self, fmt: OutputFormat, out: TextIO) -> None:
        self.fmt = fmt
        self.out = out

    def emit(self, text: str, data: object) -> None:
        if self.fmt is OutputFormat.JSON:
            import json

            self.out.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str) + "\n")
        else:
            self.out.write(text + "\n")
