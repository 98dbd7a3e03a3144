"""The ZooKeeper-mode controller: one broker wins ``/controller`` and keeps partition state znodes right.

Design (the pre-controller-RPC style the brief allows): the controller never pushes roles to
brokers.  It reconciles ZooKeeper against itself -- ``reconcile()`` reads the live brokers, the
topics and every partition's ``state`` znode and writes what must change (rules in elections.py);
each broker watches the state znodes of what it hosts and applies them (``sync.ZkSync``).  Because
every pass starts from what ZooKeeper holds, a new controller after fail-over needs no hand-over:
its first pass repairs whatever the dead one left half done.

Beyond the steady state, a pass also deletes topics under ``/admin/delete_topics``, runs the
elections asked for in ``/admin/preferred_replica_election`` (then deletes it) and, with
``auto.leader.rebalance.enable``, every ``leader.imbalance.check.interval.seconds`` hands
leadership back to preferred replicas of brokers whose imbalance exceeds the percentage.  Two
requests reach the controller from outside its loop: ControlledShutdown (``controlled_shutdown``:
the broker joins ``shutting_down``, a pass moves its leaderships and ISR seats away, the answer is
what could not move) and ElectLeaders (``elect_leaders``).  A lock serialises them with the pass.
The elections themselves are in controller_elections.py, their rules in elections.py.

Every write is one transaction fenced on ``/controller_epoch``'s zkVersion and conditional on the
state znode's zkVersion, so a deposed controller or a racing leader ISR change cannot be lost.
Bad znode contents are skipped with one error line naming the znode; the rest goes on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from kafkatools import errors
from kafkatools.broker.zk import controller_elections, reassignment
from kafkatools.broker.zk.controller_elections import Result, bad_contents
from kafkatools.broker.zk.elections import Decision, Key, decide
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.cluster_registry import ClusterRegistry, ControllerClaim
from kafkatools.coordination.errors import BadVersionError, CoordinationError, NodeExistsError, NoNodeError
from kafkatools.coordination.prefetch import PrefetchedReads
from kafkatools.coordination.store import CheckOp, CreateOp, SetOp, Watcher

__all__ = ["Decision", "ZkController", "decide"]

log = logging.getLogger("kafkatools.broker.controller")

FIRST_REBALANCE_DELAY_S = 5.0  # Kafka schedules the first imbalance check 5 s after fail-over


class ZkController:
    """Holds a ``ControllerClaim`` while this broker is controller; ``reconcile`` does one pass."""

    def __init__(self, registry: ClusterRegistry, broker_id: int, *, unclean: bool = False,
                 auto_rebalance: bool = False, imbalance_interval_s: float = 300.0, imbalance_percentage: int = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self.broker_id = broker_id
        self.unclean = unclean
        self.auto_rebalance = auto_rebalance
        self.imbalance_interval_s = imbalance_interval_s
        self.imbalance_percentage = imbalance_percentage
        self.claim: ControllerClaim | None = None
        self.retired = False  # this broker is shutting down: never (re)claim /controller
        self.shutting_down: set[int] = set()  # brokers in controlled shutdown (cleared when they deregister)
        self._shutdown_epochs: dict[int, int] = {}  # their broker epochs (czxid of the registration)
        self.watch: Watcher | None = None  # armed on /admin/preferred_replica_election
        self.lock = threading.RLock()
        self._clock = clock
        self._next_rebalance = 0.0
        self._reported: set[str] = set()
        self.reassigning: set[Key] = set()  # partitions with adding/removing replicas, seen by the last read

    @property
    def active(self) -> bool:
        return self.claim is not None

    def _report(self, what: str, e: CoordinationError) -> None:
        if str(e) not in self._reported:  # said once; retried silently every pass
            self._reported.add(str(e))
            log.error("[Controller id=%d] %s: %s", self.broker_id, what, e)

    # -- election -------------------------------------------------------------------------------
    def elect(self) -> bool:
        """Try to become controller when /controller is free; True while this broker holds it."""
        if self.retired:
            return False
        try:
            current = self.registry.controller_id()
        except CoordinationError as e:
            if not bad_contents(e):
                raise
            return self._bad_controller_znode(e)
        if current is not None:
            if current != self.broker_id:  # another broker (or our own dead session, until it expires)
                self.claim = None
            return self.claim is not None
        try:
            claim = self.registry.try_become_controller(self.broker_id)
        except CoordinationError as e:  # e.g. garbage in /controller_epoch: no election until someone fixes it
            if not bad_contents(e):
                raise
            self._report("Cannot run the controller election", e)
            claim = None
        if claim is not None:
            log.info("[Controller id=%d] Elected as the controller with epoch %d", self.broker_id, claim.epoch)
            self._next_rebalance = self._clock() + min(FIRST_REBALANCE_DELAY_S, self.imbalance_interval_s)
        self.claim = claim
        return claim is not None

    def _bad_controller_znode(self, e: CoordinationError) -> bool:
        """/controller holds garbage: ours (someone overwrote it) we keep; a persistent one cannot be a
        live claim and would block every election forever, so it goes; another session's we wait out."""
        self._report("Unreadable controller znode", e)
        stat = self.registry.store.exists(zp.CONTROLLER)
        if stat is None:
            return False
        if stat.ephemeral_owner == self.registry.store.session_id:
            return self.claim is not None
        self.claim = None
        if stat.ephemeral_owner == 0:
            log.error("[Controller id=%d] Deleting %s: it is not a broker's ephemeral claim", self.broker_id,
                      zp.CONTROLLER)
            with contextlib.suppress(NoNodeError, BadVersionError):
                self.registry.store.delete(zp.CONTROLLER, stat.version)
        return False

    def resign(self) -> None:
        if self.claim is not None:
            with contextlib.suppress(CoordinationError):
                self.registry.resign(self.claim)
            self.claim = None

    # -- the pass -------------------------------------------------------------------------------
    def live(self) -> set[int]:
        return {int(n) for n in self.registry.store.children(zp.BROKER_IDS) if n.isdigit()}  # payloads not needed

    def reconcile(self) -> int:
        """One pass over deletions, reassignments, every partition and the elections due; znodes written."""
        with self.lock:
            if self.claim is None:
                return 0
            written = self._delete_topics()
            live = self.live()
            self._forget_restarted(live)
            written += reassignment.advance(self.registry, self.claim, live)
            for key, replicas, found in self.partitions():
                current, version = found if found is not None else (None, -1)
                decision = decide(replicas, current, live, self.unclean, self.shutting_down)
                if decision is not None and self.claim is not None:
                    written += self.write(key, decision, current, version)
            written += controller_elections.admin_preferred_election(self, live)
            if self.auto_rebalance and self.claim is not None and self._clock() >= self._next_rebalance:
                self._next_rebalance = self._clock() + self.imbalance_interval_s
                written += controller_elections.rebalance(self, live)
            return written

    def _forget_restarted(self, live: set[int]) -> None:
        """A shutting-down broker that went away, or came back as a new registration, is an ordinary broker."""
        for broker in sorted(self.shutting_down):
            stat = self.registry.store.exists(zp.broker_path(broker)) if broker in live else None
            if stat is None or stat.czxid != self._shutdown_epochs.get(broker):
                self.shutting_down.discard(broker)
                self._shutdown_epochs.pop(broker, None)

    def partitions(self, topics: list[str] | None = None
                    ) -> Iterator[tuple[Key, list[int], tuple[zl.PartitionState, int] | None]]:
        """Every readable partition: (key, replicas, (state, zkVersion) or None); bad znodes reported, skipped.

        Topic znodes, then partition states, are each read in one pipelined batch.
        """
        names = self.registry.topics() if topics is None else topics
        reads = PrefetchedReads(self.registry.store)
        ahead = ClusterRegistry(reads)
        reads.prefetch([zp.topic_path(t) for t in names])
        assignments: list[tuple[str, zl.TopicAssignment]] = []
        for topic in names:
            try:
                assignment = ahead.topic_assignment(topic)
            except CoordinationError as e:
                if not bad_contents(e):
                    raise
                self._report(f"Skipping topic {topic}", e)
                continue
            if assignment is not None:
                assignments.append((topic, assignment))
        reads.prefetch([zp.partition_state_path(t, p) for t, a in assignments for p in sorted(a.partitions)])
        for topic, assignment in assignments:
            moving = set(assignment.adding_replicas) | set(assignment.removing_replicas)
            for partition, replicas in sorted(assignment.partitions.items()):
                if partition in moving:
                    self.reassigning.add((topic, partition))
                else:
                    self.reassigning.discard((topic, partition))
                try:
                    found = ahead.partition_state(topic, partition)
                except CoordinationError as e:
                    if not bad_contents(e):
                        raise
                    self._report(f"Skipping partition {topic}-{partition}", e)
                    continue
                yield (topic, partition), replicas, found

    def write(self, key: Key, decision: Decision, current: zl.PartitionState | None, version: int) -> int:
        """Write one decision, fenced; 1 when written, 0 when the znode or the controller moved on."""
        assert self.claim is not None
        topic, partition = key
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

    # -- elections --------------------------------------------------------------------------------
    def elect_leaders(self, keys: list[Key] | None, election_type: int) -> dict[Key, Result]:
        """ElectLeaders on the controller: each partition's outcome; ``keys`` None = every partition."""
        with self.lock:
            if self.claim is None:
                return {k: (errors.NOT_CONTROLLER, None) for k in keys or []}
            return controller_elections.elect(self, keys, election_type, self.live())

    # -- controlled shutdown ----------------------------------------------------------------------
    def controlled_shutdown(self, broker_id: int, broker_epoch: int = -1) -> tuple[errors.ErrorCode, list[Key]]:
        """Move ``broker_id``'s leaderships and ISR seats away; (error, partitions it still leads)."""
        with self.lock:
            if self.claim is None:
                return errors.NOT_CONTROLLER, []
            stat = self.registry.store.exists(zp.broker_path(broker_id))
            if stat is None:
                return errors.BY_NAME["BROKER_NOT_AVAILABLE"], []
            if broker_epoch not in (-1, stat.czxid):
                return errors.BY_NAME["STALE_BROKER_EPOCH"], []
            if broker_id not in self.shutting_down:
                log.info("[Controller id=%d] Shutting down broker %d", self.broker_id, broker_id)
            self.shutting_down.add(broker_id)
            self._shutdown_epochs[broker_id] = stat.czxid
            self.reconcile()
            remaining = [key for key, replicas, found in self.partitions()
                         if found is not None and found[0].leader == broker_id and len(replicas) > 1]
            return errors.NONE, remaining

