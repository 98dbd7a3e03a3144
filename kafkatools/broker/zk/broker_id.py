"""Which ``broker.id`` a ZooKeeper-mode broker runs as (Kafka's getOrGenerateBrokerId).

Rules, in Kafka's order:

* ``meta.properties`` in the log dirs wins: a broker that has data keeps its identity; log dirs
  that disagree with each other are a start-up error;
* a configured id (``broker.id`` >= 0) must agree with the stored one -- else a start-up error
  saying how to fix it (moved data, or a new broker with old data dirs);
* nothing stored and ``broker.id`` unset (-1) with ``broker.id.generation.enable``: a new id from
  ZooKeeper -- setData on ``/brokers/seqid`` returns a new zkVersion, unique cluster-wide, and the
  id is that version + ``reserved.broker.max.id`` (1001, 1002, ...).  BrokerState writes it into
  ``meta.properties`` with the cluster id, so a restart keeps it.
"""

from __future__ import annotations

import dataclasses
import os

from kafkatools.broker.config import BrokerConfig, ConfigError
from kafkatools.coordination import zk_layout as zl
from kafkatools.coordination import zk_paths as zp
from kafkatools.coordination.store import ZkStore
from kafkatools.storage.errors import InconsistentMetadataError
from kafkatools.storage.metadata_files import read_meta_properties
from kafkatools.storage.names import META_PROPERTIES


def stored_broker_id(log_dirs: tuple[str, ...]) -> int | None:
    """The broker id recorded in the log dirs' meta.properties (None when no dir has one)."""
    found: dict[str, int] = {}
    for d in log_dirs:
        path = os.path.join(d, META_PROPERTIES)
        meta = read_meta_properties(path)
        if meta is not None and meta.node_id is not None:
            found[path] = meta.node_id
    if len(set(found.values())) > 1:
        listing = ", ".join(f"{p}: {i}" for p, i in sorted(found.items()))
        raise InconsistentMetadataError(f"Failed to match broker.id across log.dirs ({listing})")
    return next(iter(found.values()), None)


def generate_broker_id(store: ZkStore, reserved_broker_max_id: int) -> int:
    store.ensure_path(zp.BROKER_SEQID)
    return zl.generated_broker_id(store.set(zp.BROKER_SEQID, b"").version, reserved_broker_max_id)


def resolve_broker_id(config: BrokerConfig, store: ZkStore | None = None) -> BrokerConfig:
    """``config`` with the broker id it must run as; ``store`` is opened (and closed) on demand."""
    stored = stored_broker_id(config.log_dirs)
    if config.broker_id >= 0:
        if stored is not None and stored != config.broker_id:
            raise InconsistentMetadataError(
                f"Configured broker.id {config.broker_id} doesn't match stored broker.id Some({stored}) in "
                "meta.properties. If you moved your data, make sure your configured broker.id matches. If you "
                "intend to create a new broker, you should remove all data in your data directories (log.dirs).")
        return config
    if stored is not None:
        return dataclasses.replace(config, broker_id=stored)
    if not config.broker_id_generation_enable:
        raise ConfigError("broker.id is not set, and broker.id.generation.enable is false: set broker.id")
    if config.zookeeper_connect is None:
        return dataclasses.replace(config, broker_id=0)
    if store is not None:
        return dataclasses.replace(config, broker_id=generate_broker_id(store, config.reserved_broker_max_id))
    from kafkatools.coordination.kazoo_store import KazooStore

    own = KazooStore(config.zookeeper_connect, session_timeout_s=config.zookeeper_session_timeout_ms / 1000,
                     connect_timeout_s=config.zookeeper_connection_timeout_ms / 1000)
    try:
        return dataclasses.replace(config, broker_id=generate_broker_id(own, config.reserved_broker_max_id))
    finally:
        own.close()
