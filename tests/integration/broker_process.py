"""Start and stop real kafkatools broker processes for integration tests.

Every broker gets a free port on 127.0.0.1 and its own temporary log dir; it is started with the
installed ``kafka-server-start`` command (so the console script itself is exercised) and killed
when the test ends, whatever happens.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(name: str) -> str:
    """Path of an installed kafkatools console script (fails loudly when it is missing)."""
    path = VENV_BIN / name
    if not path.exists():
        raise RuntimeError(f"console script {name} is not installed in {VENV_BIN}: run dev/setup.sh")
    return str(path)


@dataclass
class BrokerProcess:
    log_dir: Path
    port: int = field(default_factory=free_port)
    node_id: int = 0
    overrides: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    output: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def properties_file(self) -> Path:
        props = {
            "broker.id": str(self.node_id),
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.log_dir / "data"),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        props.update(self.overrides)
        path = self.log_dir / f"server-{self.node_id}.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def start(self, wait: float = 20.0) -> BrokerProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.output = self.log_dir / f"broker-{self.node_id}.out"
        with open(self.output, "ab") as out:
            self.proc = subprocess.Popen(
                [command("kafka-server-start"), str(self.properties_file())],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_ready(wait)
        return self

    def wait_ready(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"broker did not listen on {self.port} within {wait}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if self.output is None or not self.output.exists():
            return ""
        return "\n".join(self.output.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (clean shutdown) and wait; SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"broker ignored SIGTERM for {timeout}s:\n{self.log_tail()}") from None

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
