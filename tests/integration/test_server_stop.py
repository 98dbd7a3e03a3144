"""kafka-server-stop as a real process against real processes whose argv looks like a broker's.

The stand-in broker is a tiny sleeping Python script saved as ``kafka-server-start`` in a tmp dir.
Every call filters with ``--node-id`` set to an id no real test broker uses: other tests on this
machine run real ``kafka-server-start`` brokers, and an unfiltered stop would signal them too.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _command(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: run `pip install -e .`")
    return str(path)


@pytest.fixture
def node_id() -> int:
    return random.randrange(700_000_000, 2_000_000_000)


@pytest.fixture
def started(tmp_path: Path, node_id: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Where tests put the processes they start; all are killed afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    (tmp_path / "server.properties").write_text(f"broker.id={node_id}\nlog.dirs={tmp_path / 'data'}\n")
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)


def _dummy(tmp_path: Path, name: str) -> Path:
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!{sys.executable}\nimport sys, time\nprint('ready', flush=True)\ntime.sleep(120)\n")
    script.chmod(0o755)
    return script


def _spawn(procs: list[subprocess.Popen[bytes]], argv: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    procs.append(p)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n", f"{argv} did not start"
    return p


def _stop(*args: str, signal_name: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SIGNAL"}
    if signal_name:
        env["SIGNAL"] = signal_name
    argv = [_command("kafka-server-stop"), *args]
    return subprocess.run(argv, check=False, capture_output=True, text=True, env=env, timeout=30)


def test_stop_terminates_the_matching_broker_only(
    tmp_path: Path, node_id: int, started: list[subprocess.Popen[bytes]]
) -> None:
    broker = _spawn(started, [str(_dummy(tmp_path, "kafka-server-start")), "server.properties"], tmp_path)
    bystander = _spawn(started, [str(_dummy(tmp_path, "not-a-broker")), "server.properties"], tmp_path)

    result = _stop(f"--node-id={node_id}")

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert broker.wait(timeout=10) == -signal.SIGTERM
    assert bystander.poll() is None, "a process not named kafka-server-start was signalled"


def test_stop_finds_a_script_run_by_python_and_honours_signal(
    tmp_path: Path, node_id: int, started: list[subprocess.Popen[bytes]]
) -> None:
    script = _dummy(tmp_path, "kafka-server-start")
    broker = _spawn(started, [sys.executable, str(script), "server.properties", "--override", "x=y"], tmp_path)

    result = _stop("--node-id", str(node_id), signal_name="KILL")

    assert result.returncode == 0, result.stderr
    assert broker.wait(timeout=10) == -signal.SIGKILL


def test_no_server_to_stop(tmp_path: Path, node_id: int, started: list[subprocess.Popen[bytes]]) -> None:
    other = _spawn(started, [str(_dummy(tmp_path, "kafka-server-start")), "server.properties"], tmp_path)

    result = _stop(f"--node-id={node_id + 1}")

    assert (result.returncode, result.stdout, result.stderr) == (1, "No kafka server to stop\n", "")
    assert other.poll() is None, "a broker with another node id was signalled"
