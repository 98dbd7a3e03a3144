"""`kafka-consumer-groups`: placeholder until issue 5 lands."""

from __future__ import annotations

import sys

from kafkatools.cli._pending import not_implemented


def main() -> None:
    sys.exit(not_implemented("kafka-consumer-groups", 5))
