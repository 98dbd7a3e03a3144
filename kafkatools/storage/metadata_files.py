"""Small identity files: ``meta.properties``, ``partition.metadata``, ``.kafka_cleanshutdown``.

meta.properties (``MetaProperties``; java.util.Properties ``store`` format)::

    #
    #Wed Jun 21 15:14:35 CEST 2023
    broker.id=1                       version 0 (ZK mode): broker.id, version, cluster.id
    version=0                         version 1 (KRaft):   node.id, directory.id, version, cluster.id
    cluster.id=j3Yn1Si1S127EGkmOa4uDA

partition.metadata (``PartitionMetadataFile``), exactly 43 bytes, no trailing newline::

    version: 0\\ntopic_id: <22-char base64url uuid>

.kafka_cleanshutdown (``CleanShutdownFileHandler``): 3.7+ ``{"version":0,"brokerEpoch":-1}`` (ZK mode),
empty before 3.7.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from kafkatools.storage.errors import InconsistentMetadataError, MetadataFileError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem

CLEAN_SHUTDOWN_ZK: Final = b'{"version":0,"brokerEpoch":-1}'
_KEY_ORDER: Final = ("broker.id", "node.id", "directory.id", "version", "cluster.id")


# -- uuids -----------------------------------------------------------------------------------
def uuid_to_base64(raw: bytes) -> str:
    """Kafka's ``Uuid.toString``: URL-safe base64 of the 16 bytes without padding (22 characters)."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def uuid_from_base64(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except (ValueError, TypeError):
        raw = b""
    if len(text) != 22 or len(raw) != 16:
        raise MetadataFileError(f"{text!r} is not a base64url-encoded 16-byte uuid")
    return raw


def random_uuid(rand: Callable[[int], bytes] = os.urandom) -> str:
    """A random Kafka Uuid string, never the reserved zero/one ids nor one starting with '-' (as Kafka)."""
    while True:
        raw = bytearray(rand(16))
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # IETF variant
        text = uuid_to_base64(bytes(raw))
        if not text.startswith("-"):
            return text


# -- meta.properties -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetaProperties:
    version: int
    cluster_id: str | None
    node_id: int | None  # broker.id (v0) or node.id (v1)
    directory_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_properties(text: str) -> dict[str, str]:
    """The subset of java.util.Properties syntax that meta.properties uses: comments, ``k=v`` / ``k:v``."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        key, value = (line[:cut], line[cut + 1 :]) if cut >= 0 else (line, "")
        props[key.strip()] = value.strip()
    return props


def parse_meta_properties(data: bytes, where: str = "<bytes>") -> MetaProperties:
    props = parse_properties(data.decode("latin-1"))
    try:
        version = int(props.pop("version"))
        if version not in (0, 1):
            raise ValueError(f"unsupported version {version}")
        id_key = "broker.id" if version == 0 else "node.id"
        node = props.pop(id_key, None)
        if version == 1 and node is None:
            raise ValueError("node.id is missing")
        return MetaProperties(version, props.pop("cluster.id", None), None if node is None else int(node),
                              props.pop("directory.id", None), props)
    except (KeyError, ValueError) as e:
        raise MetadataFileError(f"Malformed meta.properties in {where}: {e}") from None


def format_meta_properties(meta: MetaProperties, now: float | None = None) -> bytes:
    values: dict[str, str] = dict(meta.extra)
    if meta.node_id is not None:
        values["broker.id" if meta.version == 0 else "node.id"] = str(meta.node_id)
    if meta.directory_id is not None:
        values["directory.id"] = meta.directory_id
    values["version"] = str(meta.version)
    if meta.cluster_id is not None:
        values["cluster.id"] = meta.cluster_id
    keys = [k for k in _KEY_ORDER if k in values] + sorted(k for k in values if k not in _KEY_ORDER)
    date = time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(now))
    return ("#\n#" + date + "\n" + "".join(f"{k}={values[k]}\n" for k in keys)).encode("latin-1")


def read_meta_properties(path: str, fs: FileSystem = DEFAULT_FS) -> MetaProperties | None:
    if not fs.exists(path):
        return None
    return parse_meta_properties(fs.read_bytes(path), path)


def write_meta_properties(path: str, meta: MetaProperties, fs: FileSystem = DEFAULT_FS) -> None:
    fs.write_atomic(path, format_meta_properties(meta))


def check_meta_properties(meta: MetaProperties, path: str, cluster_id: str | None, node_id: int | None) -> None:
    """Raise InconsistentMetadataError when a dir's stored identity disagrees with the expected one."""
    if cluster_id is not None and meta.cluster_id is not None and meta.cluster_id != cluster_id:
        raise InconsistentMetadataError(
            f"Invalid cluster.id in: {path}. Expected {cluster_id}, but read {meta.cluster_id}")
    if node_id is not None and meta.node_id is not None and meta.node_id != node_id:
        raise InconsistentMetadataError(
            f"Stored node id {meta.node_id} doesn't match previous node id {node_id} in {path}. If you moved your "
            "data, make sure your configured node id matches. If you intend to create a new node, you should "
            "remove all data in your data directories.")


# -- partition.metadata ----------------------------------------------------------------------
def format_partition_metadata(topic_id: str) -> bytes:
    uuid_from_base64(topic_id)
    return f"version: 0\ntopic_id: {topic_id}".encode("ascii")


def parse_partition_metadata(data: bytes, where: str = "<bytes>") -> str:
    """The topic id stored in a partition.metadata file."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if len(lines) < 2 or lines[0].strip() != "version: 0":
        raise MetadataFileError(f"Unrecognized version or format of partition.metadata ({where}): {lines[0]!r}")
    key, _, value = lines[1].partition(":")
    if key.strip() != "topic_id":
        raise MetadataFileError(f"Malformed partition.metadata ({where}): expected 'topic_id: <uuid>'")
    try:
        uuid_from_base64(value.strip())
    except MetadataFileError as e:
        raise MetadataFileError(f"Malformed partition.metadata ({where}): {e}") from None
    return value.strip()


def read_partition_metadata(path: str, fs: FileSystem = DEFAULT_FS) -> str | None:
    if not fs.exists(path):
        return None
    return parse_partition_metadata(fs.read_bytes(path), path)


def write_partition_metadata(path: str, topic_id: str, fs: FileSystem = DEFAULT_FS) -> None:
    fs.write_atomic(path, format_partition_metadata(topic_id))


# -- .kafka_cleanshutdown --------------------------------------------------------------------
def parse_clean_shutdown(data: bytes, where: str = "<bytes>") -> int:
    """The broker epoch recorded in the marker; -1 for the pre-3.7 empty marker."""
    if not data.strip():
        return -1
    try:
        doc = json.loads(data)
        return int(doc.get("brokerEpoch", -1))
    except (ValueError, AttributeError, TypeError) as e:
        raise MetadataFileError(f"Malformed clean shutdown file {where}: {e}") from None


def format_clean_shutdown(broker_epoch: int = -1) -> bytes:
    return json.dumps({"version": 0, "brokerEpoch": broker_epoch}, separators=(",", ":")).encode("ascii")
