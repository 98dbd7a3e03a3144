"""Partition reassignment, driven by the controller (Kafka's ZooKeeper-era algorithm).

``advance`` is called once per controller pass, before partition states are reconciled, and
returns how many znodes it wrote.  Work in progress: the algorithm lands in the next commits.
"""

from __future__ import annotations

from kafkatools.coordination.cluster_registry import ClusterRegistry, ControllerClaim


def advance(registry: ClusterRegistry, claim: ControllerClaim, live: set[int]) -> int:
    """Move every pending reassignment one step forward; znodes written."""
    return 0
