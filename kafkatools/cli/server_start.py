"""``kafka-server-start [-daemon] server.properties [--override property=value]*`` (Kafka's ``kafka.Kafka``).

The parser is written by hand because Kafka's interface is not click's: ``-daemon`` has one dash and
counts only as the first argument, and the properties file must come before any option.  The flow
is Kafka's: load the file, apply each ``--override k=v`` on top (split on the first '='), build the
typed broker config, run the broker until SIGTERM.  Mistakes are reported before anything starts,
also with ``-daemon``: the parent validates, then re-executes itself detached without ``-daemon``,
output appended to ``$LOG_DIR/kafkaServer.out`` (Kafka's daemon file name), and returns 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafkatools import __version__
from kafkatools.cli._env import Env, ExitStatus, UsageError, report_error
from kafkatools.cli._static import StaticOption, StaticSpec

PROG = "kafka-server-start"
USAGE = f"{PROG} [-daemon] server.properties [--override property=value]*"
DAEMON_OUT = "kafkaServer.out"

SPEC = StaticSpec(
    usage=USAGE,
    description="Start a Kafka-compatible broker configured by server.properties; SIGTERM shuts it down cleanly.",
    positional="server.properties",
    options=(
        StaticOption(
            "-daemon", None, "Run in the background (first argument only); output in $LOG_DIR/kafkaServer.out"
        ),
        StaticOption("--override", "property=value", "Overrides that property of server.properties.", True),
        StaticOption("--version", None, "Print the version and exit."),
        StaticOption("--help", None, "Print this usage and exit."),
    ),
)


@dataclass(frozen=True, slots=True)
class StartOptions:
    config_file: str
    overrides: tuple[str, ...] = ()
    daemon: bool = False


class _Done(Exception):
    """Parsing ended with an answer rather than options (--help, --version, no arguments)."""

    def __init__(self, status: int) -> None:
        self.status = status


def parse_args(argv: list[str], env: Env) -> StartOptions:
    """Kafka's argument rules; raises UsageError (one line) or _Done (help/version/usage printed)."""
    if "--help" in argv:
        env.stdout.write(SPEC.help_text())
        raise _Done(ExitStatus.OK)
    if "--version" in argv:
        env.stdout.write(f"{__version__}\n")
        raise _Done(ExitStatus.OK)
    daemon = bool(argv) and argv[0] == "-daemon"
    rest = argv[1:] if daemon else argv
    if not rest or rest[0].startswith("-"):
        env.stderr.write(f"USAGE: {USAGE}\n")
        raise _Done(ExitStatus.ERROR)
    overrides: list[str] = []
    strays: list[str] = []
    i = 1
    while i < len(rest):
        arg = rest[i]
        if arg == "--override":
            if i + 1 >= len(rest):
                raise UsageError("Option override requires an argument")
            overrides.append(rest[i + 1])
            i += 2
            continue
        if arg.startswith("--override="):
            overrides.append(arg.removeprefix("--override="))
        elif arg == "-daemon":
            raise UsageError("-daemon must be the first argument")
        elif arg.startswith("-"):
            raise UsageError(f"{arg.lstrip('-')} is not a recognized option")
        else:
            strays.append(arg)
        i += 1
    if strays:
        raise UsageError(f"Found non argument parameters: {','.join(strays)}")
    return StartOptions(rest[0], tuple(overrides), daemon)


def load_server_properties(options: StartOptions) -> dict[str, str]:
    """The file, then each override on top; PropertiesError names a bad file or item."""
    from kafkatools.properties import load_properties, parse_overrides

    props = load_properties(options.config_file)
    props.update(parse_overrides(list(options.overrides)))
    return props


def _broker() -> tuple[Callable[[dict[str, str]], Any], Callable[[Any], int]]:
    """The broker's ``load_config`` and ``run``, imported only now (they pull in asyncio and storage)."""
    from kafkatools.broker.config import load_config
    from kafkatools.broker.server import run

    return load_config, run


def spawn_daemon(argv: list[str], env: Env) -> int:
    """Start ``argv`` (without -daemon) in a new session, detached, output appended to the daemon file."""
    log_dir = Path(os.environ.get("LOG_DIR") or Path.cwd() / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    entry = sys.argv[0] if sys.argv and Path(sys.argv[0]).name.startswith(PROG) else None
    # Keep an argv kafka-server-stop can recognise: the installed script, or ``-m`` this module.
    command = [sys.executable, entry, *argv] if entry else [sys.executable, "-m", __name__, *argv]
    with open(log_dir / DAEMON_OUT, "ab") as out, open(os.devnull, "rb") as devnull:
        subprocess.Popen(command, stdin=devnull, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return ExitStatus.OK


def run_start(argv: list[str], env: Env | None = None) -> int:
    """The whole command, in-process testable: parse, validate, then run the broker or spawn the daemon."""
    env = env or Env()
    try:
        options = parse_args(argv, env)
        props = load_server_properties(options)
        try:
            load_config, run = _broker()
        except ImportError:
            env.stderr.write(f"{PROG}: the broker is not available in this build\n")
            return ExitStatus.UNAVAILABLE
        config = load_config(props)  # ConfigError: one line, exit 1
        if options.daemon:
            return spawn_daemon(argv[1:], env)
        return int(run(config))
    except _Done as done:
        return done.status
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except Exception as e:
        return report_error(PROG, e, env)


def main() -> None:
    sys.exit(run_start(sys.argv[1:]))


if __name__ == "__main__":
    main()
