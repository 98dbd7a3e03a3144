"""kafka-server-start / kafka-server-stop argument handling, in-process (no broker, no real signals)."""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from kafkatools import __version__
from kafkatools.cli import server_start, server_stop
from kafkatools.cli._common import Env
from kafkatools.errors import KafkatoolsError

USAGE = "USAGE: kafka-server-start [-daemon] server.properties [--override property=value]*\n"


def _env() -> Env:
    return Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())


def _out(env: Env) -> tuple[str, str]:
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return env.stdout.getvalue(), env.stderr.getvalue()


def start(argv: list[str]) -> tuple[int, str, str]:
    env = _env()
    code = server_start.run_start(argv, env)
    return (code, *_out(env))


@pytest.fixture
def props(tmp_path: Path) -> Path:
    path = tmp_path / "server.properties"
    path.write_text(f"broker.id=3\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs={tmp_path / 'logs'}\n")
    return path


class BadConfig(KafkatoolsError):
    pass


def _fake_load_config(props: dict[str, str]) -> dict[str, str]:
    """Stands in for broker.config.load_config: these tests are about the command line, not the broker."""
    if not props.get("broker.id", "0").isdigit():
        raise BadConfig(f"Invalid value {props['broker.id']} for configuration broker.id")
    return props


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the broker so that nothing starts; collects the configs run() was given."""
    seen: list[Any] = []

    def run(config: Any) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(server_start, "_broker", lambda: (_fake_load_config, run))
    return seen


@pytest.mark.parametrize("argv", [[], ["-daemon"], ["--override", "a=b"], ["-daemon", "--override", "a=b"]])
def test_missing_file_prints_usage_exit_1(argv: list[str], fake_run: list[Any]) -> None:
    assert start(argv) == (1, "", USAGE)
    assert fake_run == []


def test_help_and_version_exit_0(fake_run: list[Any]) -> None:
    code, out, err = start(["--help"])
    assert (code, err) == (0, "")
    assert out.startswith(USAGE) and "--override property=value" in out and "-daemon" in out
    assert start(["server.properties", "--version"]) == (0, f"{__version__}\n", "")
    assert fake_run == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["F", "a", "--override", "x=1", "b"], "error: Found non argument parameters: a,b"),
        (["F", "--override"], "error: Option override requires an argument"),
        (["F", "--frobnicate"], "error: frobnicate is not a recognized option"),
        (["F", "-daemon"], "error: -daemon must be the first argument"),
        (["F", "--override", "novalue"], None),  # properties.parse_overrides words this one
    ],
)
def test_bad_arguments_are_one_line_exit_1(
    argv: list[str], message: str | None, props: Path, fake_run: list[Any]
) -> None:
    code, out, err = start([str(props) if a == "F" else a for a in argv])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("kafka-server-start: ")
    if message is not None:
        assert err == f"kafka-server-start: {message}\n"
    assert fake_run == []


def test_missing_file_and_bad_config_are_one_line(tmp_path: Path, fake_run: list[Any]) -> None:
    missing = tmp_path / "nope.properties"
    assert start([str(missing)]) == (1, "", f"kafka-server-start: {missing} (No such file or directory)\n")
    bad = tmp_path / "bad.properties"
    bad.write_text("broker.id=x\n")
    code, _, err = start([str(bad)])
    assert code == 1 and err.startswith("kafka-server-start: ") and "broker.id" in err and err.count("\n") == 1
    assert fake_run == []


def test_overrides_apply_on_top_of_the_file(props: Path, fake_run: list[Any]) -> None:
    assert start([str(props), "--override", "broker.id=7", "--override=num.partitions=4"]) == (0, "", "")
    (config,) = fake_run
    assert config["broker.id"] == "7" and config["num.partitions"] == "4" and config["log.dirs"]


def test_broker_exit_status_is_passed_through(props: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_start, "_broker", lambda: (_fake_load_config, lambda config: 1))
    assert start([str(props)])[0] == 1


def test_missing_broker_module_exits_2(props: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_broker() -> Any:
        raise ImportError("No module named 'kafkatools.broker.server'")

    monkeypatch.setattr(server_start, "_broker", no_broker)
    assert start([str(props)]) == (2, "", "kafka-server-start: the broker is not available in this build\n")


def test_daemon_spawns_detached_without_the_flag(
    props: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_run: list[Any]
) -> None:
    calls: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(server_start.subprocess, "Popen", lambda cmd, **kw: calls.append((cmd, kw)))
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logdir" / "nested"))
    monkeypatch.setattr(sys, "argv", ["/venv/bin/kafka-server-start", "-daemon", str(props)])
    assert start(["-daemon", str(props), "--override", "broker.id=1"]) == (0, "", "")
    (cmd, kw), = calls  # fmt: skip
    assert cmd == [sys.executable, "/venv/bin/kafka-server-start", str(props), "--override", "broker.id=1"]
    assert kw["start_new_session"] is True
    assert Path(kw["stdout"].name) == tmp_path / "logdir" / "nested" / "kafkaServer.out"
    assert kw["stderr"] is server_start.subprocess.STDOUT
    assert fake_run == []  # the parent never runs the broker itself


def test_daemon_validates_before_spawning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_run: list[Any]) -> None:
    calls: list[object] = []
    monkeypatch.setattr(server_start.subprocess, "Popen", lambda *a, **kw: calls.append(a))
    code, _, err = start(["-daemon", str(tmp_path / "missing.properties")])
    assert code == 1 and "No such file or directory" in err and calls == []


# ---- kafka-server-stop ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "config"),
    [
        (["/usr/bin/kafka-server-start", "c.properties"], "c.properties"),
        (["kafka-server-start.sh", "-daemon", "c.properties", "--override", "a=b"], "c.properties"),
        (["/usr/bin/python3.11", "/venv/bin/kafka-server-start", "c.properties"], "c.properties"),
        (["python", "-u", "-m", "kafkatools.cli.server_start", "c.properties"], "c.properties"),
        (["bash", "scripts/kafka-server-start.sh", "c.properties"], "c.properties"),
        (["kafka-server-start"], None),
    ],
)
def test_match_server_recognises_entry_points(argv: list[str], config: str | None) -> None:
    server = server_stop.match_server(42, argv)
    assert server is not None and server.config_file == config


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["kafka-server-stop"],
        ["vim", "kafka-server-start"],
        ["python", "-m", "kafkatools.cli.server_stop"],
        ["python", "other.py", "kafka-server-start"],
        ["grep", "kafka-server-start"],
    ],
)
def test_match_server_ignores_others(argv: list[str]) -> None:
    assert server_stop.match_server(42, argv) is None


def _fake_proc(root: Path, processes: dict[int, list[str]], cwd: Path) -> Path:
    for pid, argv in processes.items():
        d = root / str(pid)
        d.mkdir(parents=True)
        (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
        (d / "cwd").symlink_to(cwd)
    (root / "self").mkdir()
    return root


@pytest.fixture
def killed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(server_stop.os, "kill", lambda pid, sig: calls.append((pid, sig)))
    monkeypatch.delenv("SIGNAL", raising=False)
    return calls


def stop(argv: list[str], proc: Path) -> tuple[int, str, str]:
    env = _env()
    code = server_stop.run_stop(argv, env, proc)
    return (code, *_out(env))


def test_stop_signals_every_broker_but_not_itself(tmp_path: Path, killed: list[tuple[int, int]]) -> None:
    (tmp_path / "a.properties").write_text("broker.id=1\n")
    proc = _fake_proc(
        tmp_path / "proc",
        {
            1001: ["kafka-server-start", "a.properties"],
            1002: ["sleep", "100"],
            1003: ["python3", "/x/kafka-server-start", "/abs/b.properties"],
            os.getpid(): ["kafka-server-start", "a.properties"],  # pretend: must never signal itself
        },
        tmp_path,
    )
    assert stop([], proc) == (0, "", "")
    assert killed == [(1001, signal.SIGTERM), (1003, signal.SIGTERM)]


def test_stop_filters_by_node_id_and_role(tmp_path: Path, killed: list[tuple[int, int]]) -> None:
    (tmp_path / "a.properties").write_text("broker.id=1\n")
    (tmp_path / "k.properties").write_text("node.id=2\nprocess.roles=broker,controller\n")
    proc = _fake_proc(
        tmp_path / "proc",
        {
            2001: ["kafka-server-start", "a.properties"],
            2002: ["kafka-server-start", "k.properties"],
            2003: ["kafka-server-start", "a.properties", "--override", "broker.id=5"],
        },
        tmp_path,
    )
    assert stop(["--node-id=1"], proc)[0] == 0
    assert stop(["--node-id", "5"], proc)[0] == 0
    assert stop(["--process-role=controller"], proc)[0] == 0
    assert [pid for pid, _ in killed] == [2001, 2003, 2002]
    assert stop(["--node-id=9"], proc) == (1, "No kafka server to stop\n", "")


def test_stop_signal_from_env(tmp_path: Path, killed: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    proc = _fake_proc(tmp_path / "proc", {3001: ["kafka-server-start", "x.properties"]}, tmp_path)
    for value, expected in (("KILL", signal.SIGKILL), ("SIGINT", signal.SIGINT), ("9", signal.SIGKILL)):
        monkeypatch.setenv("SIGNAL", value)
        assert stop([], proc)[0] == 0
        assert killed[-1] == (3001, expected)
    monkeypatch.setenv("SIGNAL", "NOPE")
    assert stop([], proc) == (1, "", "kafka-server-stop: error: invalid signal 'NOPE' in SIGNAL\n")


def test_stop_nothing_running_and_bad_args(tmp_path: Path, killed: list[tuple[int, int]]) -> None:
    proc = _fake_proc(tmp_path / "proc", {4001: ["sleep", "1"]}, tmp_path)
    assert stop([], proc) == (1, "No kafka server to stop\n", "")
    assert stop(["--node-id"], proc) == (1, "", "kafka-server-stop: error: Option node-id requires an argument\n")
    assert stop(["--node-id=x"], proc)[0] == 1
    assert stop(["--bogus"], proc) == (1, "", "kafka-server-stop: error: --bogus is not a recognized option\n")
    code, out, _ = stop(["--help"], proc)
    assert code == 0 and "--node-id ID" in out
    assert killed == []
