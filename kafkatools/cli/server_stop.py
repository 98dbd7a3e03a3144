"""``kafka-server-stop [--process-role=ROLE] [--node-id=ID]``: signal every running kafka-server-start.

Kafka's script greps ``ps`` for the ``kafka.Kafka`` JVM; our brokers are Python processes, so we
read ``/proc/<pid>/cmdline`` and match the entry point instead: argv[0] (or, after an interpreter
such as python or sh, the script it runs) named ``kafka-server-start`` or ``kafka-server-start.sh``,
or ``python -m kafkatools.cli.server_start``.  As in Kafka 3.7+, ``--node-id`` / ``--process-role``
narrow the targets using the properties file on the target's command line (plus its ``--override``s).
The signal is ``$SIGNAL`` (default TERM; a name such as KILL or a number).  Nothing found prints
``No kafka server to stop`` and exits 1.  This process is never a target.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from kafkatools import __version__
from kafkatools.cli._env import Env, ExitStatus, UsageError, report_error
from kafkatools.cli._static import StaticOption, StaticSpec
from kafkatools.errors import KafkatoolsError
from kafkatools.properties import PropertiesError, load_properties, parse_overrides

PROG = "kafka-server-stop"
ENTRY_NAMES = frozenset({"kafka-server-start", "kafka-server-start.sh"})
ENTRY_MODULE = "kafkatools.cli.server_start"
_INTERPRETERS = ("python", "sh", "bash", "dash")
PROC = Path("/proc")

SPEC = StaticSpec(
    usage=f"{PROG} [--process-role=ROLE] [--node-id=ID]",
    description="Send SIGTERM (or $SIGNAL) to every running kafka-server-start, optionally only one node or role.",
    options=(
        StaticOption("--node-id", "ID", "Only the broker whose broker.id (or node.id) is ID."),
        StaticOption("--process-role", "ROLE", "Only servers whose process.roles contains ROLE (broker, controller)."),
        StaticOption("--version", None, "Print the version and exit."),
        StaticOption("--help", None, "Print this usage and exit."),
    ),
    positional=None,
)


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    argv: tuple[str, ...]
    config_file: str | None  # as written on its command line (may be relative to its cwd)


def _script_index(argv: list[str]) -> int | None:
    """Index of the kafka-server-start entry in ``argv`` (0, or the script after an interpreter), else None."""
    if not argv:
        return None
    if os.path.basename(argv[0]) in ENTRY_NAMES:
        return 0
    if not os.path.basename(argv[0]).startswith(_INTERPRETERS):
        return None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-m":
            return i + 1 if argv[i + 1 : i + 2] == [ENTRY_MODULE] else None
        i += 1
    return i if i < len(argv) and os.path.basename(argv[i]) in ENTRY_NAMES else None


def match_server(pid: int, argv: list[str]) -> Server | None:
    """A Server if ``argv`` is a kafka-server-start command line."""
    at = _script_index(argv)
    if at is None:
        return None
    args = [a for a in argv[at + 1 :] if a != "-daemon"]
    config = args[0] if args and not args[0].startswith("-") else None
    return Server(pid, tuple(argv), config)


def find_servers(proc: Path = PROC) -> list[Server]:
    """Every kafka-server-start process visible in ``proc``, this process excluded."""
    me = os.getpid()
    found: list[Server] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile, or not ours to read
            continue
        server = match_server(int(entry.name), [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]])
        if server is not None:
            found.append(server)
    return sorted(found, key=lambda s: s.pid)


def server_properties(server: Server, proc: Path = PROC) -> dict[str, str]:
    """The target's effective properties: its file (relative to its cwd) with its --override items on top."""
    if server.config_file is None:
        return {}
    path = Path(server.config_file)
    if not path.is_absolute():
        path = proc / str(server.pid) / "cwd" / path
    try:
        props = load_properties(path)
    except PropertiesError:
        return {}
    argv = list(server.argv)
    items = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--override"]
    items += [a.removeprefix("--override=") for a in argv if a.startswith("--override=")]
    with contextlib.suppress(PropertiesError):  # a bad override: the broker refused to start anyway
        props.update(parse_overrides(items))
    return props


def parse_signal(value: str | None) -> signal.Signals:
    """``$SIGNAL``: TERM, SIGTERM, KILL, 9 ...; default TERM."""
    text = (value or "TERM").strip().upper()
    try:
        if text.isdigit():
            return signal.Signals(int(text))
        return signal.Signals[text if text.startswith("SIG") else "SIG" + text]
    except (KeyError, ValueError):
        raise UsageError(f"invalid signal {value!r} in SIGNAL") from None


def _parse_args(argv: list[str]) -> tuple[str | None, str | None]:
    node_id: str | None = None
    role: str | None = None
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name not in ("--node-id", "--process-role"):
            raise UsageError(f"{argv[i]} is not a recognized option")
        if not eq:
            if i + 1 >= len(argv):
                raise UsageError(f"Option {name.lstrip('-')} requires an argument")
            i += 1
            value = argv[i]
        if name == "--node-id":
            if not value.strip().lstrip("-").isdigit():
                raise UsageError(f"--node-id must be a number, not {value!r}")
            node_id = str(int(value))
        else:
            role = value.strip()
        i += 1
    return node_id, role


def _wanted(props: dict[str, str], node_id: str | None, role: str | None) -> bool:
    if node_id is not None and props.get("broker.id", props.get("node.id", "")).strip() != node_id:
        return False
    roles = [r.strip() for r in props.get("process.roles", "").split(",")]
    return role is None or role in roles


def run_stop(argv: list[str], env: Env | None = None, proc: Path = PROC) -> int:
    env = env or Env()
    try:
        if "--help" in argv:
            env.stdout.write(SPEC.help_text())
            return ExitStatus.OK
        if "--version" in argv:
            env.stdout.write(f"{__version__}\n")
            return ExitStatus.OK
        node_id, role = _parse_args(argv)
        sig = parse_signal(os.environ.get("SIGNAL"))
        targets = find_servers(proc)
        if node_id is not None or role is not None:
            targets = [s for s in targets if _wanted(server_properties(s, proc), node_id, role)]
        signalled = 0
        for server in targets:
            try:
                os.kill(server.pid, sig)
                signalled += 1
            except ProcessLookupError:  # it exited between the scan and the signal
                continue
            except PermissionError as e:
                raise KafkatoolsError(f"cannot signal process {server.pid}: {e.strerror}") from None
        if not signalled:
            env.stdout.write("No kafka server to stop\n")
            return ExitStatus.ERROR
        return ExitStatus.OK
    except Exception as e:
        return report_error(PROG, e, env)


def main() -> None:
    sys.exit(run_stop(sys.argv[1:]))
