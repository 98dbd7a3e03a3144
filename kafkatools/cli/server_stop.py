"""`kafka-server-stop`: placeholder until issue 4 lands."""

from __future__ import annotations

import sys

from kafkatools.cli._pending import not_implemented


def main() -> None:
    sys.exit(not_implemented("kafka-server-stop", 4))
