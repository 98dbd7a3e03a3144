"""Start-up time of the command-line tools: wall time of ``<tool> --help`` (and ``--version``) as a subprocess.

Why: a Kafka tool is started once per shell line; Python start-up plus imports dominates short
commands.  ``--help`` measures interpreter + typer + our imports without any network or disk work.
The baseline rows show what is outside our control (bare interpreter, ``import typer``), and a row
reports whether rich/asyncio got imported by a ``--help`` run (they should not be).

Run: .venv/bin/python benchmarks/cli_startup.py [runs]      (median and min of N runs, default 15)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOOLS = ("kafka-server-start", "kafka-server-stop", "kafka-topics", "kafka-console-producer",
         "kafka-console-consumer", "kafka-dump-log", "kafka-configs", "kafka-consumer-groups")


def _time(argv: list[str], runs: int) -> tuple[float, float, int]:
    samples: list[float] = []
    rc = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - t0) * 1000)
        rc = done.returncode
    return statistics.median(samples), min(samples), rc


def _imported(module: str, code: str) -> str:
    probe = f"import sys; {code}; print({module!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    return out.stdout.strip() or f"error: {out.stderr.strip().splitlines()[-1:]}"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    rows: list[tuple[str, list[str]]] = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import typer'", [sys.executable, "-c", "import typer"]),
    ]
    for tool in TOOLS:
        path = BIN / tool
        if not path.exists():
            print(f"{tool}: not installed in {BIN} (run dev/setup.sh)")
            continue
        rows.append((f"{tool} --help", [str(path), "--help"]))
    rows.append(("kafka-server-start --version", [str(BIN / "kafka-server-start"), "--version"]))
    print(f"{'command':<40} {'median ms':>10} {'min ms':>8} {'exit':>5}   ({runs} runs each)")
    for label, argv in rows:
        med, low, rc = _time(argv, runs)
        print(f"{label:<40} {med:>10.1f} {low:>8.1f} {rc:>5}")
    for tool_module in ("kafkatools.cli.server_start", "kafkatools.cli._common"):
        for heavy in ("rich", "asyncio"):
            print(f"import {tool_module}: {heavy} imported = {_imported(heavy, f'import {tool_module}')}")


if __name__ == "__main__":
    main()
