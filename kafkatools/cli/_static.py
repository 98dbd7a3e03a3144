"""A hand-parsed command's interface as data: one table feeds its ``--help``, its man page and its completions.

Why: ``kafka-server-start`` takes Kafka's ``-daemon`` (one dash, first argument only) and a positional
file before its options, which typer/click cannot express; its parser is written by hand, and this
spec is what ``kafkatools.cli.docs`` reads instead of a click command tree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StaticOption:
    flag: str  # as typed, e.g. "--override" or "-daemon"
    metavar: str | None  # None: a flag without a value
    help: str
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class StaticSpec:
    usage: str  # the Kafka usage line, without "USAGE: "
    description: str
    options: tuple[StaticOption, ...]
    positional: str | None = None  # metavar of a positional argument, e.g. "server.properties"
    positional_is_file: bool = True

    def help_text(self) -> str:
        width = max(len(_label(o)) for o in self.options) + 2
        rows = "".join(f"  {_label(o):<{width}}{o.help}\n" for o in self.options)
        return f"USAGE: {self.usage}\n\n{self.description}\n\nOptions:\n{rows}"


def _label(option: StaticOption) -> str:
    return f"{option.flag} {option.metavar}" if option.metavar else option.flag
