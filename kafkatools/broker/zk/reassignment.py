"""Partition reassignment on a ZooKeeper cluster (Kafka's ZooKeeper-era ``KafkaController`` algorithm).

Znodes involved (Kafka 3.9 ``ZkData``)::

  /admin/reassign_partitions  {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3]}]}
                              the legacy trigger (kafka-reassign-partitions --zookeeper); removed when done
  /brokers/topics/<t>         {"removing_replicas":{"0":[1]},"partitions":{"0":[2,3,1]},"topic_id":"…",
                               "adding_replicas":{"0":[3]},"version":3}
  .../partitions/<p>/state    leader, leader_epoch, isr (as the controller writes them)

Moving a partition from its original replicas ORS to the target TRS, as a table of states:

  state     topic znode                                                   leaves it when
  idle      partitions[p] = ORS, no adding/removing entry                   a request names a TRS != ORS
  moving    partitions[p] = RS = TRS + (ORS - TRS), adding = TRS - ORS,     every TRS member is in the ISR
            removing = ORS - TRS                                            (-> complete) or a cancel (-> ORS)
  complete  partitions[p] = TRS, no entries; state: ISR & TRS, leader in     --
            TRS (first live in-sync one when it had to move), epoch + 1

Why this shape: the controller keeps nothing in memory, so the topic znode *is* the reassignment's
state -- TRS = RS - removing and ORS = RS - adding, in order -- and a new controller after fail-over
carries on from ZooKeeper alone.  Brokers see themselves in RS and start following (sync.py opens
the log); when the assignment shrinks to TRS the removed brokers drop their replica.  Every write
is one transaction fenced on ``/controller_epoch`` and conditional on the zkVersions read, so a
racing leader ISR change or a second request just makes the next pass retry.

Requests come from two places: ``/admin/reassign_partitions`` (read by ``advance`` every controller
pass; entries stay until their partition is done, then leave, and the znode goes when empty) and
the AlterPartitionReassignments API (``submit``, which also takes its partitions out of the znode
so the two sources never fight over one partition).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from kafkatools import errors
from kafkatools.coordination import zk_admin as za
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry, ControllerClaim
from kafkatools.coordination.errors import BadVersionError, CoordinationError, NodeExistsError, NoNodeError
from kafkatools.coordination.prefetch import PrefetchedReads
from kafkatools.coordination.store import CheckOp, DeleteOp, Op, SetOp

log = logging.getLogger("kafkatools.broker.controller")

Result = tuple[errors.ErrorCode, str | None]
OK: Result = (errors.NONE, None)
NO_REASSIGNMENT_IN_PROGRESS = errors.BY_NAME["NO_REASSIGNMENT_IN_PROGRESS"]
REASSIGNMENT_IN_PROGRESS = errors.BY_NAME["REASSIGNMENT_IN_PROGRESS"]


@dataclass(frozen=True, slots=True)
class Ongoing:
    """A partition being moved: the full replica set RS and the two difference lists."""

    replicas: list[int]
    adding: list[int]
    removing: list[int]

    @property
    def target(self) -> list[int]:
        return [r for r in self.replicas if r not in self.removing]

    @property
    def origin(self) -> list[int]:
        return [r for r in self.replicas if r not in self.adding]


def plan(origin: list[int], target: list[int]) -> Ongoing:
    """RS = TRS + (ORS - TRS), adding = TRS - ORS, removing = ORS - TRS."""
    removing = [r for r in origin if r not in target]
    return Ongoing(list(target) + removing, [r for r in target if r not in origin], removing)


def ongoing(assignment: zl.TopicAssignment, partition: int) -> Ongoing | None:
    adding = assignment.adding_replicas.get(partition, [])
    removing = assignment.removing_replicas.get(partition, [])
    if not adding and not removing:
        return None
    return Ongoing(list(assignment.partitions.get(partition, [])), list(adding), list(removing))


def with_partition(assignment: zl.TopicAssignment, partition: int, replicas: list[int],
                   move: Ongoing | None) -> zl.TopicAssignment:
    """The assignment with ``partition`` set to ``replicas`` and its adding/removing entries from ``move``."""
    parts, adding, removing = dict(assignment.partitions), dict(assignment.adding_replicas), \
        dict(assignment.removing_replicas)
    parts[partition] = list(replicas)
    adding.pop(partition, None)
    removing.pop(partition, None)
    if move is not None and move.adding:
        adding[partition] = list(move.adding)
    if move is not None and move.removing:
        removing[partition] = list(move.removing)
    return zl.TopicAssignment(parts, assignment.topic_id, adding, removing)


def invalid_target(target: list[int], brokers: Iterable[int]) -> str | None:
    """Kafka's checks on a requested replica list (INVALID_REPLICA_ASSIGNMENT messages)."""
    if not target:
        return "Empty replica list specified in partition reassignment."
    if len(set(target)) != len(target):
        return f"Duplicate replica ids in partition reassignment replica list: {target}"
    known = set(brokers)
    if any(r < 0 for r in target) or not set(target) <= known:
        return (f"Replica assignment has brokers that are not alive. Replica list: {','.join(map(str, target))}, "
                f"live broker list: {','.join(map(str, sorted(known)))}")
    return None


def settle(replicas: list[int], state: zl.PartitionState, live: set[int], epoch: int) -> zl.PartitionState | None:
    """The state a partition takes when its replica set becomes ``replicas``; None while that is not safe yet.

    Safe means every member of ``replicas`` is in the ISR (the completion rule) or, for a cancel,
    that some member is in sync to lead.  The ISR drops everything outside ``replicas``; the leader
    moves to the first live in-sync member when it is not one itself; the leader epoch goes up.
    """
    isr = [r for r in state.isr if r in replicas]
    leader = state.leader
    if leader not in replicas or leader not in live or leader not in isr:
        leader = next((r for r in replicas if r in live and r in isr), zl.NO_LEADER)
    if leader == zl.NO_LEADER:
        return None
    return zl.PartitionState(leader, state.leader_epoch + 1, isr, epoch, state.leader_recovery_state)


def _fence(claim: ControllerClaim) -> CheckOp:
    return CheckOp(zp.CONTROLLER_EPOCH, claim.epoch_zk_version)


def _read_topic(registry: ClusterRegistry, topic: str) -> tuple[zl.TopicAssignment, int] | None:
    """The topic znode and its zkVersion; None when absent (or the name could not be a topic: a request's typo)."""
    try:
        zp.validate_topic_name(topic)
    except CoordinationError:
        return None
    path = zp.topic_path(topic)
    try:
        data, stat = registry.store.get(path)
    except NoNodeError:
        return None
    return zl.decode_topic(path, data), stat.version


def read_requests(registry: ClusterRegistry) -> tuple[dict[za.TopicPartition, list[int]], int]:
    """The entries of /admin/reassign_partitions and its zkVersion ({} and -1 when absent)."""
    try:
        data, stat = registry.store.get(zp.REASSIGN_PARTITIONS)
    except NoNodeError:
        return {}, -1
    return za.decode_reassignment(zp.REASSIGN_PARTITIONS, data), stat.version


def _requests_ops(remaining: dict[za.TopicPartition, list[int]], version: int) -> list[Op]:
    if not remaining:
        return [DeleteOp(zp.REASSIGN_PARTITIONS, version)]
    return [SetOp(zp.REASSIGN_PARTITIONS, za.encode_reassignment(remaining), version)]


def _commit(registry: ClusterRegistry, ops: list[Op], what: str) -> bool:
    try:
        registry.store.transaction(ops)
    except (BadVersionError, NoNodeError, NodeExistsError) as e:
        log.info("Reassignment: %s changed under us (%s); the next pass retries", what, type(e).__name__)
        return False
    return True


# --- the controller pass ----------------------------------------------------------------------------


def advance(registry: ClusterRegistry, claim: ControllerClaim, live: set[int]) -> int:
    """Move every pending reassignment one step forward; znodes written."""
    written = 0
    topics = registry.topics()
    reads = PrefetchedReads(registry.store)  # every topic znode in one pipelined read
    reads.prefetch([zp.topic_path(t) for t in topics])
    ahead = ClusterRegistry(reads)
    for topic in topics:
        try:
            written += _complete_topic(ahead, claim, topic, live)
        except CoordinationError as e:
            if type(e) is not CoordinationError:
                raise
            log.error("Reassignment: skipping topic %s: %s", topic, e)
    try:
        requests, version = read_requests(registry)
    except CoordinationError as e:
        if type(e) is not CoordinationError:
            raise
        log.error("Reassignment: ignoring %s: %s", zp.REASSIGN_PARTITIONS, e)
        return written
    if version >= 0:  # the znode exists (an empty one is just deleted)
        written += _start_requested(registry, claim, requests, version, live)
    return written


def _complete_topic(registry: ClusterRegistry, claim: ControllerClaim, topic: str, live: set[int]) -> int:
    found = _read_topic(registry, topic)
    if found is None:
        return 0
    assignment, version = found
    moving = sorted(set(assignment.adding_replicas) | set(assignment.removing_replicas))
    ops: list[Op] = [_fence(claim)]
    done = []
    for p in moving:
        move = ongoing(assignment, p)
        current = registry.partition_state(topic, p)
        if move is None or current is None:
            continue
        state, state_version = current
        if not set(move.target) <= set(state.isr):
            continue
        settled = settle(move.target, state, live, claim.epoch)
        if settled is None:
            continue
        ops.append(SetOp(zp.partition_state_path(topic, p), zl.encode_partition_state(settled), state_version))
        assignment = with_partition(assignment, p, move.target, None)
        done.append((p, move, settled))
    if not done:
        return 0
    ops.append(SetOp(zp.topic_path(topic), zl.encode_topic(assignment), version))
    if not _commit(registry, ops, f"topic {topic}"):
        return 0
    for p, move, settled in done:
        log.info("Reassignment of %s-%d completed: replicas %s (removed %s), leader %d, leader epoch %d, ISR %s",
                 topic, p, move.target, move.removing, settled.leader, settled.leader_epoch, settled.isr)
    return len(done) + 1


def stage(registry: ClusterRegistry, claim: ControllerClaim, topic: str, assignment: zl.TopicAssignment,
          partition: int, target: list[int], live: set[int]) -> tuple[zl.TopicAssignment, list[Op], Result]:
    """Begin moving ``partition`` to ``target``: the new assignment, the state write it needs, the outcome.

    Starting from an ongoing move keeps that move's origin.  When the new replica set drops a broker
    the current one has (a cancel, or a new target replacing an ongoing move), the partition state is
    settled in the same transaction so nobody outside the replicas stays in the ISR or leads.
    """
    problem = invalid_target(target, live)
    if problem is not None:
        return assignment, [], (errors.INVALID_REPLICA_ASSIGNMENT, problem)
    move = ongoing(assignment, partition)
    current = assignment.partitions[partition]
    if (move.target if move is not None else current) == target:
        return assignment, [], OK  # already the target or already moving there
    new = plan(move.origin if move is not None else current, target)
    ops: list[Op] = []
    if not set(current) <= set(new.replicas):
        found = registry.partition_state(topic, partition)
        if found is not None:
            settled = settle(new.replicas, found[0], live, claim.epoch)
            if settled is None:
                return assignment, [], (errors.INVALID_REPLICA_ASSIGNMENT,
                                        f"No replica of {new.replicas} is in sync to lead {topic}-{partition}")
            ops.append(SetOp(zp.partition_state_path(topic, partition), zl.encode_partition_state(settled),
                             found[1]))
    log.info("Reassignment of %s-%d started: %s -> %s (replicas %s, adding %s, removing %s)", topic, partition,
             current, target, new.replicas, new.adding, new.removing)
    return with_partition(assignment, partition, new.replicas, new), ops, OK


def _start_requested(registry: ClusterRegistry, claim: ControllerClaim,
                     requests: dict[za.TopicPartition, list[int]], version: int, live: set[int]) -> int:
    """Start the znode's entries that are not under way; drop those that are done or cannot be done."""
    remaining = dict(requests)
    by_topic: dict[str, dict[int, list[int]]] = {}
    for tp, target in requests.items():
        by_topic.setdefault(tp.topic, {})[tp.partition] = target
    ops: list[Op] = [_fence(claim)]
    written = 0
    for topic, moves in sorted(by_topic.items()):
        found = _read_topic(registry, topic)
        for p, target in sorted(moves.items()):
            tp = za.TopicPartition(topic, p)
            if found is None or p not in found[0].partitions:
                log.error("Reassignment of %s-%d dropped: no such partition", topic, p)
                del remaining[tp]
            elif ongoing(found[0], p) is None and found[0].partitions[p] == target:
                del remaining[tp]  # done
        if found is None:
            continue
        assignment, topic_version = found
        before = assignment
        for p, target in sorted(moves.items()):
            if za.TopicPartition(topic, p) not in remaining:
                continue
            assignment, state_ops, (error, message) = stage(registry, claim, topic, assignment, p, target, live)
            if error is not errors.NONE:
                log.error("Reassignment of %s-%d dropped: %s", topic, p, message)
                del remaining[za.TopicPartition(topic, p)]
            ops.extend(state_ops)
        if assignment != before:
            ops.append(SetOp(zp.topic_path(topic), zl.encode_topic(assignment), topic_version))
            written += 1
    if remaining != requests or not remaining:
        ops.extend(_requests_ops(remaining, version))
        written += 1
    if written and _commit(registry, ops, zp.REASSIGN_PARTITIONS):
        return written
    return 0


# --- the AlterPartitionReassignments / ListPartitionReassignments APIs ------------------------------


def submit(registry: ClusterRegistry, claim: ControllerClaim, requests: dict[za.TopicPartition, list[int] | None],
           live: set[int], attempts: int = 5) -> dict[za.TopicPartition, Result]:
    """Start (replicas) or cancel (None) reassignments, one transaction per topic; the outcome per partition."""
    results: dict[za.TopicPartition, Result] = {}
    by_topic: dict[str, dict[int, list[int] | None]] = {}
    for tp, target in requests.items():
        by_topic.setdefault(tp.topic, {})[tp.partition] = target
    for topic, moves in sorted(by_topic.items()):
        for _ in range(attempts):
            outcome = _submit_topic(registry, claim, topic, moves, live)
            if outcome is not None:
                results.update(outcome)
                break
        else:
            results.update({za.TopicPartition(topic, p): (REASSIGNMENT_IN_PROGRESS,
                                                          "Concurrent changes kept the reassignment from starting")
                            for p in moves})
    return results


def _submit_topic(registry: ClusterRegistry, claim: ControllerClaim, topic: str, moves: dict[int, list[int] | None],
                  live: set[int]) -> dict[za.TopicPartition, Result] | None:
    """One attempt; None when a conditional write lost a race (try again)."""
    found = _read_topic(registry, topic)
    out: dict[za.TopicPartition, Result] = {}
    if found is None:
        return {za.TopicPartition(topic, p): (errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {topic} does not exist.")
                for p in moves}
    assignment, topic_version = found
    before = assignment
    ops: list[Op] = [_fence(claim)]
    for p, target in sorted(moves.items()):
        tp = za.TopicPartition(topic, p)
        if p not in assignment.partitions:
            out[tp] = (errors.UNKNOWN_TOPIC_OR_PARTITION, f"Partition {topic}-{p} does not exist.")
            continue
        move = ongoing(assignment, p)
        if target is None and move is None:
            out[tp] = (NO_REASSIGNMENT_IN_PROGRESS, f"No reassignment is in progress for {topic}-{p}.")
            continue
        if target is not None:
            wanted = target
        else:
            assert move is not None
            wanted = move.origin
        assignment, state_ops, out[tp] = stage(registry, claim, topic, assignment, p, wanted, live)
        ops.extend(state_ops)
    requests, version = read_requests(registry)
    remaining = {tp: r for tp, r in requests.items() if not (tp.topic == topic and tp.partition in moves)}
    if remaining != requests:
        ops.extend(_requests_ops(remaining, version))
    if assignment != before:
        ops.append(SetOp(zp.topic_path(topic), zl.encode_topic(assignment), topic_version))
    if len(ops) > 1 and not _commit(registry, ops, f"topic {topic}"):
        return None
    return out


def list_ongoing(registry: ClusterRegistry, wanted: dict[str, list[int]] | None = None
                 ) -> dict[za.TopicPartition, Ongoing]:
    """Every partition being moved (or those of ``wanted``: topic -> partitions)."""
    out: dict[za.TopicPartition, Ongoing] = {}
    for topic in sorted(wanted if wanted is not None else registry.topics()):
        found = _read_topic(registry, topic)
        if found is None:
            continue
        for p in sorted(found[0].partitions):
            move = ongoing(found[0], p)
            if move is not None and (wanted is None or p in wanted[topic]):
                out[za.TopicPartition(topic, p)] = move
    return out
