"""The ZooKeeper-mode controller: one broker wins ``/controller`` and keeps partition state znodes right.

Design (the pre-controller-RPC style the brief allows): the controller never talks to brokers.
It reconciles ZooKeeper against itself -- ``reconcile()`` reads the live brokers, the topics and
every partition's ``state`` znode and writes what must change; each broker watches the state
znodes of what it hosts and applies them (``sync.ZkSync``).  Because every pass starts from what
ZooKeeper holds, a new controller after fail-over needs no hand-over: its first pass repairs
whatever the dead one left half done.

Rules, as Kafka's ZK controller applies them:

* a partition without a state znode gets leader = first live replica of its assignment, ISR = the
  live replicas, leader_epoch 0 (Kafka's NewPartition -> OnlinePartition);
* a leader whose broker is gone is replaced by the first replica of the assignment that is alive
  *and* in the ISR; with ``unclean.leader.election.enable=false`` and no such replica the leader
  becomes -1 and the ISR keeps its last member (so the partition comes back only with it);
* dead brokers leave the ISR (never emptying it); every such change bumps ``leader_epoch``;
* topics under ``/admin/delete_topics`` lose their znodes (topic, partitions, config), then the
  request itself.

Every write is one transaction fenced on ``/controller_epoch``'s zkVersion and conditional on the
state znode's zkVersion, so a deposed controller or a racing leader ISR change cannot be lost.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from kafkatools.broker.zk import reassignment
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry, ControllerClaim
from kafkatools.coordination.errors import BadVersionError, CoordinationError, NodeExistsError, NoNodeError
from kafkatools.coordination.store import CheckOp, CreateOp, SetOp

log = logging.getLogger("kafkatools.broker.controller")


@dataclass(frozen=True, slots=True)
class Decision:
    """A partition state the controller wants written (None = keep what is there)."""

    leader: int
    isr: list[int]
    bump_epoch: bool


def decide(replicas: list[int], current: zl.PartitionState | None, live: set[int],
           unclean: bool = False) -> Decision | None:
    """What a partition's state should become given the live brokers; None when it is right already."""
    if current is None:
        alive = [r for r in replicas if r in live]
        if not alive:
            return Decision(zl.NO_LEADER, list(replicas[:1]), False)
        return Decision(alive[0], alive, False)
    isr_alive = [r for r in current.isr if r in live]
    leader = current.leader
    if leader not in live or leader not in current.isr:
        candidates = [r for r in replicas if r in live and r in current.isr]
        if not candidates and unclean:
            candidates = [r for r in replicas if r in live]
            isr_alive = candidates[:1]
        leader = candidates[0] if candidates else zl.NO_LEADER
    new_isr = isr_alive if isr_alive else list(current.isr[-1:])  # never empty the ISR
    if leader == current.leader and new_isr == current.isr:
        return None
    if leader == zl.NO_LEADER and current.leader == zl.NO_LEADER and new_isr == current.isr:
        return None
    return Decision(leader, new_isr, True)


class ZkController:
    """Holds a ``ControllerClaim`` while this broker is controller; ``reconcile`` does one pass."""

    def __init__(self, registry: ClusterRegistry, broker_id: int, *, unclean: bool = False) -> None:
        self.registry = registry
        self.broker_id = broker_id
        self.unclean = unclean
        self.claim: ControllerClaim | None = None
        self._reported: set[str] = set()

    @property
    def active(self) -> bool:
        return self.claim is not None

    def elect(self) -> bool:
        """Try to become controller when /controller is free; True while this broker holds it."""
        current = self.registry.controller_id()
        if current is not None:
            if current != self.broker_id:  # another broker (or our own dead session, until it expires)
                self.claim = None
            return self.claim is not None
        claim = self.registry.try_become_controller(self.broker_id)
        if claim is not None:
            log.info("[Controller id=%d] Elected as the controller with epoch %d", self.broker_id, claim.epoch)
        self.claim = claim
        return claim is not None

    def resign(self) -> None:
        if self.claim is not None:
            with contextlib.suppress(CoordinationError):
                self.registry.resign(self.claim)
            self.claim = None

    def reconcile(self) -> int:
        """One pass over deletions and every partition; how many znodes were written."""
        if self.claim is None:
            return 0
        written = self._delete_topics()
        live = {int(n) for n in self.registry.store.children(zp.BROKER_IDS) if n.isdigit()}  # payloads not needed
        written += reassignment.advance(self.registry, self.claim, live)
        for topic in self.registry.topics():
            try:
                assignment = self.registry.topic_assignment(topic)
                if assignment is None:
                    continue
                for partition, replicas in sorted(assignment.partitions.items()):
                    written += self._reconcile_partition(topic, partition, replicas, live)
            except CoordinationError as e:
                if type(e) is not CoordinationError:  # a ZooKeeper failure, not bad contents: the pass fails
                    raise
                if str(e) not in self._reported:  # bad znode contents: skip this topic (said once), keep the rest
                    self._reported.add(str(e))
                    log.error("[Controller id=%d] Skipping topic %s: %s", self.broker_id, topic, e)
        return written

    def _reconcile_partition(self, topic: str, partition: int, replicas: list[int], live: set[int]) -> int:
        assert self.claim is not None
        found = self.registry.partition_state(topic, partition)
        current, version = found if found is not None else (None, -1)
        decision = decide(replicas, current, live, self.unclean)
        if decision is None:
            return 0
        epoch = (current.leader_epoch + 1) if current is not None and decision.bump_epoch else (
            current.leader_epoch if current is not None else 0)
        state = zl.PartitionState(decision.leader, epoch, decision.isr, self.claim.epoch)
        path = zp.partition_state_path(topic, partition)
        fence = CheckOp(zp.CONTROLLER_EPOCH, self.claim.epoch_zk_version)
        try:
            if current is None:
                self.registry.store.ensure_path(zp.partition_path(topic, partition))
                self.registry.store.transaction([fence, CreateOp(path, zl.encode_partition_state(state))])
            else:
                self.registry.store.transaction([fence, SetOp(path, zl.encode_partition_state(state), version)])
        except (BadVersionError, NodeExistsError, NoNodeError) as e:
            log.info("[Controller id=%d] %s-%d changed under us (%s); next pass retries", self.broker_id, topic,
                     partition, type(e).__name__)
            if isinstance(e, BadVersionError) and self.registry.controller_id() != self.broker_id:
                self.claim = None
            return 0
        log.info("[Controller id=%d] %s-%d: leader %d, leader epoch %d, ISR %s", self.broker_id, topic, partition,
                 state.leader, state.leader_epoch, state.isr)
        return 1

    def _delete_topics(self) -> int:
        store = self.registry.store
        try:
            pending = store.children(zp.DELETE_TOPICS)
        except NoNodeError:
            return 0
        for topic in pending:
            with contextlib.suppress(NoNodeError):
                store.delete(zp.topic_path(topic), recursive=True)
            with contextlib.suppress(NoNodeError):
                store.delete(zp.topic_config_path(topic))
            with contextlib.suppress(NoNodeError):
                store.delete(zp.delete_topic_path(topic))
            log.info("[Controller id=%d] Deleted topic %s", self.broker_id, topic)
        return len(pending)
