"""The controller's elections: ElectLeaders, ``/admin/preferred_replica_election`` and the auto rebalance.

Functions over a ``ZkController`` (its lock held by the caller) so controller.py keeps the pass and
the plumbing.  The rules themselves are in elections.py; here they are applied to what ZooKeeper
holds and written through the controller's fenced ``write``.  When a write loses a race (the state
moved, e.g. a leader's ISR change) the partition is judged once more on the new state.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.zk import elections
from kafkatools.broker.zk.elections import Key
from kafkatools.coordination import zk_admin as za
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.errors import CoordinationError, NoNodeError

if TYPE_CHECKING:
    from kafkatools.broker.zk.controller import ZkController

log = logging.getLogger("kafkatools.broker.controller")

PREFERRED, UNCLEAN = 0, 1  # ElectLeaders election types
Result = tuple[errors.ErrorCode, str | None]

_MESSAGES = {
    "ELECTION_NOT_NEEDED": "Leader election not needed for topic partition.",
    "PREFERRED_LEADER_NOT_AVAILABLE": "The preferred leader was not available.",
    "ELIGIBLE_LEADERS_NOT_AVAILABLE": "Eligible topic partition leaders are not available.",
    "NOT_CONTROLLER": "This is not the correct controller for this cluster.",
    "REQUEST_TIMED_OUT": "The partition state kept changing during the election.",
}


def bad_contents(e: CoordinationError) -> bool:
    """Plain CoordinationError = unreadable znode contents; its subclasses are ZooKeeper failures."""
    return type(e) is CoordinationError


def elect(c: ZkController, keys: list[Key] | None, election_type: int, live: set[int]) -> dict[Key, Result]:
    """Each partition's outcome; ``keys`` None = every partition (the caller holds the controller's lock)."""
    topics = None if keys is None else sorted({t for t, _ in keys})
    known = {key: (replicas, found) for key, replicas, found in c.partitions(topics)}
    out: dict[Key, Result] = {}
    for key in sorted(known) if keys is None else keys:
        if key not in known:
            out[key] = (errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.")
            continue
        replicas, found = known[key]
        if found is None:
            out[key] = (errors.LEADER_NOT_AVAILABLE, "The partition has no state yet.")
            continue
        rule = elections.preferred if election_type == PREFERRED else elections.unclean
        code, decision = rule(replicas, found[0], live, c.shutting_down)
        if decision is not None and not c.write(key, decision, *found):
            code = errors.NOT_CONTROLLER
            again = c.registry.partition_state(*key) if c.claim is not None else None
            if again is not None:  # the state moved under us: judge again on what is there now
                code, decision = rule(replicas, again[0], live, c.shutting_down)
                if decision is not None and not c.write(key, decision, *again):
                    code = errors.REQUEST_TIMED_OUT
        out[key] = (code, None if code is errors.NONE else _MESSAGES.get(code.name))
    return out


def admin_preferred_election(c: ZkController, live: set[int]) -> int:
    """``/admin/preferred_replica_election`` (kafka-preferred-replica-election): elect, then delete it."""
    store, path = c.registry.store, zp.PREFERRED_REPLICA_ELECTION
    try:
        data, _ = store.get(path)
    except NoNodeError:
        store.exists(path, c.watch)  # fires when a request is written
        return 0
    try:
        keys = [(tp.topic, tp.partition) for tp in za.decode_partitions(path, data)]
    except CoordinationError as e:
        if not bad_contents(e):
            raise
        log.error("[Controller id=%d] Ignoring bad preferred replica election request: %s", c.broker_id, e)
        keys = []
    results = elect(c, keys, PREFERRED, live) if keys else {}
    with contextlib.suppress(NoNodeError):
        store.delete(path)
    elected = sorted(k for k, (code, _) in results.items() if code is errors.NONE)
    log.info("[Controller id=%d] Preferred replica election for %d partition(s): elected %s", c.broker_id,
             len(results), ", ".join(f"{t}-{p}" for t, p in elected) or "none")
    return len(elected)


def rebalance(c: ZkController, live: set[int]) -> int:
    """Auto leader rebalance: partitions of over-imbalanced brokers back to their preferred leader."""
    try:
        reassigning = c.registry.store.exists(zp.REASSIGN_PARTITIONS) is not None
    except NoNodeError:
        reassigning = False
    if reassigning:
        return 0
    placements = {key: (replicas, found[0]) for key, replicas, found in c.partitions()
                  if found is not None and key not in c.reassigning}  # a reassignment decides those
    keys = elections.imbalanced(placements, c.imbalance_percentage)
    results = elect(c, keys, PREFERRED, live) if keys else {}
    elected = sorted(k for k, (code, _) in results.items() if code is errors.NONE)
    if elected:
        log.info("[Controller id=%d] Auto leader rebalance moved %s back to their preferred leaders",
                 c.broker_id, ", ".join(f"{t}-{p}" for t, p in elected))
    return len(elected)
