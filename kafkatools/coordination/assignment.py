"""Rack-unaware replica placement, as Kafka's AdminZkClient does it for ZooKeeper-mode topic creation.

The brokers (sorted by id) form a ring of size n.  A random start index s spreads leaders: partition
p's first replica is broker[(p + s) mod n].  A random shift k spreads followers: the j-th further
replica sits (1 + (k + j) mod (n - 1)) places after the first, and k grows by one after every n
partitions, so the followers of consecutive laps land on different brokers.  Randomness is
injectable (a ``random.Random``) or can be pinned with ``fixed_start_index`` (used for both s and k,
as Kafka does); ``start_partition`` continues an existing topic when partitions are added.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from kafkatools.errors import INVALID_PARTITIONS, INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR, KafkaError


def _follower_index(first: int, shift: int, j: int, n: int) -> int:
    return (first + 1 + (shift + j) % (n - 1)) % n


def assign_replicas(
    partitions: int,
    replication_factor: int,
    brokers: Iterable[int],
    *,
    rng: random.Random | None = None,
    fixed_start_index: int = -1,
    start_partition: int = -1,
) -> dict[int, list[int]]:
    """Partition -> replicas (preferred leader first) for ``partitions`` new partitions."""
    ring = sorted(set(brokers))
    n = len(ring)
    if partitions <= 0:
        raise KafkaError(INVALID_PARTITIONS, "Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise KafkaError(INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.")
    if replication_factor > n:
        raise KafkaError(
            INVALID_REPLICATION_FACTOR,
            f"Replication factor: {replication_factor} larger than available brokers: {n}.",
        )
    draw = rng or random.Random()
    start = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    shift = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    out: dict[int, list[int]] = {}
    p = max(0, start_partition)
    for _ in range(partitions):
        if p > 0 and p % n == 0:
            shift += 1
        first = (p + start) % n
        out[p] = [ring[first], *(ring[_follower_index(first, shift, j, n)] for j in range(replication_factor - 1))]
        p += 1
    return out


def validate_assignment(assignment: dict[int, list[int]], live_brokers: Iterable[int] | None = None) -> None:
    """Manual ``--replica-assignment`` checks: partitions 0..n-1, one replication factor, no duplicate replicas."""
    if sorted(assignment) != list(range(len(assignment))):
        raise KafkaError(INVALID_REPLICA_ASSIGNMENT, "partitions should be a consecutive 0-based integer sequence")
    factors = {len(r) for r in assignment.values()}
    if len(factors) > 1:
        raise KafkaError(INVALID_REPLICA_ASSIGNMENT, "All partitions should have the same number of replicas")
    for p, replicas in assignment.items():
        if not replicas:
            raise KafkaError(INVALID_REPLICA_ASSIGNMENT, f"Partition {p} has no replicas")
        if len(set(replicas)) != len(replicas):
            raise KafkaError(INVALID_REPLICA_ASSIGNMENT, f"Duplicate replica assignment found: {replicas}")
    if live_brokers is not None:
        live = set(live_brokers)
        unknown = sorted({b for r in assignment.values() for b in r} - live)
        if unknown:
            raise KafkaError(INVALID_REPLICA_ASSIGNMENT, f"Unknown broker(s) in replica assignment: {unknown}")
