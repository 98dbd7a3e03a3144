"""The ZooKeeper operations a ZK-mode broker and controller need, as one interface with two implementations.

``kazoo_store.KazooStore`` talks to a real ensemble; ``memory_store.MemoryStore`` is its in-memory twin.
Both pass the same contract tests (tests/unit/test_coordination_contract.py against the twin,
tests/integration/test_zookeeper_store.py against real ZooKeeper), so code written against
``ZkStore`` can be unit-tested on the twin and trusted on ZooKeeper.

Semantics are ZooKeeper's, stated here so the twin can copy them:

* paths are absolute inside the store's chroot; ``create`` returns the created path (sequential
  nodes get a 10-digit counter: how many children the parent has had created, deletions not counted);
* every write bumps the global zxid; ``Stat.czxid`` of a broker's ephemeral node is its broker epoch;
  ``version`` counts setData calls, ``cversion`` child creations and deletions;
* ``version=-1`` means "any"; otherwise set/delete/check fail with BadVersionError unless it matches;
* watches fire at most once, after the change, with a ``WatchEvent``: ``get``/``exists`` watches on
  CHANGED/DELETED (``exists`` also CREATED), ``children`` watches on CHILD or DELETED;
* ephemeral nodes vanish when their session ends (close or expiry); after an expiry the store opens
  a new session by itself (kazoo does) and listeners see LOST then CONNECTED -- the owner must then
  re-create its ephemerals and re-arm its watches;
* callbacks (watches, session listeners) may run on another thread; they must be quick and must not
  block on the store's answer to another callback.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias


@dataclass(frozen=True, slots=True)
class Stat:
    czxid: int  # zxid of the create (a broker znode's czxid is the broker epoch)
    mzxid: int  # zxid of the last setData
    pzxid: int  # zxid of the last child change
    version: int  # data version (the partition epoch of a partition state znode)
    cversion: int  # child version
    ephemeral_owner: int  # session id, 0 for persistent nodes
    data_length: int
    num_children: int


class EventType(enum.Enum):
    CREATED = "CREATED"
    DELETED = "DELETED"
    CHANGED = "CHANGED"
    CHILD = "CHILD"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: EventType
    path: str


class SessionState(enum.Enum):
    CONNECTED = "CONNECTED"  # (re)connected; after LOST this is a new session
    SUSPENDED = "SUSPENDED"  # connection lost; the session may still be alive
    LOST = "LOST"  # the session expired (or the store was closed)


Watcher: TypeAlias = Callable[[WatchEvent], None]
SessionListener: TypeAlias = Callable[[SessionState], None]


@dataclass(frozen=True, slots=True)
class CreateOp:
    path: str
    data: bytes = b""
    ephemeral: bool = False
    sequential: bool = False


@dataclass(frozen=True, slots=True)
class SetOp:
    path: str
    data: bytes
    version: int = -1


@dataclass(frozen=True, slots=True)
class DeleteOp:
    path: str
    version: int = -1


@dataclass(frozen=True, slots=True)
class CheckOp:
    path: str
    version: int


Op: TypeAlias = CreateOp | SetOp | DeleteOp | CheckOp
OpResult: TypeAlias = str | Stat | None  # created path, new Stat of a set, None for delete/check


class ZkStore(Protocol):
    """A ZooKeeper session.  Failures raise the classes in ``coordination.errors``."""

    @property
    def session_id(self) -> int: ...

    def create(
        self, path: str, data: bytes = b"", *, ephemeral: bool = False, sequential: bool = False,
        make_parents: bool = False,
    ) -> str:
        """Create ``path`` (missing parents as empty persistent nodes when ``make_parents``); the created path."""
        ...

    def ensure_path(self, path: str) -> None:
        """Create ``path`` and its parents as empty persistent nodes where missing."""
        ...

    def get(self, path: str, watch: Watcher | None = None) -> tuple[bytes, Stat]: ...

    def get_many(self, paths: Sequence[str], watch: Watcher | None = None) -> list[tuple[bytes, Stat] | None]:
        """``get`` of every path, in order; None where the node does not exist.

        A ZooKeeper server pipelines the reads: a controller pass over 1,000 partitions costs about one
        round trip instead of 1,000.  ``watch`` is armed on every node that exists.
        """
        ...

    def exists(self, path: str, watch: Watcher | None = None) -> Stat | None: ...

    def set(self, path: str, data: bytes, version: int = -1) -> Stat: ...

    def delete(self, path: str, version: int = -1, *, recursive: bool = False) -> None:
        """Delete ``path``; ``recursive`` deletes children first (not atomic; ``version`` must then be -1)."""
        ...

    def children(self, path: str, watch: Watcher | None = None) -> list[str]:
        """Child names (not paths), sorted."""
        ...

    def transaction(self, ops: Sequence[Op]) -> list[OpResult]:
        """All of ``ops`` or none: raises the error of the first failing op, with nothing applied."""
        ...

    def add_session_listener(self, listener: SessionListener) -> None: ...

    def close(self) -> None:
        """End the session: its ephemerals are deleted at once."""
        ...


def validate_path(path: str) -> None:
    """ZooKeeper's path rules (absolute, no empty, ``.`` or ``..`` components, no trailing slash)."""
    from kafkatools.coordination.errors import CoordinationError

    if not path.startswith("/"):
        raise CoordinationError("znode paths must start with '/'", path)
    if path == "/":
        return
    parts = path[1:].split("/")
    if any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise CoordinationError("invalid znode path", path)


def parent_of(path: str) -> str:
    head = path.rsplit("/", 1)[0]
    return head or "/"


def join_chroot(chroot: str, path: str) -> str:
    return chroot + path if chroot and path != "/" else (chroot or path)
