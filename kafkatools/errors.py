"""Kafka's error codes as one data table, and kafkatools' small exception tree.

Why a table and not a class per code: handlers and tools only ever need the code, its
name and whether a client may retry; a table keeps that in one place (franz-go's kerr
does the same).  Codes and names are Kafka 3.9's (``org.apache.kafka.common.protocol.Errors``).

Exception tree::

    KafkatoolsError                 anything this package raises on purpose
     +-- KafkaError                 carries an ErrorCode (broker answer, or a check failing)
     |    +-- CorruptRecordError    a record batch / message set is malformed (CORRUPT_MESSAGE)
     +-- ProtocolError              a frame could not be decoded/encoded; names api, version, field path
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of Kafka's error table."""

    code: int
    name: str
    retriable: bool

    def __str__(self) -> str:
        return self.name


_ROWS: Final[tuple[tuple[int, str, bool], ...]] = (
    (-1, "UNKNOWN_SERVER_ERROR", False),
    (0, "NONE", False),
    (1, "OFFSET_OUT_OF_RANGE", False),
    (2, "CORRUPT_MESSAGE", True),
    (3, "UNKNOWN_TOPIC_OR_PARTITION", True),
    (4, "INVALID_FETCH_SIZE", False),
    (5, "LEADER_NOT_AVAILABLE", True),
    (6, "NOT_LEADER_OR_FOLLOWER", True),
    (7, "REQUEST_TIMED_OUT", True),
    (8, "BROKER_NOT_AVAILABLE", False),
    (9, "REPLICA_NOT_AVAILABLE", True),
    (10, "MESSAGE_TOO_LARGE", False),
    (11, "STALE_CONTROLLER_EPOCH", False),
    (12, "OFFSET_METADATA_TOO_LARGE", False),
    (13, "NETWORK_EXCEPTION", True),
    (14, "COORDINATOR_LOAD_IN_PROGRESS", True),
    (15, "COORDINATOR_NOT_AVAILABLE", True),
    (16, "NOT_COORDINATOR", True),
    (17, "INVALID_TOPIC_EXCEPTION", False),
    (18, "RECORD_LIST_TOO_LARGE", False),
    (19, "NOT_ENOUGH_REPLICAS", True),
    (20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", True),
    (21, "INVALID_REQUIRED_ACKS", False),
    (22, "ILLEGAL_GENERATION", False),
    (23, "INCONSISTENT_GROUP_PROTOCOL", False),
    (24, "INVALID_GROUP_ID", False),
    (25, "UNKNOWN_MEMBER_ID", False),
    (26, "INVALID_SESSION_TIMEOUT", False),
    (27, "REBALANCE_IN_PROGRESS", False),
    (28, "INVALID_COMMIT_OFFSET_SIZE", False),
    (29, "TOPIC_AUTHORIZATION_FAILED", False),
    (30, "GROUP_AUTHORIZATION_FAILED", False),
    (31, "CLUSTER_AUTHORIZATION_FAILED", False),
    (32, "INVALID_TIMESTAMP", False),
    (33, "UNSUPPORTED_SASL_MECHANISM", False),
    (34, "ILLEGAL_SASL_STATE", False),
    (35, "UNSUPPORTED_VERSION", False),
    (36, "TOPIC_ALREADY_EXISTS", False),
    (37, "INVALID_PARTITIONS", False),
    (38, "INVALID_REPLICATION_FACTOR", False),
    (39, "INVALID_REPLICA_ASSIGNMENT", False),
    (40, "INVALID_CONFIG", False),
    (41, "NOT_CONTROLLER", True),
    (42, "INVALID_REQUEST", False),
    (43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", False),
    (44, "POLICY_VIOLATION", False),
    (45, "OUT_OF_ORDER_SEQUENCE_NUMBER", False),
    (46, "DUPLICATE_SEQUENCE_NUMBER", False),
    (47, "INVALID_PRODUCER_EPOCH", False),
    (48, "INVALID_TXN_STATE", False),
    (49, "INVALID_PRODUCER_ID_MAPPING", False),
    (50, "INVALID_TRANSACTION_TIMEOUT", False),
    (51, "CONCURRENT_TRANSACTIONS", True),
    (52, "TRANSACTION_COORDINATOR_FENCED", False),
    (53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", False),
    (54, "SECURITY_DISABLED", False),
    (55, "OPERATION_NOT_ATTEMPTED", False),
    (56, "KAFKA_STORAGE_ERROR", True),
    (57, "LOG_DIR_NOT_FOUND", False),
    (58, "SASL_AUTHENTICATION_FAILED", False),
    (59, "UNKNOWN_PRODUCER_ID", False),
    (60, "REASSIGNMENT_IN_PROGRESS", False),
    (61, "DELEGATION_TOKEN_AUTH_DISABLED", False),
    (62, "DELEGATION_TOKEN_NOT_FOUND", False),
    (63, "DELEGATION_TOKEN_OWNER_MISMATCH", False),
    (64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", False),
    (65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", False),
    (66, "DELEGATION_TOKEN_EXPIRED", False),
    (67, "INVALID_PRINCIPAL_TYPE", False),
    (68, "NON_EMPTY_GROUP", False),
    (69, "GROUP_ID_NOT_FOUND", False),
    (70, "FETCH_SESSION_ID_NOT_FOUND", True),
    (71, "INVALID_FETCH_SESSION_EPOCH", True),
    (72, "LISTENER_NOT_FOUND", True),
    (73, "TOPIC_DELETION_DISABLED", False),
    (74, "FENCED_LEADER_EPOCH", True),
    (75, "UNKNOWN_LEADER_EPOCH", True),
    (76, "UNSUPPORTED_COMPRESSION_TYPE", False),
    (77, "STALE_BROKER_EPOCH", False),
    (78, "OFFSET_NOT_AVAILABLE", True),
    (79, "MEMBER_ID_REQUIRED", False),
    (80, "PREFERRED_LEADER_NOT_AVAILABLE", True),
    (81, "GROUP_MAX_SIZE_REACHED", False),
    (82, "FENCED_INSTANCE_ID", False),
    (83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", True),
    (84, "ELECTION_NOT_NEEDED", True),
    (85, "NO_REASSIGNMENT_IN_PROGRESS", False),
    (86, "GROUP_SUBSCRIBED_TO_TOPIC", False),
    (87, "INVALID_RECORD", False),
    (88, "UNSTABLE_OFFSET_COMMIT", True),
    (89, "THROTTLING_QUOTA_EXCEEDED", True),
    (90, "PRODUCER_FENCED", False),
    (91, "RESOURCE_NOT_FOUND", False),
    (92, "DUPLICATE_RESOURCE", False),
    (93, "UNACCEPTABLE_CREDENTIAL", False),
    (94, "INCONSISTENT_VOTER_SET", False),
    (95, "INVALID_UPDATE_VERSION", False),
    (96, "FEATURE_UPDATE_FAILED", False),
    (97, "PRINCIPAL_DESERIALIZATION_FAILURE", False),
    (98, "SNAPSHOT_NOT_FOUND", False),
    (99, "POSITION_OUT_OF_RANGE", False),
    (100, "UNKNOWN_TOPIC_ID", True),
    (101, "DUPLICATE_BROKER_REGISTRATION", False),
    (102, "BROKER_ID_NOT_REGISTERED", False),
    (103, "INCONSISTENT_TOPIC_ID", True),
    (104, "INCONSISTENT_CLUSTER_ID", False),
    (105, "TRANSACTIONAL_ID_NOT_FOUND", False),
    (106, "FETCH_SESSION_TOPIC_ID_ERROR", True),
    (107, "INELIGIBLE_REPLICA", False),
    (108, "NEW_LEADER_ELECTED", False),
    (109, "OFFSET_MOVED_TO_TIERED_STORAGE", False),
    (110, "FENCED_MEMBER_EPOCH", False),
    (111, "UNRELEASED_INSTANCE_ID", False),
    (112, "UNSUPPORTED_ASSIGNOR", False),
    (113, "STALE_MEMBER_EPOCH", False),
    (114, "MISMATCHED_ENDPOINT_TYPE", False),
    (115, "UNSUPPORTED_ENDPOINT_TYPE", False),
    (116, "UNKNOWN_CONTROLLER_ID", False),
    (117, "UNKNOWN_SUBSCRIPTION_ID", False),
    (118, "TELEMETRY_TOO_LARGE", False),
    (119, "INVALID_REGISTRATION", False),
    (120, "TRANSACTION_ABORTABLE", False),
    (121, "INVALID_RECORD_STATE", False),
    (122, "SHARE_SESSION_NOT_FOUND", True),
    (123, "INVALID_SHARE_SESSION_EPOCH", True),
    (124, "FENCED_STATE_EPOCH", False),
    (125, "INVALID_VOTER_KEY", False),
    (126, "DUPLICATE_VOTER", False),
    (127, "VOTER_NOT_FOUND", False),
)

BY_CODE: Final[dict[int, ErrorCode]] = {c: ErrorCode(c, n, r) for c, n, r in _ROWS}
BY_NAME: Final[dict[str, ErrorCode]] = {e.name: e for e in BY_CODE.values()}


def error_for(code: int) -> ErrorCode:
    """The row for ``code``; an unknown code gets a synthetic, non-retriable row."""
    found = BY_CODE.get(code)
    return found if found is not None else ErrorCode(code, f"UNKNOWN_ERROR_CODE_{code}", False)


def _named(name: str) -> ErrorCode:
    return BY_NAME[name]


# The codes the broker and tools name in code; spelled once here so a typo is an import error.
NONE: Final = _named("NONE")
UNKNOWN_SERVER_ERROR: Final = _named("UNKNOWN_SERVER_ERROR")
OFFSET_OUT_OF_RANGE: Final = _named("OFFSET_OUT_OF_RANGE")
CORRUPT_MESSAGE: Final = _named("CORRUPT_MESSAGE")
UNKNOWN_TOPIC_OR_PARTITION: Final = _named("UNKNOWN_TOPIC_OR_PARTITION")
LEADER_NOT_AVAILABLE: Final = _named("LEADER_NOT_AVAILABLE")
NOT_LEADER_OR_FOLLOWER: Final = _named("NOT_LEADER_OR_FOLLOWER")
REQUEST_TIMED_OUT: Final = _named("REQUEST_TIMED_OUT")
MESSAGE_TOO_LARGE: Final = _named("MESSAGE_TOO_LARGE")
COORDINATOR_NOT_AVAILABLE: Final = _named("COORDINATOR_NOT_AVAILABLE")
NOT_COORDINATOR: Final = _named("NOT_COORDINATOR")
INVALID_TOPIC_EXCEPTION: Final = _named("INVALID_TOPIC_EXCEPTION")
RECORD_LIST_TOO_LARGE: Final = _named("RECORD_LIST_TOO_LARGE")
NOT_ENOUGH_REPLICAS: Final = _named("NOT_ENOUGH_REPLICAS")
NOT_ENOUGH_REPLICAS_AFTER_APPEND: Final = _named("NOT_ENOUGH_REPLICAS_AFTER_APPEND")
INVALID_REQUIRED_ACKS: Final = _named("INVALID_REQUIRED_ACKS")
INVALID_TIMESTAMP: Final = _named("INVALID_TIMESTAMP")
UNSUPPORTED_VERSION: Final = _named("UNSUPPORTED_VERSION")
TOPIC_ALREADY_EXISTS: Final = _named("TOPIC_ALREADY_EXISTS")
INVALID_PARTITIONS: Final = _named("INVALID_PARTITIONS")
INVALID_REPLICATION_FACTOR: Final = _named("INVALID_REPLICATION_FACTOR")
INVALID_REPLICA_ASSIGNMENT: Final = _named("INVALID_REPLICA_ASSIGNMENT")
INVALID_CONFIG: Final = _named("INVALID_CONFIG")
NOT_CONTROLLER: Final = _named("NOT_CONTROLLER")
INVALID_REQUEST: Final = _named("INVALID_REQUEST")
OUT_OF_ORDER_SEQUENCE_NUMBER: Final = _named("OUT_OF_ORDER_SEQUENCE_NUMBER")
DUPLICATE_SEQUENCE_NUMBER: Final = _named("DUPLICATE_SEQUENCE_NUMBER")
INVALID_PRODUCER_EPOCH: Final = _named("INVALID_PRODUCER_EPOCH")
KAFKA_STORAGE_ERROR: Final = _named("KAFKA_STORAGE_ERROR")
UNKNOWN_PRODUCER_ID: Final = _named("UNKNOWN_PRODUCER_ID")
TOPIC_DELETION_DISABLED: Final = _named("TOPIC_DELETION_DISABLED")
FENCED_LEADER_EPOCH: Final = _named("FENCED_LEADER_EPOCH")
UNKNOWN_LEADER_EPOCH: Final = _named("UNKNOWN_LEADER_EPOCH")
UNSUPPORTED_COMPRESSION_TYPE: Final = _named("UNSUPPORTED_COMPRESSION_TYPE")
INVALID_RECORD: Final = _named("INVALID_RECORD")
POLICY_VIOLATION: Final = _named("POLICY_VIOLATION")
UNKNOWN_TOPIC_ID: Final = _named("UNKNOWN_TOPIC_ID")


class KafkatoolsError(Exception):
    """Base of everything kafkatools raises deliberately."""


class KafkaError(KafkatoolsError):
    """An error that has a Kafka error code (returned by a broker or found by a check)."""

    def __init__(self, error: ErrorCode, message: str = "") -> None:
        self.error = error
        self.message = message or error.name
        super().__init__(f"{error.name}: {message}" if message else error.name)

    @property
    def code(self) -> int:
        return self.error.code

    @property
    def retriable(self) -> bool:
        return self.error.retriable


class CorruptRecordError(KafkaError):
    """A record batch or legacy message set failed validation (size, magic, CRC, layout)."""

    def __init__(self, message: str, error: ErrorCode = CORRUPT_MESSAGE) -> None:
        super().__init__(error, message)


class ProtocolError(KafkatoolsError):
    """A frame could not be decoded (or a value encoded) at the protocol level.

    ``path`` is the dotted field path where it failed, e.g. ``topic_data[0].partition_data[2].records``,
    so that a broker log line or a fuzz failure says exactly where the bytes went wrong.
    """

    def __init__(self, api: str, version: int, path: str, reason: str) -> None:
        self.api = api
        self.version = version
        self.path = path
        self.reason = reason
        super().__init__(f"{api} v{version} at {path or '<root>'}: {reason}")
