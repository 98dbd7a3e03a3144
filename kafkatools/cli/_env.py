"""The typer-free core of every command: exit statuses, the injectable Env, and error reporting.

Split from ``_common`` so that hand-parsed commands (``kafka-server-start``/``-stop``) start without
importing typer (~30 ms); ``_common`` re-exports all of it and adds the typer side.
"""

from __future__ import annotations

import contextvars
import os
import sys
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TextIO

from kafkatools.errors import KafkatoolsError


class UsageError(KafkatoolsError):
    """The command line is wrong in a way the parser cannot see (Kafka's ``printUsageAndExit``).

    Reported like a parser error: ``kafka-topics: error: <message>``, exit 1.
    """


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # Kafka's tools exit 1 for usage and runtime errors alike
    UNAVAILABLE = 2  # the feature is not in this build (same code as the placeholders)
    INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Env:
    """The process's streams, injectable so a test can run a tool in-process with StringIO."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool | None = None  # None: ask the stream
    stdout_isatty: bool | None = None

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)


_ENV: contextvars.ContextVar[Env | None] = contextvars.ContextVar("kafkatools_env", default=None)


def current_env() -> Env:
    """The Env of the running tool (run_app's), or one over the real sys streams."""
    env = _ENV.get()
    return env if env is not None else Env()


def use_env(env: Env) -> contextvars.Token[Env | None]:
    """Make ``env`` the current one (``token.var.reset(token)`` undoes it)."""
    return _ENV.set(env)


def one_line(text: str) -> str:
    return " ".join(text.split())


def report_error(prog_name: str, exc: BaseException, env: Env | None = None) -> int:
    """Write the one-line message for ``exc`` to stderr and return the exit status it maps to."""
    err = (env or current_env()).stderr
    if isinstance(exc, UsageError):
        err.write(f"{prog_name}: error: {one_line(str(exc))}\n")
        return ExitStatus.ERROR
    if isinstance(exc, KafkatoolsError):
        err.write(f"{prog_name}: {one_line(str(exc)) or type(exc).__name__}\n")
        return ExitStatus.ERROR
    if isinstance(exc, OSError):  # files named on the command line, refused connections, time-outs
        err.write(f"{prog_name}: {one_line(str(exc)) or type(exc).__name__}\n")
        return ExitStatus.ERROR
    err.write(f"{prog_name}: internal error: {type(exc).__name__}: {one_line(str(exc))}\n")
    if os.environ.get("KAFKATOOLS_DEBUG") == "1":
        import traceback

        traceback.print_exception(exc, file=err)
    return ExitStatus.ERROR
