"""What ZK-mode brokers and the controller do in ZooKeeper, as methods over a ``ZkStore`` (Kafka's KafkaZkClient).

Each method is one step of Kafka's protocol with its conditions spelled out, so the broker and the
controller (later parts of issue 6) only decide *when* to call them:

* start-up: ``ensure_persistent_paths``, ``get_or_create_cluster_id`` (first broker wins, others read);
* membership: ``register_broker`` creates the ephemeral ``/brokers/ids/<id>``; its czxid is the
  broker epoch; a live registration by another session is refused as Kafka refuses it;
* election: ``try_become_controller`` creates the ephemeral ``/controller`` and bumps
  ``/controller_epoch`` in one transaction, conditional on the epoch's zkVersion, so two brokers can
  never both win the same epoch;
* topics: ``create_topic`` writes ``/config/topics/<t>`` first and ``/brokers/topics/<t>`` second,
  as AdminZkClient does; partition state znodes are updated conditionally on their zkVersion (the
  partition epoch);
* producer ids: ``claim_producer_id_block`` takes the next block of 1000 with a conditional setData.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from kafkatools.coordination import zk_admin as za
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.errors import BadVersionError, CoordinationError, NodeExistsError, NoNodeError
from kafkatools.coordination.store import CheckOp, CreateOp, SetOp, Watcher, ZkStore
from kafkatools.errors import INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, KafkaError

INITIAL_CONTROLLER_EPOCH = 0  # the value /controller_epoch is created with; the first election makes it 1


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class ControllerClaim:
    broker_id: int
    epoch: int  # the new controller epoch
    epoch_zk_version: int  # zkVersion of /controller_epoch after the bump (later conditional writes use it)


class ClusterRegistry:
    def __init__(self, store: ZkStore, *, clock_ms: Callable[[], int] = _now_ms,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self._clock_ms = clock_ms
        self._rng = rng

    # --- start-up and membership -------------------------------------------------------------

    def ensure_persistent_paths(self) -> None:
        for path in zp.PERSISTENT_PATHS:
            self.store.ensure_path(path)

    def get_or_create_cluster_id(self) -> str:
        try:
            return zl.decode_cluster_id(zp.CLUSTER_ID, self.store.get(zp.CLUSTER_ID)[0])
        except NoNodeError:
            pass
        proposed = zl.random_uuid(self._rng)
        try:
            self.store.create(zp.CLUSTER_ID, zl.encode_cluster_id(proposed), make_parents=True)
            return proposed
        except NodeExistsError:  # another broker was first
            return zl.decode_cluster_id(zp.CLUSTER_ID, self.store.get(zp.CLUSTER_ID)[0])

    def register_broker(self, registration: zl.BrokerRegistration) -> int:
        """Create ``/brokers/ids/<id>``; returns the broker epoch (the node's czxid)."""
        path = zp.broker_path(registration.broker_id)
        try:
            self.store.create(path, zl.encode_broker(registration), ephemeral=True, make_parents=True)
        except NodeExistsError:
            stat = self.store.exists(path)
            if stat is None or stat.ephemeral_owner != self.store.session_id:
                owner = stat.ephemeral_owner if stat else 0
                raise CoordinationError(
                    f"Error while creating ephemeral at {path}, node already exists and owner '{owner}' does not "
                    f"match current session '{self.store.session_id}'", path
                ) from None
        return self.store.get(path)[1].czxid

    def live_brokers(self, watch: Watcher | None = None) -> dict[int, tuple[zl.BrokerRegistration, int]]:
        """Broker id -> (registration, broker epoch) of every registered broker; ``watch`` on the id list."""
        out: dict[int, tuple[zl.BrokerRegistration, int]] = {}
        for name in self.store.children(zp.BROKER_IDS, watch=watch):
            if not name.isdigit():
                continue
            path = zp.broker_path(int(name))
            try:
                data, stat = self.store.get(path)
            except NoNodeError:  # went away between the listing and the read
                continue
            out[int(name)] = (zl.decode_broker(path, int(name), data), stat.czxid)
        return dict(sorted(out.items()))

    # --- controller election -----------------------------------------------------------------

    def controller_id(self, watch: Watcher | None = None) -> int | None:
        """The active controller's broker id; ``watch`` fires when /controller is created, changed or deleted."""
        stat = self.store.exists(zp.CONTROLLER, watch=watch)
        if stat is None:
            return None
        try:
            return zl.decode_controller(zp.CONTROLLER, self.store.get(zp.CONTROLLER)[0]).broker_id
        except NoNodeError:
            return None

    def controller_epoch(self) -> tuple[int, int] | None:
        """(epoch, zkVersion) of /controller_epoch, or None before the first election."""
        try:
            data, stat = self.store.get(zp.CONTROLLER_EPOCH)
        except NoNodeError:
            return None
        return zl.decode_int_text(zp.CONTROLLER_EPOCH, data), stat.version

    def try_become_controller(self, broker_id: int) -> ControllerClaim | None:
        """Win the election (a ControllerClaim) or learn that another broker holds /controller (None)."""
        current = self.controller_epoch()
        if current is None:
            with contextlib.suppress(NodeExistsError):
                self.store.create(zp.CONTROLLER_EPOCH, zl.encode_int_text(INITIAL_CONTROLLER_EPOCH))
            current = self.controller_epoch()
            assert current is not None
        epoch, version = current
        registration = zl.ControllerRegistration(broker_id, self._clock_ms())
        try:
            results = self.store.transaction([
                CreateOp(zp.CONTROLLER, zl.encode_controller(registration), ephemeral=True),
                SetOp(zp.CONTROLLER_EPOCH, zl.encode_int_text(epoch + 1), version),
            ])
        except (NodeExistsError, BadVersionError):
            return None  # someone else is controller, or won this epoch first
        stat = results[1]
        assert not isinstance(stat, (str, type(None)))
        return ControllerClaim(broker_id, epoch + 1, stat.version)

    def resign(self, claim: ControllerClaim) -> None:
        """Delete /controller if this session holds it (controlled shutdown / losing leadership)."""
        stat = self.store.exists(zp.CONTROLLER)
        if stat is not None and stat.ephemeral_owner == self.store.session_id:
            with contextlib.suppress(NoNodeError, BadVersionError):
                self.store.delete(zp.CONTROLLER, stat.version)

    # --- topics -------------------------------------------------------------------------------

    def topics(self, watch: Watcher | None = None) -> list[str]:
        return self.store.children(zp.BROKER_TOPICS, watch=watch)

    def create_topic(self, topic: str, assignment: dict[int, list[int]], config: dict[str, str] | None = None,
                     topic_id: str | None = None) -> str:
        """AdminZkClient's order: validate, ``/config/topics/<t>``, then ``/brokers/topics/<t>``; the topic id."""
        zp.validate_topic_name(topic)
        existing = self.topics()
        if topic in existing:
            raise KafkaError(TOPIC_ALREADY_EXISTS, f"Topic '{topic}' already exists.")
        if self.store.exists(zp.delete_topic_path(topic)) is not None:
            raise KafkaError(TOPIC_ALREADY_EXISTS, f"Topic '{topic}' is marked for deletion.")
        key = zp.topic_collision_key(topic)
        colliding = [t for t in existing if zp.topic_collision_key(t) == key]
        if colliding:
            raise KafkaError(INVALID_TOPIC_EXCEPTION,
                             f"Topic '{topic}' collides with existing topics: {', '.join(colliding)}")
        self.set_topic_config(topic, config or {}, notify=False)
        topic_id = topic_id or zl.random_uuid(self._rng)
        try:
            self.store.create(zp.topic_path(topic), zl.encode_topic(zl.TopicAssignment(assignment, topic_id)),
                              make_parents=True)
        except NodeExistsError:
            raise KafkaError(TOPIC_ALREADY_EXISTS, f"Topic '{topic}' already exists.") from None
        return topic_id

    def topic_assignment(self, topic: str, watch: Watcher | None = None) -> zl.TopicAssignment | None:
        path = zp.topic_path(topic)
        try:
            return zl.decode_topic(path, self.store.get(path, watch=watch)[0])
        except NoNodeError:
            return None

    def topic_config(self, topic: str) -> dict[str, str]:
        path = zp.topic_config_path(topic)
        try:
            return za.decode_entity_config(path, self.store.get(path)[0])
        except NoNodeError:
            return {}

    def set_topic_config(self, topic: str, config: dict[str, str], *, notify: bool = True) -> None:
        """Write ``/config/topics/<t>`` and (``notify``) a ``config_change_`` notification for the brokers."""
        path = zp.topic_config_path(topic)
        data = za.encode_entity_config(config)
        try:
            self.store.set(path, data)
        except NoNodeError:
            self.store.create(path, data, make_parents=True)
        if notify:
            self.store.create(zp.config_change_path_prefix(), za.encode_config_change(f"topics/{topic}"),
                              sequential=True, make_parents=True)

    def mark_topic_for_deletion(self, topic: str) -> None:
        with contextlib.suppress(NodeExistsError):  # already requested
            self.store.create(zp.delete_topic_path(topic), make_parents=True)

    # --- partition state ------------------------------------------------------------------------

    def partition_state(self, topic: str, partition: int) -> tuple[zl.PartitionState, int] | None:
        """(state, zkVersion = partition epoch), or None when the controller has not written it yet."""
        path = zp.partition_state_path(topic, partition)
        try:
            data, stat = self.store.get(path)
        except NoNodeError:
            return None
        return zl.decode_partition_state(path, data), stat.version

    def create_partition_state(self, topic: str, partition: int, state: zl.PartitionState,
                               controller_epoch_zk_version: int | None = None) -> None:
        """Create the state znode (and its parents); fenced on /controller_epoch's zkVersion when given."""
        path = zp.partition_state_path(topic, partition)
        self.store.ensure_path(zp.partition_path(topic, partition))
        if controller_epoch_zk_version is None:
            self.store.create(path, zl.encode_partition_state(state))
            return
        self.store.transaction([CheckOp(zp.CONTROLLER_EPOCH, controller_epoch_zk_version),
                                CreateOp(path, zl.encode_partition_state(state))])

    def update_partition_state(self, topic: str, partition: int, state: zl.PartitionState,
                               expected_version: int) -> int:
        """Conditional write (BadVersionError when someone else changed it); the new partition epoch."""
        path = zp.partition_state_path(topic, partition)
        return self.store.set(path, zl.encode_partition_state(state), expected_version).version

    # --- producer ids ---------------------------------------------------------------------------

    def claim_producer_id_block(self, broker_id: int, attempts: int = 10) -> za.ProducerIdBlock:
        """The next block of 1000 producer ids for ``broker_id`` (conditional setData, retried on races)."""
        path = zp.LATEST_PRODUCER_ID_BLOCK
        for _ in range(attempts):
            try:
                data, stat = self.store.get(path)
            except NoNodeError:
                self.store.ensure_path(path)
                continue
            if data:
                block = za.decode_producer_id_block(path, data).next_block(broker_id)
            else:
                block = za.ProducerIdBlock(broker_id, za.FIRST_PRODUCER_ID_BLOCK.block_start,
                                           za.FIRST_PRODUCER_ID_BLOCK.block_end)
            try:
                self.store.set(path, za.encode_producer_id_block(block), stat.version)
                return block
            except BadVersionError:
                continue
        raise CoordinationError(f"could not claim a producer id block after {attempts} attempts", path)
