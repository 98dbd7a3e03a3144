"""The key/value records Kafka's coordinators write to ``__consumer_offsets`` and ``__transaction_state``.

Only tools read these (``kafka-dump-log --offsets-decoder`` / ``--transaction-log-decoder``), so they
are decoded here by a small table interpreter instead of the generated protocol codec (storage may
not import codec).  The tables follow Kafka 3.9's coordinator-record JSON definitions
(group-coordinator ``OffsetCommitKey``/``OffsetCommitValue``/``GroupMetadataKey``/``GroupMetadataValue``,
transaction-coordinator ``TransactionLogKey``/``TransactionLogValue``) and, for members of "consumer"
groups, ``ConsumerProtocolSubscription``/``ConsumerProtocolAssignment``.

Layout: key = ``version int16`` + key struct, value = ``version int16`` + value struct (null value =
tombstone).  ``__consumer_offsets`` key versions 0-1 are offset commits, 2 is group metadata.
Classic encoding (int16 string length, int32 bytes/array length, -1 = null); from a value's flexible
version on (OffsetCommitValue 4, GroupMetadataValue 4, TransactionLogValue 1) lengths are unsigned
varints of n+1 (0 = null) and every struct ends with a tagged-field section, skipped here.

Output mirrors Kafka's dump-log JSON: key ``{"type":"<key version>","data":{...}}``, value
``{"version":"<value version>","data":{...}}`` with the schema's field names in camelCase; bytes are
base64 as Jackson writes them; a tombstone value prints ``<DELETE>``.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Final, NamedTuple

from kafkatools.errors import CorruptRecordError

TOMBSTONE: Final = "<DELETE>"


class F(NamedTuple):
    """One schema field: JSON name, type, versions [low, high], nullable from version, sub-fields."""

    name: str
    type: str  # int8 int16 int32 int64 string bytes [] (struct array) []int32 []string
    low: int = 0
    high: int = 32767
    nullable_from: int = 32768
    fields: tuple[F, ...] = ()


_TOPIC_PARTITIONS: Final = (F("topic", "string"), F("partitions", "[]int32"))

OFFSET_COMMIT_KEY: Final = (F("group", "string"), F("topic", "string"), F("partition", "int32"))
OFFSET_COMMIT_VALUE: Final = (
    F("offset", "int64"), F("leaderEpoch", "int32", 3), F("metadata", "string"),
    F("commitTimestamp", "int64"), F("expireTimestamp", "int64", 1, 1),
)
GROUP_METADATA_KEY: Final = (F("group", "string"),)
_MEMBER: Final = (
    F("memberId", "string"), F("groupInstanceId", "string", 3, nullable_from=3), F("clientId", "string"),
    F("clientHost", "string"), F("rebalanceTimeout", "int32", 1), F("sessionTimeout", "int32"),
    F("subscription", "bytes"), F("assignment", "bytes"),
)
GROUP_METADATA_VALUE: Final = (
    F("protocolType", "string"), F("generation", "int32"), F("protocol", "string", nullable_from=0),
    F("leader", "string", nullable_from=0), F("currentStateTimestamp", "int64", 2), F("members", "[]", fields=_MEMBER),
)
TRANSACTION_LOG_KEY: Final = (F("transactionalId", "string"),)
TRANSACTION_LOG_VALUE: Final = (
    F("producerId", "int64"), F("producerEpoch", "int16"), F("transactionTimeoutMs", "int32"),
    F("transactionStatus", "int8"),
    F("transactionPartitions", "[]", nullable_from=0, fields=(F("topic", "string"), F("partitionIds", "[]int32"))),
    F("transactionLastUpdateTimestampMs", "int64"), F("transactionStartTimestampMs", "int64"),
)
CONSUMER_SUBSCRIPTION: Final = (
    F("topics", "[]string"), F("userData", "bytes", nullable_from=0),
    F("ownedPartitions", "[]", 1, fields=_TOPIC_PARTITIONS), F("generationId", "int32", 2),
    F("rackId", "string", 3, nullable_from=3),
)
CONSUMER_ASSIGNMENT: Final = (F("assignedPartitions", "[]", fields=_TOPIC_PARTITIONS),
                              F("userData", "bytes", nullable_from=0))

_INTS: Final = {"int8": struct.Struct(">b"), "int16": struct.Struct(">h"), "int32": struct.Struct(">i"),
                "int64": struct.Struct(">q")}


class _Reader:
    def __init__(self, data: bytes, flexible: bool) -> None:
        self.data = data
        self.pos = 0
        self.flexible = flexible

    def fixed(self, kind: str) -> int:
        s = _INTS[kind]
        if self.pos + s.size > len(self.data):
            raise CorruptRecordError(f"record ends inside an {kind} at byte {self.pos}")
        value: int = s.unpack_from(self.data, self.pos)[0]
        self.pos += s.size
        return value

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data) or shift > 28:
                raise CorruptRecordError(f"bad unsigned varint at byte {self.pos}")
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def length(self, classic: str) -> int:
        """A length; -1 means null."""
        return self.uvarint() - 1 if self.flexible else self.fixed(classic)

    def raw(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise CorruptRecordError(f"length {n} at byte {self.pos} runs past the record")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.raw(self.uvarint())


def _read_value(r: _Reader, f: F, version: int) -> object:
    if f.type in _INTS:
        return r.fixed(f.type)
    if f.type in ("string", "bytes"):
        n = r.length("int16" if f.type == "string" else "int32")
        if n == -1 and version >= f.nullable_from:
            return None
        blob = r.raw(n)
        if f.type == "bytes":
            return base64.b64encode(blob).decode("ascii")
        return blob.decode("utf-8", "replace")
    n = r.length("int32")
    if n == -1 and version >= f.nullable_from:
        return None
    if n < 0 or n > len(r.data) - r.pos:
        raise CorruptRecordError(f"array of {n} items at byte {r.pos} runs past the record")
    if f.type == "[]int32":
        return [r.fixed("int32") for _ in range(n)]
    if f.type == "[]string":
        return [_read_value(r, F(f.name, "string"), version) for _ in range(n)]
    return [_read_struct(r, f.fields, version) for _ in range(n)]


def _read_struct(r: _Reader, fields: tuple[F, ...], version: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields:
        if f.low <= version <= f.high:
            out[f.name] = _read_value(r, f, version)
    if r.flexible:
        r.skip_tags()
    return out


def decode_struct(data: bytes, fields: tuple[F, ...], version: int, *, flexible: bool = False,
                  whole: bool = True) -> dict[str, object]:
    """Decode ``data`` (no version prefix) as ``fields`` at ``version``; CorruptRecordError if malformed."""
    r = _Reader(data, flexible)
    out = _read_struct(r, fields, version)
    if whole and r.pos != len(data):
        raise CorruptRecordError(f"{len(data) - r.pos} bytes left over after the record")
    return out


def _split_version(data: bytes, what: str) -> tuple[int, bytes]:
    if len(data) < 2:
        raise CorruptRecordError(f"{what} has {len(data)} bytes, too short for its version")
    return struct.unpack_from(">h", data)[0], data[2:]


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _consumer_members(members: object) -> None:
    """Replace base64 subscription/assignment of "consumer" group members by their decoded JSON."""
    if not isinstance(members, list):
        return
    for member in members:
        for name, fields in (("subscription", CONSUMER_SUBSCRIPTION), ("assignment", CONSUMER_ASSIGNMENT)):
            encoded = member.get(name)
            if not isinstance(encoded, str):
                continue
            try:
                version, body = _split_version(base64.b64decode(encoded), name)
                member[name] = decode_struct(body, fields, min(max(version, 0), 3), whole=False)
            except CorruptRecordError:
                pass  # not a consumer-protocol blob: keep the base64 text


def format_offsets_record(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """``(key, payload)`` text of one ``__consumer_offsets`` record, as dump-log's --offsets-decoder prints."""
    if key is None:
        raise CorruptRecordError("__consumer_offsets record has no key")
    key_version, key_body = _split_version(key, "key")
    key_fields: tuple[F, ...]
    value_fields: tuple[F, ...]
    if key_version in (0, 1):
        key_fields, value_fields, flexible_from = OFFSET_COMMIT_KEY, OFFSET_COMMIT_VALUE, 4
    elif key_version == 2:
        key_fields, value_fields, flexible_from = GROUP_METADATA_KEY, GROUP_METADATA_VALUE, 4
    else:
        return f"unknown::version={key_version}", None
    key_text = _dumps({"type": str(key_version), "data": decode_struct(key_body, key_fields, key_version)})
    if value is None:
        return key_text, TOMBSTONE
    value_version, value_body = _split_version(value, "value")
    data = decode_struct(value_body, value_fields, value_version, flexible=value_version >= flexible_from)
    if key_version == 2 and data.get("protocolType") == "consumer":
        _consumer_members(data.get("members"))
    return key_text, _dumps({"version": str(value_version), "data": data})


def format_transaction_record(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """``(key, payload)`` text of one ``__transaction_state`` record (--transaction-log-decoder)."""
    if key is None:
        raise CorruptRecordError("__transaction_state record has no key")
    key_version, key_body = _split_version(key, "key")
    if key_version != 0:
        return f"unknown::version={key_version}", None
    key_text = _dumps({"type": "0", "data": decode_struct(key_body, TRANSACTION_LOG_KEY, 0)})
    if value is None:
        return key_text, TOMBSTONE
    value_version, value_body = _split_version(value, "value")
    data = decode_struct(value_body, TRANSACTION_LOG_VALUE, value_version, flexible=value_version >= 1)
    return key_text, _dumps({"version": str(value_version), "data": data})


def format_metadata_record(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
    """``(None, payload)`` for a KRaft ``__cluster_metadata`` record: its frame (apiKey, version) only.

    A metadata record's value is ``frameVersion uvarint (1), apiKey uvarint, version uvarint, body``;
    the bodies (TopicRecord, PartitionRecord, ...) are not decoded by kafkatools, and the payload says so.
    """
    if value is None:
        return None, None
    r = _Reader(value, flexible=True)
    frame_version, api_key, version = r.uvarint(), r.uvarint(), r.uvarint()
    if frame_version != 1:
        raise CorruptRecordError(f"unknown metadata record frame version {frame_version}")
    return None, _dumps({"apiKey": api_key, "version": version,
                         "data": "not decoded: kafkatools does not decode KRaft metadata record bodies"})
