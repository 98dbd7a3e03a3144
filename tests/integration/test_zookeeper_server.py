"""zookeeper-server-start -daemon / zookeeper-server-stop as real subprocesses, on a free port."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from kafkatools.cli.zookeeper_server import NotInstalledError, find_installation, find_zookeepers
from kafkatools.coordination.errors import StoreTimeoutError
from kafkatools.coordination.kazoo_store import KazooStore
from tests.integration.broker_process import command, free_port

WAIT_S = 60.0


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command(argv[0]), *argv[1:]], check=False, env=env, capture_output=True, text=True,
                          timeout=60)


def test_daemon_start_then_stop(tmp_path: Path) -> None:
    try:
        find_installation()
    except NotInstalledError as e:
        pytest.fail(f"{e} -- needed by the ZooKeeper integration tests (apt-get install zookeeper)")
    port = free_port()
    cfg = tmp_path / "zookeeper.properties"
    cfg.write_text(f"dataDir={tmp_path / 'data'}\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
                   "maxClientCnxns=0\nadmin.enableServer=false\n")
    env = {**os.environ, "LOG_DIR": str(tmp_path / "logs"), "KAFKA_HEAP_OPTS": "-Xmx128M -Xms32M"}
    started = run(env, "zookeeper-server-start", "-daemon", str(cfg))
    assert (started.returncode, started.stdout, started.stderr) == (0, "", "")
    pids = find_zookeepers(config_file=str(cfg))
    try:
        assert len(pids) == 1, f"expected one ZooKeeper JVM for {cfg}, found {pids}"
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                store = KazooStore(f"127.0.0.1:{port}", connect_timeout_s=2.0)
                break
            except StoreTimeoutError:
                assert time.monotonic() < deadline, (tmp_path / "logs" / "zookeeper.out").read_text()[-2000:]
        try:
            store.create("/brokers/ids", make_parents=True)
            assert store.children("/brokers") == ["ids"]
        finally:
            store.close()
        assert "binding to port" in (tmp_path / "logs" / "zookeeper.out").read_text()
        stopped = run(env, "zookeeper-server-stop", str(cfg))
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        deadline = time.monotonic() + WAIT_S
        while find_zookeepers(config_file=str(cfg)):
            assert time.monotonic() < deadline, "ZooKeeper still running after SIGTERM"
            time.sleep(0.1)
        again = run(env, "zookeeper-server-stop", str(cfg))
        assert (again.returncode, again.stdout) == (1, "No zookeeper server to stop\n")
    finally:
        for pid in find_zookeepers(config_file=str(cfg)):
            os.kill(pid, 9)


def test_foreground_is_the_jvm_and_sigterm_stops_it(tmp_path: Path) -> None:
    try:
        find_installation()
    except NotInstalledError as e:
        pytest.fail(f"{e} -- needed by the ZooKeeper integration tests (apt-get install zookeeper)")
    port = free_port()
    cfg = tmp_path / "zookeeper.properties"
    cfg.write_text(f"dataDir={tmp_path / 'data'}\nclientPort={port}\nclientPortAddress=127.0.0.1\n")
    env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx128M -Xms32M"}
    with open(tmp_path / "out.log", "wb") as out:
        process = subprocess.Popen([command("zookeeper-server-start"), str(cfg)], stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                KazooStore(f"127.0.0.1:{port}", connect_timeout_s=2.0).close()
                break
            except StoreTimeoutError:
                assert process.poll() is None, (tmp_path / "out.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "ZooKeeper never accepted connections"
        assert find_zookeepers(config_file=str(cfg)) == [process.pid]  # exec'd: no Python parent left over
        process.terminate()
        assert process.wait(60) in (0, 143, -15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
