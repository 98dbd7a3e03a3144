"""``zookeeper-server-start [-daemon] zookeeper.properties`` and ``zookeeper-server-stop``: a real Apache ZooKeeper.

Kafka's scripts run ``org.apache.zookeeper.server.quorum.QuorumPeerMain <file>`` with the JVM options
of ``kafka-run-class.sh``; we do the same with the ZooKeeper found on this machine:

* ``$ZOOKEEPER_HOME`` (an Apache release: ``lib/*.jar``, ``*.jar``, ``conf/``), else
* Debian's ``zookeeper`` package: ``/usr/share/java/zookeeper.jar`` (its manifest lists the
  dependencies) plus ``slf4j-simple.jar`` so ZooKeeper's log reaches stderr (the package's own
  logging is wired for its service, not for a foreground process).

Java is ``$JAVA_HOME/bin/java``, else ``java`` on PATH.  JVM options follow kafka-run-class:
``KAFKA_HEAP_OPTS`` (default ``-Xmx512M -Xms512M``), ``KAFKA_JVM_PERFORMANCE_OPTS``, ``KAFKA_OPTS``.
In the foreground the command *becomes* the JVM (exec), so Ctrl-C / SIGTERM stop ZooKeeper
directly; ``-daemon`` starts it detached with output appended to ``$LOG_DIR/zookeeper.out``
(``LOG_DIR`` defaults to ``./logs``).  The properties file is ZooKeeper's config as is
(``dataDir``, ``clientPort``, ``maxClientCnxns``, ``admin.enableServer``...).

Every JVM we start carries ``-Dkafkatools.daemon.name=zookeeper``; ``zookeeper-server-stop`` signals
(``$SIGNAL``, default TERM) the QuorumPeerMain processes with that marker -- unlike Kafka's script,
which signals every QuorumPeerMain, it leaves a system ZooKeeper service alone.  It also accepts
the properties file (Kafka's takes no argument) to stop only the ZooKeeper started with it, which
lets tests and side-by-side ensembles stop one server without touching the others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kafkatools import __version__
from kafkatools.cli._env import Env, ExitStatus, UsageError, report_error
from kafkatools.cli._static import StaticOption, StaticSpec
from kafkatools.errors import KafkatoolsError

MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
MARKER = "-Dkafkatools.daemon.name=zookeeper"
DAEMON_OUT = "zookeeper.out"
DEBIAN_JARS = Path("/usr/share/java")
NOT_INSTALLED = "ZooKeeper is not installed: apt-get install zookeeper, or set ZOOKEEPER_HOME"
DEFAULT_HEAP = "-Xmx512M -Xms512M"
DEFAULT_PERFORMANCE = (
    "-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
    "-XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"
)
START_USAGE = "zookeeper-server-start [-daemon] zookeeper.properties"
PROC = Path("/proc")

START_SPEC = StaticSpec(
    usage=START_USAGE,
    description="Run Apache ZooKeeper (QuorumPeerMain) with zookeeper.properties as its configuration.",
    positional="zookeeper.properties",
    options=(
        StaticOption("-daemon", None, "Run in the background (first argument only); output in $LOG_DIR/zookeeper.out"),
        StaticOption("--version", None, "Print the version and exit."),
        StaticOption("--help", None, "Print this usage and exit."),
    ),
)
STOP_SPEC = StaticSpec(
    usage="zookeeper-server-stop [zookeeper.properties]",
    description="Send SIGTERM (or $SIGNAL) to every ZooKeeper started by zookeeper-server-start "
    "(only the one started with zookeeper.properties when it is given).",
    positional="zookeeper.properties",
    options=(
        StaticOption("--version", None, "Print the version and exit."),
        StaticOption("--help", None, "Print this usage and exit."),
    ),
)


class NotInstalledError(KafkatoolsError):
    """No ZooKeeper jars or no java on this machine."""


@dataclass(frozen=True, slots=True)
class Installation:
    java: str
    classpath: tuple[str, ...]
    jvm_options: tuple[str, ...] = ()  # what this installation's logging needs


def find_java(environ: dict[str, str]) -> str:
    home = environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java", path=environ.get("PATH"))
    if not java or not os.access(java, os.X_OK):
        raise NotInstalledError(f"{NOT_INSTALLED} (java not found{' in $JAVA_HOME' if home else ''})")
    return java


def find_installation(environ: dict[str, str] | None = None, debian_jars: Path | None = None) -> Installation:
    env = dict(os.environ if environ is None else environ)
    debian_jars = debian_jars or DEBIAN_JARS
    home = env.get("ZOOKEEPER_HOME")
    if home:
        root = Path(home)
        jars = [*root.glob("zookeeper-*.jar"), *(root / "lib").glob("zookeeper-*.jar")]
        if not jars:
            raise NotInstalledError(f"{NOT_INSTALLED} (no zookeeper-*.jar in $ZOOKEEPER_HOME or its lib/)")
        return Installation(find_java(env), (str(root / "lib" / "*"), str(root / "*"), str(root / "conf")))
    main_jar = debian_jars / "zookeeper.jar"
    if not main_jar.is_file():
        raise NotInstalledError(NOT_INSTALLED)
    classpath = [str(main_jar)]
    options: list[str] = []
    simple = debian_jars / "slf4j-simple.jar"
    if simple.is_file():
        classpath.append(str(simple))
        options += ["-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-Dorg.slf4j.simpleLogger.dateTimeFormat=[yyyy-MM-dd HH:mm:ss,SSS]"]
    return Installation(find_java(env), tuple(classpath), tuple(options))


def java_command(install: Installation, config_file: str, environ: dict[str, str] | None = None) -> list[str]:
    """The JVM command line kafka-run-class would build for QuorumPeerMain."""
    env = os.environ if environ is None else environ
    heap = env.get("KAFKA_HEAP_OPTS") or DEFAULT_HEAP
    performance = env.get("KAFKA_JVM_PERFORMANCE_OPTS") or DEFAULT_PERFORMANCE
    extra = env.get("KAFKA_OPTS", "")
    return [install.java, *heap.split(), *performance.split(), MARKER, *install.jvm_options, *extra.split(),
            "-cp", os.pathsep.join(install.classpath), MAIN_CLASS, str(Path(config_file).resolve())]


def check_config(config_file: str) -> None:
    """Catch the mistakes ZooKeeper would only report in its log (-daemon): no file, no dataDir, bad port."""
    from kafkatools.properties import load_properties

    props = load_properties(config_file)
    if not props.get("dataDir", "").strip():
        raise KafkatoolsError(f"{config_file}: dataDir is not set")
    port = props.get("clientPort", "").strip()
    if port and not port.isdigit():
        raise KafkatoolsError(f"{config_file}: clientPort must be a number, not {port!r}")


def _parse_start(argv: list[str], env: Env) -> tuple[str, bool] | int:
    if "--help" in argv:
        env.stdout.write(START_SPEC.help_text())
        return ExitStatus.OK
    if "--version" in argv:
        env.stdout.write(f"{__version__}\n")
        return ExitStatus.OK
    daemon = bool(argv) and argv[0] == "-daemon"
    rest = argv[1:] if daemon else argv
    if len(rest) != 1 or rest[0].startswith("-"):
        env.stderr.write(f"USAGE: {START_USAGE}\n")
        return ExitStatus.ERROR
    return rest[0], daemon


def run_start(argv: list[str], env: Env | None = None) -> int:
    env = env or Env()
    try:
        parsed = _parse_start(argv, env)
        if isinstance(parsed, int):
            return parsed
        config_file, daemon = parsed
        check_config(config_file)
        command = java_command(find_installation(), config_file)
        if not daemon:
            env.stdout.flush()
            env.stderr.flush()
            os.execv(command[0], command)
        log_dir = Path(os.environ.get("LOG_DIR") or Path.cwd() / "logs")
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / DAEMON_OUT, "ab") as out, open(os.devnull, "rb") as devnull:
            subprocess.Popen(command, stdin=devnull, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return ExitStatus.OK
    except Exception as e:
        return report_error("zookeeper-server-start", e, env)


def is_our_zookeeper(argv: list[str]) -> bool:
    return MAIN_CLASS in argv and MARKER in argv


def find_zookeepers(proc: Path = PROC, config_file: str | None = None) -> list[int]:
    """Pids of the ZooKeeper JVMs zookeeper-server-start started (visible in ``proc``), optionally only
    the one whose configuration is ``config_file`` (compared as absolute paths)."""
    wanted = str(Path(config_file).resolve()) if config_file else None
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
        if is_our_zookeeper(argv) and (wanted is None or argv[-1] == wanted):
            found.append(int(entry.name))
    return sorted(found)


def run_stop(argv: list[str], env: Env | None = None, proc: Path = PROC) -> int:
    from kafkatools.cli.server_stop import parse_signal

    env = env or Env()
    try:
        if "--help" in argv:
            env.stdout.write(STOP_SPEC.help_text())
            return ExitStatus.OK
        if "--version" in argv:
            env.stdout.write(f"{__version__}\n")
            return ExitStatus.OK
        if argv and argv[0].startswith("-"):
            raise UsageError(f"{argv[0]} is not a recognized option")
        if len(argv) > 1:
            raise UsageError(f"Found non argument parameters: {','.join(argv[1:])}")
        sig = parse_signal(os.environ.get("SIGNAL"))
        signalled = 0
        for pid in find_zookeepers(proc, argv[0] if argv else None):
            try:
                os.kill(pid, sig)
                signalled += 1
            except ProcessLookupError:
                continue
            except PermissionError as e:
                raise KafkatoolsError(f"cannot signal process {pid}: {e.strerror}") from None
        if not signalled:
            env.stdout.write("No zookeeper server to stop\n")
            return ExitStatus.ERROR
        return ExitStatus.OK
    except Exception as e:
        return report_error("zookeeper-server-stop", e, env)


def start_main() -> None:
    sys.exit(run_start(sys.argv[1:]))


def stop_main() -> None:
    sys.exit(run_stop(sys.argv[1:]))
