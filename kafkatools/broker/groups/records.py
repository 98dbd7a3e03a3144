"""``__consumer_offsets`` records, written the way Kafka 3.9's group coordinator writes them.

Keys and values are classic (non-flexible) Kafka structures, each prefixed by an int16 version::

    OffsetCommitKey v1      group string, topic string, partition int32
    OffsetCommitValue v3    offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
    GroupMetadataKey v2     group string
    GroupMetadataValue v3   protocolType string, generation int32, protocol string?, leader string?,
                            currentStateTimestamp int64, members [memberId string, groupInstanceId
                            string?, clientId string, clientHost string, rebalanceTimeout int32,
                            sessionTimeout int32, subscription bytes, assignment bytes]

A null value (tombstone) deletes the key.  Readers accept the older value versions too (v0-v2:
no leader epoch; v1 carries an expire timestamp), because logs written by older brokers have them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kafkatools import errors

_H = struct.Struct(">h")
_I = struct.Struct(">i")
_Q = struct.Struct(">q")


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def i16(self, v: int) -> _Writer:
        self.out += _H.pack(v)
        return self

    def i32(self, v: int) -> _Writer:
        self.out += _I.pack(v)
        return self

    def i64(self, v: int) -> _Writer:
        self.out += _Q.pack(v)
        return self

    def string(self, v: str | None) -> _Writer:
        if v is None:
            return self.i16(-1)
        data = v.encode()
        self.out += _H.pack(len(data)) + data
        return self

    def blob(self, v: bytes | None) -> _Writer:
        if v is None:
            return self.i32(-1)
        self.out += _I.pack(len(v)) + v
        return self


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise errors.CorruptRecordError("truncated __consumer_offsets record")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def i16(self) -> int:
        return int(_H.unpack(self._take(2))[0])

    def i32(self) -> int:
        return int(_I.unpack(self._take(4))[0])

    def i64(self) -> int:
        return int(_Q.unpack(self._take(8))[0])

    def string(self) -> str | None:
        n = self.i16()
        return None if n < 0 else self._take(n).decode("utf-8", "replace")

    def blob(self) -> bytes | None:
        n = self.i32()
        return None if n < 0 else self._take(n)


@dataclass(frozen=True, slots=True)
class OffsetKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class GroupKey:
    group: str


@dataclass(frozen=True, slots=True)
class OffsetValue:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int = -1


@dataclass(frozen=True, slots=True)
class MemberValue:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout: int
    session_timeout: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp: int
    members: tuple[MemberValue, ...]


def offset_key(group: str, topic: str, partition: int) -> bytes:
    return bytes(_Writer().i16(1).string(group).string(topic).i32(partition).out)


def group_key(group: str) -> bytes:
    return bytes(_Writer().i16(2).string(group).out)


def offset_value(v: OffsetValue) -> bytes:
    return bytes(_Writer().i16(3).i64(v.offset).i32(v.leader_epoch).string(v.metadata).i64(v.commit_timestamp).out)


def group_value(v: GroupValue) -> bytes:
    w = _Writer().i16(3).string(v.protocol_type).i32(v.generation).string(v.protocol).string(v.leader)
    w.i64(v.current_state_timestamp).i32(len(v.members))
    for m in v.members:
        w.string(m.member_id).string(m.group_instance_id).string(m.client_id).string(m.client_host)
        w.i32(m.rebalance_timeout).i32(m.session_timeout).blob(m.subscription).blob(m.assignment)
    return bytes(w.out)


def decode_key(data: bytes) -> OffsetKey | GroupKey:
    r = _Reader(data)
    version = r.i16()
    if version in (0, 1):
        return OffsetKey(r.string() or "", r.string() or "", r.i32())
    if version == 2:
        return GroupKey(r.string() or "")
    raise errors.CorruptRecordError(f"unknown __consumer_offsets key version {version}")


def decode_offset_value(data: bytes) -> OffsetValue:
    r = _Reader(data)
    version = r.i16()
    if not 0 <= version <= 3:
        raise errors.CorruptRecordError(f"unsupported OffsetCommitValue version {version}")
    offset = r.i64()
    epoch = r.i32() if version >= 3 else -1
    metadata = r.string() or ""
    commit_ts = r.i64()
    expire_ts = r.i64() if version == 1 else -1
    return OffsetValue(offset, epoch, metadata, commit_ts, expire_ts)


def decode_group_value(data: bytes) -> GroupValue:
    r = _Reader(data)
    version = r.i16()
    if not 0 <= version <= 3:
        raise errors.CorruptRecordError(f"unsupported GroupMetadataValue version {version}")
    protocol_type = r.string() or ""
    generation = r.i32()
    protocol = r.string()
    leader = r.string()
    state_ts = r.i64() if version >= 2 else -1
    members = []
    for _ in range(max(r.i32(), 0)):
        member_id = r.string() or ""
        instance = r.string() if version >= 3 else None
        client_id = r.string() or ""
        host = r.string() or ""
        rebalance = r.i32() if version >= 1 else -1
        session = r.i32()
        members.append(MemberValue(member_id, instance, client_id, host, rebalance, session,
                                   r.blob() or b"", r.blob() or b""))
    return GroupValue(protocol_type, generation, protocol, leader, state_ts, tuple(members))
