"""broker.id resolution for ZooKeeper mode: meta.properties wins, conflicts fail, unset ids come from /brokers/seqid."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkatools.broker.config import BrokerConfig, ConfigError, load_config
from kafkatools.broker.zk.broker_id import resolve_broker_id
from kafkatools.coordination.memory_store import MemoryZooKeeper
from kafkatools.storage.errors import InconsistentMetadataError
from kafkatools.storage.metadata_files import MetaProperties, write_meta_properties


def config(tmp_path: Path, **extra: str) -> BrokerConfig:
    props = {"zookeeper.connect": "127.0.0.1:1/k", "log.dirs": f"{tmp_path / 'a'},{tmp_path / 'b'}", **extra}
    return load_config(props)


def store_meta(d: Path, broker_id: int) -> None:
    d.mkdir(parents=True, exist_ok=True)
    write_meta_properties(str(d / "meta.properties"), MetaProperties(0, "cid", broker_id))


def test_unset_id_is_generated_from_seqid_version(tmp_path: Path) -> None:
    store = MemoryZooKeeper().connect("/k")
    first = resolve_broker_id(config(tmp_path), store)
    second = resolve_broker_id(config(tmp_path / "other"), store)
    assert (first.broker_id, second.broker_id) == (1001, 1002)
    assert resolve_broker_id(config(tmp_path / "x", **{"reserved.broker.max.id": "5000"}), store).broker_id == 5003


def test_stored_id_wins_over_generation(tmp_path: Path) -> None:
    store_meta(tmp_path / "a", 1007)
    store = MemoryZooKeeper().connect("/k")
    assert resolve_broker_id(config(tmp_path), store).broker_id == 1007
    assert resolve_broker_id(config(tmp_path, **{"broker.id": "-1"}), store).broker_id == 1007


def test_configured_id_must_match_stored(tmp_path: Path) -> None:
    store_meta(tmp_path / "a", 4)
    assert resolve_broker_id(config(tmp_path, **{"broker.id": "4"})).broker_id == 4
    with pytest.raises(InconsistentMetadataError, match=r"Configured broker.id 5 doesn't match stored broker.id"):
        resolve_broker_id(config(tmp_path, **{"broker.id": "5"}))


def test_log_dirs_that_disagree_fail(tmp_path: Path) -> None:
    store_meta(tmp_path / "a", 1)
    store_meta(tmp_path / "b", 2)
    with pytest.raises(InconsistentMetadataError, match=r"Failed to match broker\.id across log\.dirs"):
        resolve_broker_id(config(tmp_path))


def test_generation_disabled_needs_an_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"broker\.id\.generation\.enable is false"):
        resolve_broker_id(config(tmp_path, **{"broker.id.generation.enable": "false"}))


def test_configured_id_above_the_reserved_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not greater than reserved\.broker\.max\.id"):
        config(tmp_path, **{"broker.id": "1001"})
    assert config(tmp_path, **{"broker.id": "1001", "broker.id.generation.enable": "false"}).broker_id == 1001
