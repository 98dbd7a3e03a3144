"""Cluster metadata of a standalone broker: cluster id, topics, partitions, topic configs.

Without ZooKeeper a single broker is its own controller, and this is its metadata store.  It
persists as one JSON document, ``kafkatools-metadata.json`` in the first log dir, written
atomically (temp file, fsync, rename, fsync dir), so topics and their configs survive restarts
and a ``kill -9`` loses at most the change being written.  (Kafka in KRaft mode keeps this in
the ``__cluster_metadata`` log; the JSON form is ours, and a ZooKeeper-backed store with the
same interface serves clusters.)

Topic ids follow Kafka's rule: random, never all-zero, and never starting with '-' once
base64url-encoded (so a CLI does not mistake it for an option).
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

METADATA_FILE = "kafkatools-metadata.json"
MAX_TOPIC_NAME = 249
_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]+$")
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


def new_topic_id() -> uuid.UUID:
    while True:
        tid = uuid.uuid4()
        if not uuid_to_base64(tid).startswith("-"):
            return tid


def uuid_to_base64(u: uuid.UUID) -> str:
    """Kafka's textual form of a Uuid: url-safe base64 without padding (22 chars)."""
    return base64.urlsafe_b64encode(u.bytes).decode("ascii").rstrip("=")


def uuid_from_base64(text: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def new_cluster_id() -> str:
    return uuid_to_base64(new_topic_id())


def topic_name_problem(name: str) -> str | None:
    """Why ``name`` is not a legal topic name (Kafka's Topic.validate), or None if it is."""
    if not name:
        return "Topic name is illegal, it can't be empty"
    if name in (".", ".."):
        return "Topic name cannot be \".\" or \"..\""
    if len(name) > MAX_TOPIC_NAME:
        return (
            f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME} characters, "
            f"topic name: {name}"
        )
    if not _LEGAL_TOPIC.match(name):
        return (
            f"Topic name \"{name}\" is illegal, it contains a character other than ASCII "
            "alphanumerics, '.', '_' and '-'"
        )
    return None


@dataclass(slots=True)
class PartitionState:
    leader: int
    leader_epoch: int
    replicas: list[int]
    isr: list[int]

    def to_json(self) -> dict[str, object]:
        return {"leader": self.leader, "leader_epoch": self.leader_epoch, "replicas": self.replicas,
                "isr": self.isr}

    @classmethod
    def from_json(cls, d: dict[str, object]) -> PartitionState:
        return cls(int(d["leader"]), int(d["leader_epoch"]),  # type: ignore[call-overload]
                   [int(x) for x in d["replicas"]], [int(x) for x in d["isr"]])  # type: ignore[attr-defined]


@dataclass(slots=True)
class TopicState:
    name: str
    topic_id: uuid.UUID
    partitions: list[PartitionState]
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.name in INTERNAL_TOPICS

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "topic_id": uuid_to_base64(self.topic_id),
                "partitions": [p.to_json() for p in self.partitions], "configs": self.configs}

    @classmethod
    def from_json(cls, d: dict[str, object]) -> TopicState:
        parts = d["partitions"]
        configs = d.get("configs") or {}
        assert isinstance(parts, list) and isinstance(configs, dict)
        return cls(str(d["name"]), uuid_from_base64(str(d["topic_id"])),
                   [PartitionState.from_json(p) for p in parts], {str(k): str(v) for k, v in configs.items()})


class StandaloneCluster:
    """The metadata of a one-broker cluster, persisted in ``<log dir>/kafkatools-metadata.json``."""

    def __init__(self, directory: Path, node_id: int, cluster_id: str | None = None) -> None:
        self.path = directory / METADATA_FILE
        self.node_id = node_id
        self.topics: dict[str, TopicState] = {}
        self._by_id: dict[uuid.UUID, TopicState] = {}
        self.next_producer_id = 0
        if self.path.exists():
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            self.cluster_id: str = str(doc["cluster_id"])
            self.next_producer_id = int(doc.get("producer_id_block_end", 0))
            for t in doc.get("topics", []):
                topic = TopicState.from_json(t)
                self.topics[topic.name] = topic
                self._by_id[topic.topic_id] = topic
        else:
            self.cluster_id = cluster_id or new_cluster_id()
            self.save()

    @property
    def controller_id(self) -> int:
        return self.node_id

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicState | None:
        return self._by_id.get(topic_id)

    def create_topic(
        self, name: str, assignment: list[list[int]], configs: dict[str, str] | None = None
    ) -> TopicState:
        parts = [PartitionState(leader=r[0], leader_epoch=0, replicas=list(r), isr=list(r)) for r in assignment]
        topic = TopicState(name, new_topic_id(), parts, dict(configs or {}))
        self.topics[name] = topic
        self._by_id[topic.topic_id] = topic
        self.save()
        return topic

    def delete_topic(self, name: str) -> TopicState:
        topic = self.topics.pop(name)
        self._by_id.pop(topic.topic_id, None)
        self.save()
        return topic

    def add_partitions(self, name: str, assignment: list[list[int]]) -> None:
        topic = self.topics[name]
        topic.partitions.extend(
            PartitionState(leader=r[0], leader_epoch=0, replicas=list(r), isr=list(r)) for r in assignment
        )
        self.save()

    def reserve_producer_ids(self, block_end: int) -> None:
        """Persist that ids below ``block_end`` may be in use, so a restart never reissues them."""
        self.next_producer_id = block_end
        self.save()

    def set_topic_configs(self, name: str, configs: dict[str, str]) -> None:
        self.topics[name].configs = dict(configs)
        self.save()

    def save(self) -> None:
        doc = {"version": 1, "cluster_id": self.cluster_id, "producer_id_block_end": self.next_producer_id,
               "topics": [t.to_json() for t in sorted(self.topics.values(), key=lambda t: t.name)]}
        data = json.dumps(doc, indent=1, sort_keys=True).encode("utf-8")
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
