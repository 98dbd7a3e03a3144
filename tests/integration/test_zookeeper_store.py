"""The ZkStore contract and the ClusterRegistry tests against a real Apache ZooKeeper.

ZooKeeper is started with our ``zookeeper-server-start``, one per module (free 127.0.0.1 port,
temporary dataDir, small heap), and killed afterwards.
When ZooKeeper or java is missing the fixture fails -- with the install command -- never skips.
Sessions are expired the classic way: a second client joins the session with its id and password
and closes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kafkatools.cli.zookeeper_server import NotInstalledError, find_installation
from kafkatools.coordination.errors import StoreTimeoutError
from kafkatools.coordination.kazoo_store import KazooStore
from kafkatools.coordination.store import ZkStore
from tests.integration.broker_process import command, free_port
from tests.unit.test_coordination_contract import StoreContract
from tests.unit.test_coordination_registry import RegistryContract

START_TIMEOUT_S = 60.0


@dataclass
class ZooKeeperProcess:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config_file(self) -> Path:
        path = self.data_dir.parent / "zookeeper.properties"
        path.write_text(
            f"dataDir={self.data_dir}\nclientPort={self.port}\nclientPortAddress=127.0.0.1\n"
            "maxClientCnxns=0\nadmin.enableServer=false\n"
        )
        return path

    def start(self) -> ZooKeeperProcess:
        try:
            find_installation()
        except NotInstalledError as e:
            pytest.fail(f"{e} -- the ZooKeeper integration tests need it (apt-get install zookeeper)")
        env = {**os.environ, "KAFKA_HEAP_OPTS": "-Xmx128M -Xms32M", "LOG_DIR": str(self.data_dir.parent)}
        out = open(self.data_dir.parent / "zookeeper.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([command("zookeeper-server-start"), str(self.config_file())],
                                        stdout=out, stderr=subprocess.STDOUT, env=env)
        out.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                log = (self.data_dir.parent / "zookeeper.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"zookeeper-server-start exited with {self.process.returncode}:\n{log}")
            try:
                KazooStore(self.connect, connect_timeout_s=2.0).close()
                return self
            except StoreTimeoutError:
                if time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(f"ZooKeeper did not accept connections on {self.connect} in {START_TIMEOUT_S} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperProcess]:
    root = tmp_path_factory.mktemp("zookeeper")
    zk = ZooKeeperProcess(root / "data", free_port()).start()
    try:
        yield zk
    finally:
        zk.kill()


class KazooHarness:
    def __init__(self, zk: ZooKeeperProcess) -> None:
        self.zk = zk

    def connect(self, chroot: str = "") -> ZkStore:
        return KazooStore(self.zk.connect + chroot, session_timeout_s=10.0, connect_timeout_s=20.0)

    def expire(self, store: ZkStore) -> None:
        assert isinstance(store, KazooStore)
        session_id, password = store.session_credentials()
        twin = KazooClient(hosts=self.zk.connect + store.chroot, client_id=(session_id, password))
        twin.start(timeout=20)
        twin.stop()
        twin.close()


class TestKazooStore(StoreContract):
    @pytest.fixture()
    def harness(self, zookeeper: ZooKeeperProcess) -> KazooHarness:
        return KazooHarness(zookeeper)


class TestKazooRegistry(RegistryContract):
    @pytest.fixture()
    def harness(self, zookeeper: ZooKeeperProcess) -> KazooHarness:
        return KazooHarness(zookeeper)


def test_connect_timeout_is_one_clear_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StoreTimeoutError, match=f"Timed out waiting for connection to ZooKeeper at 127.0.0.1:{port}"):
        KazooStore(f"127.0.0.1:{port}", connect_timeout_s=1.0)


def test_chroot_is_created_like_kafka_does(zookeeper: ZooKeeperProcess) -> None:
    store = KazooStore(zookeeper.connect + "/kafka-chroot/a", connect_timeout_s=20.0)
    try:
        store.create("/cluster/id", b'{"version":"1","id":"x"}', make_parents=True)
    finally:
        store.close()
    root = KazooStore(zookeeper.connect, connect_timeout_s=20.0)
    try:
        assert root.get("/kafka-chroot/a/cluster/id")[0] == b'{"version":"1","id":"x"}'
    finally:
        root.close()
