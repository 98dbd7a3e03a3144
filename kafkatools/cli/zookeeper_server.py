"""`zookeeper-server-start` / `zookeeper-server-stop`: placeholders until issue 6 lands."""

from __future__ import annotations

import sys

from kafkatools.cli._pending import not_implemented


def start_main() -> None:
    sys.exit(not_implemented("zookeeper-server-start", 6))


def stop_main() -> None:
    sys.exit(not_implemented("zookeeper-server-stop", 6))
