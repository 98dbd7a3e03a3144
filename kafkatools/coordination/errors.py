"""What the coordination layer raises: one base (CoordinationError) and the ZooKeeper failures callers branch on.

Why our own classes: the broker and controller must react to "the node exists", "someone changed it
first" or "my session is gone" without importing kazoo; ``kazoo_store`` maps kazoo's exceptions onto
these and ``memory_store`` raises them directly, so both stores fail the same way.

    KafkatoolsError
     +-- CoordinationError          anything here; bad znode contents name the path
          +-- NoNodeError           the znode (or, on create, its parent) does not exist
          +-- NodeExistsError       create of an existing path
          +-- BadVersionError       conditional set/delete/check lost the race
          +-- NotEmptyError         delete of a node that has children (recursive=False)
          +-- NoChildrenForEphemeralsError
          +-- SessionExpiredError   the session is gone: ephemerals deleted, watches lost
          +-- ConnectionLossError   not connected right now (kazoo SUSPENDED); the session may survive
          +-- StoreTimeoutError     connecting took longer than the connect timeout
"""

from __future__ import annotations

from kafkatools.errors import KafkatoolsError


class CoordinationError(KafkatoolsError):
    """Base of coordination errors; ``path`` is the znode concerned, when there is one."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class NoNodeError(CoordinationError):
    pass


class NodeExistsError(CoordinationError):
    pass


class BadVersionError(CoordinationError):
    pass


class NotEmptyError(CoordinationError):
    pass


class NoChildrenForEphemeralsError(CoordinationError):
    pass


class SessionExpiredError(CoordinationError):
    pass


class ConnectionLossError(CoordinationError):
    pass


class StoreTimeoutError(CoordinationError):
    pass
