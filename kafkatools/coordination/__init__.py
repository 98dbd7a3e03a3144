"""ZooKeeper layout and the one module that talks to ZooKeeper (kazoo), with an in-memory twin.

Modules (import them directly; this facade re-exports the store interface and the errors only, so
importing it never loads kazoo):

  zk_paths          every znode path, topic-name rules, Kafka's Sanitizer          (pure)
  zk_layout         broker, topic, partition-state, controller, cluster-id payloads (pure)
  zk_admin          configs, change notifications, admin requests, producer-id blocks, 0.8 consumer (pure)
  assignment        rack-unaware replica placement                                   (pure)
  store             the ZkStore interface (Protocol) and its data types
  memory_store      MemoryZooKeeper / MemoryStore: the in-memory twin
  kazoo_store       KazooStore: real ZooKeeper (the only kazoo import)
  cluster_registry  ClusterRegistry: Kafka's ZooKeeper steps over any ZkStore
"""

from kafkatools.coordination.errors import (
    BadVersionError,
    ConnectionLossError,
    CoordinationError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    SessionExpiredError,
    StoreTimeoutError,
)
from kafkatools.coordination.store import (
    CheckOp,
    CreateOp,
    DeleteOp,
    EventType,
    SessionState,
    SetOp,
    Stat,
    WatchEvent,
    ZkStore,
)

__all__ = [
    "BadVersionError",
    "CheckOp",
    "ConnectionLossError",
    "CoordinationError",
    "CreateOp",
    "DeleteOp",
    "EventType",
    "NoChildrenForEphemeralsError",
    "NoNodeError",
    "NodeExistsError",
    "NotEmptyError",
    "SessionExpiredError",
    "SessionState",
    "SetOp",
    "Stat",
    "StoreTimeoutError",
    "WatchEvent",
    "ZkStore",
]
