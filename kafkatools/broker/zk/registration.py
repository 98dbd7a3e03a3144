"""Joining a ZooKeeper-mode cluster: the session, the cluster id, ``/brokers/ids/<id>``, producer ids.

``connect(config)`` opens the session (``zookeeper.connect`` with its chroot, session and
connection timeouts), creates Kafka's persistent paths and reads -- or, as the first broker,
creates -- ``/cluster/id``.  The caller checks it against ``meta.properties`` (a broker pointed at
the wrong cluster must refuse to start, as Kafka's InconsistentClusterIdException does).
``registration(...)`` builds the v5 payload of ``/brokers/ids/<id>`` from the advertised
listeners.  ``ZkProducerIds`` hands out producer ids from blocks claimed in
``/latest_producer_id_block``, so no two brokers ever issue the same id.
"""

from __future__ import annotations

import time

from kafkatools.broker.config import BrokerConfig
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination.cluster_registry import ClusterRegistry
from kafkatools.coordination.kazoo_store import KazooStore


def connect(config: BrokerConfig) -> tuple[ClusterRegistry, str]:
    """(registry over a new session, cluster id) -- raises CoordinationError when ZooKeeper is unreachable."""
    assert config.zookeeper_connect is not None
    store = KazooStore(config.zookeeper_connect, session_timeout_s=config.zookeeper_session_timeout_ms / 1000,
                       connect_timeout_s=config.zookeeper_connection_timeout_ms / 1000)
    try:
        registry = ClusterRegistry(store)
        registry.ensure_persistent_paths()
        return registry, registry.get_or_create_cluster_id()
    except BaseException:
        store.close()
        raise


def registration(config: BrokerConfig, port: int) -> zl.BrokerRegistration:
    """The v5 ``/brokers/ids/<id>`` payload; ``port`` replaces a configured port 0 (bound at run time)."""
    protocols = config.listener_security_protocol_map
    endpoints = tuple(
        zl.Endpoint(e.listener, e.host, e.port or port, protocols.get(e.listener, e.listener))
        for e in config.advertised_endpoints
    )
    return zl.BrokerRegistration(config.broker_id, endpoints, time.time_ns() // 1_000_000, rack=config.broker_rack)


class ZkProducerIds:
    """Producer ids from cluster-wide blocks of 1000 (the allocator interface BrokerState uses)."""

    def __init__(self, registry: ClusterRegistry, broker_id: int) -> None:
        self.registry = registry
        self.broker_id = broker_id
        self._next = 0
        self._end = -1  # inclusive end of the block in hand

    def allocate(self) -> int:
        if self._next > self._end:
            block = self.registry.claim_producer_id_block(self.broker_id)
            self._next, self._end = block.block_start, block.block_end
        pid = self._next
        self._next += 1
        return pid
