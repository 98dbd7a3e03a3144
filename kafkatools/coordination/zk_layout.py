"""The cluster-core znode payloads, built and parsed as Kafka 3.9 writes them (``kafka.zk.ZkData``).

Layouts (compact JSON, UTF-8; key order as real 3.9 clusters show it -- Kafka serialises Scala hash
maps, so order is not significant to readers, but we write the observed bytes):

  /brokers/ids/<id>        ephemeral, v5:
      {"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h:9092"],
       "jmx_port":-1,"features":{},"host":"h","timestamp":"1729500000000","port":9092,"version":5}
      (+"rack":"r1"; v4 = no "features"; v2 = no map, listener names are protocols; v1 = host/port only)
      host/port = the first PLAINTEXT endpoint, else null/-1.  czxid of this node = the broker epoch.
  /brokers/topics/<t>      v3: {"removing_replicas":{},"partitions":{"0":[1,2]},"topic_id":"<22 chars>",
                                "adding_replicas":{},"version":3}   (v2 no topic_id; v1 partitions only)
  .../partitions/<p>/state {"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}
                           (+"leader_recovery_state":1 only while RECOVERING); its zkVersion = partition epoch
  /controller              ephemeral, v2: {"version":2,"brokerid":1,"timestamp":"…","kraftControllerEpoch":-1}
  /controller_epoch        bare decimal text, e.g. 3
  /cluster/id              {"version":"1","id":"<22 chars>"}   -- "version" is a string
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from kafkatools.coordination import _json as j
from kafkatools.coordination.errors import CoordinationError

NO_LEADER = -1
LEADER_RECOVERED = 0
LEADER_RECOVERING = 1


def random_uuid(rng: random.Random | None = None) -> str:
    """Kafka's ``Uuid.randomUuid().toString``: 16 random bytes as unpadded base64url (22 chars).

    As Kafka does, never returns the all-zero id, the metadata topic's id (…0001) or one starting with '-'.
    """
    while True:
        raw = rng.randbytes(16) if rng else uuid.uuid4().bytes
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if raw not in (bytes(16), bytes(15) + b"\x01") and not text.startswith("-"):
            return text


# --- /brokers/ids/<id> -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    listener: str  # listener name, e.g. PLAINTEXT or INTERNAL
    host: str
    port: int
    security_protocol: str

    def connection_string(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listener}://{host}:{self.port}"


def parse_endpoint(path: str, text: str, protocol_map: dict[str, str] | None) -> Endpoint:
    """``LISTENER://host:port`` (IPv6 in brackets; empty host allowed); protocol from the map, else the name."""
    listener, sep, rest = text.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or not colon or not port.isdigit() or not listener:
        raise CoordinationError(f"endpoint {text!r} is not LISTENER://host:port", path)
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    protocol = (protocol_map or {}).get(listener, listener)
    if protocol_map is not None and listener not in protocol_map:
        raise CoordinationError(f"endpoint {text!r}: {listener} is not in listener_security_protocol_map", path)
    return Endpoint(listener, host, int(port), protocol)


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    broker_id: int
    endpoints: tuple[Endpoint, ...]
    timestamp_ms: int
    jmx_port: int = -1
    rack: str | None = None
    features: dict[str, Any] = field(default_factory=dict)  # v5: name -> {"min_version":…, "max_version":…}
    version: int = 5

    @property
    def plaintext(self) -> Endpoint | None:
        return next((e for e in self.endpoints if e.security_protocol == "PLAINTEXT"), None)


def encode_broker(reg: BrokerRegistration) -> bytes:
    """v4 or v5 (``reg.version``), in the key order of a real 3.9 broker."""
    if reg.version not in (4, 5):
        raise CoordinationError(f"can only write broker registrations v4 and v5, not v{reg.version}")
    plain = reg.plaintext
    obj: dict[str, Any] = {
        "listener_security_protocol_map": {e.listener: e.security_protocol for e in reg.endpoints},
        "endpoints": [e.connection_string() for e in reg.endpoints],
        "jmx_port": reg.jmx_port,
    }
    if reg.version >= 5:
        obj["features"] = reg.features
    obj["host"] = plain.host if plain else None
    obj["timestamp"] = str(reg.timestamp_ms)
    obj["port"] = plain.port if plain else -1
    if reg.rack is not None:
        obj["rack"] = reg.rack
    obj["version"] = reg.version
    return j.dumps(obj)


def decode_broker(path: str, broker_id: int, data: bytes | None) -> BrokerRegistration:
    """Any version 1-5 (0.8's host/port-only form becomes one PLAINTEXT endpoint)."""
    obj = j.load_object(path, data)
    version = j.version(path, obj, (1, 2, 3, 4, 5))
    timestamp = j.long_text_field(path, obj, "timestamp") if "timestamp" in obj else -1
    jmx = j.int_field(path, obj, "jmx_port", -1)
    if version == 1:
        host, port = j.str_field(path, obj, "host"), j.int_field(path, obj, "port")
        return BrokerRegistration(broker_id, (Endpoint("PLAINTEXT", host, port, "PLAINTEXT"),), timestamp, jmx,
                                  version=1)
    protocol_map: dict[str, str] | None = None
    if version >= 4:
        raw_map = j.dict_field(path, obj, "listener_security_protocol_map")
        if not all(isinstance(v, str) for v in raw_map.values()):
            raise CoordinationError("listener_security_protocol_map values must be strings", path)
        protocol_map = raw_map
    raw_endpoints = j.field(path, obj, "endpoints")
    if not isinstance(raw_endpoints, list) or not all(isinstance(e, str) for e in raw_endpoints):
        raise CoordinationError(f"field 'endpoints' must be a list of strings, found {raw_endpoints!r}", path)
    endpoints = tuple(parse_endpoint(path, e, protocol_map) for e in raw_endpoints)
    rack = j.opt_str_field(path, obj, "rack")
    features = j.dict_field(path, obj, "features", {}) if version >= 5 else {}
    return BrokerRegistration(broker_id, endpoints, timestamp, jmx, rack, features, version)


def generated_broker_id(seqid_version: int, reserved_broker_max_id: int = 1000) -> int:
    """``broker.id`` auto-generation: the zkVersion returned by setData on /brokers/seqid + the reserved range."""
    return reserved_broker_max_id + seqid_version


# --- /brokers/topics/<t> -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicAssignment:
    partitions: dict[int, list[int]]  # partition -> replicas, preferred leader first
    topic_id: str | None = None
    adding_replicas: dict[int, list[int]] = field(default_factory=dict)
    removing_replicas: dict[int, list[int]] = field(default_factory=dict)


def _pmap(m: dict[int, list[int]]) -> dict[str, list[int]]:
    return {str(p): list(r) for p, r in sorted(m.items())}


def encode_topic(assignment: TopicAssignment) -> bytes:
    """v3 when there is a topic id (IBP >= 2.8, what 3.9 writes), else v2."""
    obj: dict[str, Any] = {
        "removing_replicas": _pmap(assignment.removing_replicas),
        "partitions": _pmap(assignment.partitions),
    }
    if assignment.topic_id is not None:
        obj["topic_id"] = assignment.topic_id
    obj["adding_replicas"] = _pmap(assignment.adding_replicas)
    obj["version"] = 3 if assignment.topic_id is not None else 2
    return j.dumps(obj)


def decode_topic(path: str, data: bytes | None) -> TopicAssignment:
    obj = j.load_object(path, data)
    version = j.version(path, obj, (1, 2, 3))
    partitions = j.partition_map(path, obj, "partitions")
    if not partitions:
        raise CoordinationError("topic has no partitions", path)
    topic_id = j.opt_str_field(path, obj, "topic_id") if version >= 3 else None
    adding = j.partition_map(path, obj, "adding_replicas") if version >= 2 else {}
    removing = j.partition_map(path, obj, "removing_replicas") if version >= 2 else {}
    return TopicAssignment(partitions, topic_id, adding, removing)


# --- /brokers/topics/<t>/partitions/<p>/state --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionState:
    leader: int
    leader_epoch: int
    isr: list[int]
    controller_epoch: int
    leader_recovery_state: int = LEADER_RECOVERED


def encode_partition_state(state: PartitionState) -> bytes:
    obj: dict[str, Any] = {
        "controller_epoch": state.controller_epoch,
        "leader": state.leader,
        "version": 1,
        "leader_epoch": state.leader_epoch,
        "isr": list(state.isr),
    }
    if state.leader_recovery_state == LEADER_RECOVERING:
        obj["leader_recovery_state"] = LEADER_RECOVERING
    return j.dumps(obj)


def decode_partition_state(path: str, data: bytes | None) -> PartitionState:
    obj = j.load_object(path, data)
    j.version(path, obj, (1,))
    recovery = j.int_field(path, obj, "leader_recovery_state", LEADER_RECOVERED)
    if recovery not in (LEADER_RECOVERED, LEADER_RECOVERING):
        raise CoordinationError(f"leader_recovery_state must be 0 or 1, found {recovery}", path)
    return PartitionState(
        leader=j.int_field(path, obj, "leader"),
        leader_epoch=j.int_field(path, obj, "leader_epoch"),
        isr=j.int_list(path, j.field(path, obj, "isr"), "isr"),
        controller_epoch=j.int_field(path, obj, "controller_epoch"),
        leader_recovery_state=recovery,
    )


# --- /controller, /controller_epoch, /cluster/id -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ControllerRegistration:
    broker_id: int
    timestamp_ms: int
    kraft_controller_epoch: int = -1


def encode_controller(reg: ControllerRegistration) -> bytes:
    return j.dumps({"version": 2, "brokerid": reg.broker_id, "timestamp": str(reg.timestamp_ms),
                    "kraftControllerEpoch": reg.kraft_controller_epoch})


def decode_controller(path: str, data: bytes | None) -> ControllerRegistration:
    obj = j.load_object(path, data)
    version = j.version(path, obj, (1, 2))
    timestamp = j.long_text_field(path, obj, "timestamp") if "timestamp" in obj else -1
    kraft = j.int_field(path, obj, "kraftControllerEpoch", -1) if version >= 2 else -1
    return ControllerRegistration(j.int_field(path, obj, "brokerid"), timestamp, kraft)


def encode_int_text(value: int) -> bytes:
    """/controller_epoch and the 0.8 consumer offsets: bare decimal text."""
    return str(value).encode()


def decode_int_text(path: str, data: bytes | None) -> int:
    text = (data or b"").decode("utf-8", errors="replace").strip()
    if not text.lstrip("-").isdigit():
        raise CoordinationError(f"expected a decimal number, found {text!r}", path)
    return int(text)


def encode_cluster_id(cluster_id: str) -> bytes:
    return j.dumps({"version": "1", "id": cluster_id})


def decode_cluster_id(path: str, data: bytes | None) -> str:
    obj = j.load_object(path, data)
    if str(obj.get("version")) != "1":
        raise CoordinationError(f"unsupported cluster id version {obj.get('version')!r}", path)
    return j.str_field(path, obj, "id")
