"""`kafka-checkpoints`: placeholder until issue 3 lands."""

from __future__ import annotations

import sys

from kafkatools.cli._pending import not_implemented


def main() -> None:
    sys.exit(not_implemented("kafka-checkpoints", 3))
