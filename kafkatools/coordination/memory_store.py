"""An in-memory ZooKeeper with ZooKeeper's semantics, for unit tests of code written against ``ZkStore``.

``MemoryZooKeeper`` is the server (one tree, one zxid counter, the sessions); ``connect()`` returns a
``MemoryStore`` session.  Tests drive failures the way a real ensemble produces them:
``expire(store)`` deletes the session's ephemerals, drops its watches, tells its listeners LOST and
then CONNECTED with a new session id (kazoo reconnects the same way); ``suspend(store)`` /
``resume(store)`` model a lost connection (operations raise ConnectionLossError meanwhile).

Watches fire once, after the operation has finished and the lock is released, on the calling thread
-- so a callback may use the store.  Sequential names count the parent's child creations (deletions do not
advance it, though they bump cversion -- as in ZooKeeper), formatted ``%010d``.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from kafkatools.coordination.errors import (
    BadVersionError,
    ConnectionLossError,
    CoordinationError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    SessionExpiredError,
)
from kafkatools.coordination.store import (
    CheckOp,
    CreateOp,
    DeleteOp,
    EventType,
    Op,
    OpResult,
    SessionListener,
    SessionState,
    SetOp,
    Stat,
    Watcher,
    WatchEvent,
    join_chroot,
    parent_of,
    validate_path,
)


@dataclass
class _Node:
    data: bytes
    czxid: int
    mzxid: int
    pzxid: int
    ephemeral_owner: int
    version: int = 0
    cversion: int = 0  # child creations + deletions (what Stat reports)
    creations: int = 0  # child creations only: the next sequential suffix
    children: set[str] = field(default_factory=set)

    def stat(self) -> Stat:
        return Stat(self.czxid, self.mzxid, self.pzxid, self.version, self.cversion, self.ephemeral_owner,
                    len(self.data), len(self.children))


_Pending = list[tuple[Watcher, WatchEvent]]


class MemoryZooKeeper:
    """The shared tree; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._zxid = 0
        self._nodes: dict[str, _Node] = {"/": _Node(b"", 0, 0, 0, 0)}
        self._session_ids = itertools.count(0x1000_0000_0000_0001)
        self._data_watches: dict[str, list[tuple[int, Watcher]]] = {}
        self._child_watches: dict[str, list[tuple[int, Watcher]]] = {}
        self._sessions: dict[int, MemoryStore] = {}
        self._apply_create("/zookeeper", b"", 0, False, [])

    def connect(self, chroot: str = "") -> MemoryStore:
        """A new session, rooted at ``chroot`` (created if missing, as Kafka does for its chroot)."""
        if chroot:
            validate_path(chroot)
            with self._lock:
                path = ""
                for part in chroot[1:].split("/"):
                    path += "/" + part
                    if path not in self._nodes:
                        self._apply_create(path, b"", 0, False, [])
        store = MemoryStore(self, chroot)
        self._open_session(store)
        return store

    def _open_session(self, store: MemoryStore) -> None:
        with self._lock:
            store._session_id = next(self._session_ids)
            self._sessions[store._session_id] = store

    # --- failure injection -------------------------------------------------------------------

    def expire(self, store: MemoryStore) -> None:
        """Expire ``store``'s session as kazoo reports it: SUSPENDED, LOST, then CONNECTED on a new session."""
        if not store._suspended:
            store._notify(SessionState.SUSPENDED)
        self._end_session(store)
        store._notify(SessionState.LOST)
        if not store._closed:
            self._open_session(store)
            store._suspended = False
            store._notify(SessionState.CONNECTED)

    def suspend(self, store: MemoryStore) -> None:
        store._suspended = True
        store._notify(SessionState.SUSPENDED)

    def resume(self, store: MemoryStore) -> None:
        store._suspended = False
        store._notify(SessionState.CONNECTED)

    def _end_session(self, store: MemoryStore) -> None:
        pending: _Pending = []
        with self._lock:
            sid = store._session_id
            self._sessions.pop(sid, None)
            for table in (self._data_watches, self._child_watches):
                for path in list(table):
                    table[path] = [w for w in table[path] if w[0] != sid]
            for path in sorted((p for p, n in self._nodes.items() if n.ephemeral_owner == sid), reverse=True):
                self._apply_delete(path, pending)
        _fire(pending)

    # --- the operations (absolute paths, lock held) --------------------------------------------

    def _next_zxid(self) -> int:
        self._zxid += 1
        return self._zxid

    def _node(self, path: str) -> _Node:
        node = self._nodes.get(path)
        if node is None:
            raise NoNodeError("no such znode", path)
        return node

    def _take(self, table: dict[str, list[tuple[int, Watcher]]], path: str, event: WatchEvent,
              pending: _Pending) -> None:
        pending.extend((w, event) for _, w in table.pop(path, []))

    def _apply_create(self, path: str, data: bytes, owner: int, sequential: bool, pending: _Pending) -> str:
        parent_path = parent_of(path)
        parent = self._node(parent_path)
        if parent.ephemeral_owner:
            raise NoChildrenForEphemeralsError("ephemeral nodes cannot have children", parent_path)
        if sequential:
            path = f"{path}{parent.creations:010d}"
        if path in self._nodes:
            raise NodeExistsError("znode already exists", path)
        zxid = self._next_zxid()
        self._nodes[path] = _Node(bytes(data), zxid, zxid, zxid, owner)
        parent.children.add(path.rsplit("/", 1)[1])
        parent.cversion += 1
        parent.creations += 1
        parent.pzxid = zxid
        self._take(self._data_watches, path, WatchEvent(EventType.CREATED, path), pending)
        self._take(self._child_watches, parent_path, WatchEvent(EventType.CHILD, parent_path), pending)
        return path

    def _check_version(self, path: str, node: _Node, version: int) -> None:
        if version not in (-1, node.version):
            raise BadVersionError(f"version is {node.version}, expected {version}", path)

    def _apply_set(self, path: str, data: bytes, version: int, pending: _Pending) -> Stat:
        node = self._node(path)
        self._check_version(path, node, version)
        node.data = bytes(data)
        node.version += 1
        node.mzxid = self._next_zxid()
        self._take(self._data_watches, path, WatchEvent(EventType.CHANGED, path), pending)
        return node.stat()

    def _apply_delete(self, path: str, pending: _Pending, version: int = -1) -> None:
        if path in ("/", "/zookeeper"):
            raise CoordinationError("cannot delete a reserved znode", path)
        node = self._node(path)
        self._check_version(path, node, version)
        if node.children:
            raise NotEmptyError("znode has children", path)
        del self._nodes[path]
        parent_path = parent_of(path)
        parent = self._nodes[parent_path]
        parent.children.discard(path.rsplit("/", 1)[1])
        parent.cversion += 1
        parent.pzxid = self._next_zxid()
        deleted = WatchEvent(EventType.DELETED, path)
        self._take(self._data_watches, path, deleted, pending)
        self._take(self._child_watches, path, deleted, pending)
        self._take(self._child_watches, parent_path, WatchEvent(EventType.CHILD, parent_path), pending)


def _fire(pending: _Pending) -> None:
    for watcher, event in pending:
        watcher(event)


class MemoryStore:
    """One session on a MemoryZooKeeper; implements ``ZkStore``."""

    def __init__(self, server: MemoryZooKeeper, chroot: str = "") -> None:
        self._server = server
        self._chroot = chroot.rstrip("/")
        self._session_id = 0
        self._listeners: list[SessionListener] = []
        self._suspended = False
        self._closed = False

    @property
    def session_id(self) -> int:
        return self._session_id

    def _abs(self, path: str) -> str:
        validate_path(path)
        if self._closed:
            raise SessionExpiredError("the store is closed", path)
        if self._suspended:
            raise ConnectionLossError("not connected to ZooKeeper", path)
        return join_chroot(self._chroot, path)

    def _rel(self, path: str) -> str:
        return path[len(self._chroot) :] or "/" if self._chroot else path

    def _wrap(self, watch: Watcher) -> Watcher:
        return lambda event: watch(WatchEvent(event.type, self._rel(event.path)))

    def create(self, path: str, data: bytes = b"", *, ephemeral: bool = False, sequential: bool = False,
               make_parents: bool = False) -> str:
        full = self._abs(path)
        pending: _Pending = []
        with self._server._lock:
            if make_parents:
                self._make_parents(full, pending)
            created = self._server._apply_create(full, data, self._session_id if ephemeral else 0, sequential,
                                                 pending)
        _fire(pending)
        return self._rel(created)

    def _make_parents(self, full: str, pending: _Pending) -> None:
        parts = full[1:].split("/")[:-1]
        for i in range(len(parts)):
            p = "/" + "/".join(parts[: i + 1])
            if p not in self._server._nodes:
                self._server._apply_create(p, b"", 0, False, pending)

    def ensure_path(self, path: str) -> None:
        full = self._abs(path)
        pending: _Pending = []
        with self._server._lock:
            self._make_parents(full, pending)
            if full not in self._server._nodes:
                self._server._apply_create(full, b"", 0, False, pending)
        _fire(pending)

    def get(self, path: str, watch: Watcher | None = None) -> tuple[bytes, Stat]:
        full = self._abs(path)
        with self._server._lock:
            node = self._server._node(full)
            if watch is not None:
                self._server._data_watches.setdefault(full, []).append((self._session_id, self._wrap(watch)))
            return node.data, node.stat()

    def get_many(self, paths: Sequence[str], watch: Watcher | None = None) -> list[tuple[bytes, Stat] | None]:
        out: list[tuple[bytes, Stat] | None] = []
        for path in paths:
            try:
                out.append(self.get(path, watch))
            except NoNodeError:
                out.append(None)
        return out

    def exists(self, path: str, watch: Watcher | None = None) -> Stat | None:
        full = self._abs(path)
        with self._server._lock:
            if watch is not None:
                self._server._data_watches.setdefault(full, []).append((self._session_id, self._wrap(watch)))
            node = self._server._nodes.get(full)
            return node.stat() if node else None

    def set(self, path: str, data: bytes, version: int = -1) -> Stat:
        full = self._abs(path)
        pending: _Pending = []
        with self._server._lock:
            stat = self._server._apply_set(full, data, version, pending)
        _fire(pending)
        return stat

    def delete(self, path: str, version: int = -1, *, recursive: bool = False) -> None:
        full = self._abs(path)
        if recursive and version != -1:
            raise CoordinationError("a recursive delete cannot check a version", path)
        pending: _Pending = []
        with self._server._lock:
            if recursive:
                self._server._node(full)
                for p in sorted((p for p in self._server._nodes if p.startswith(full + "/")), reverse=True):
                    self._server._apply_delete(p, pending)
            self._server._apply_delete(full, pending, version)
        _fire(pending)

    def children(self, path: str, watch: Watcher | None = None) -> list[str]:
        full = self._abs(path)
        with self._server._lock:
            node = self._server._node(full)
            if watch is not None:
                self._server._child_watches.setdefault(full, []).append((self._session_id, self._wrap(watch)))
            return sorted(node.children)

    def transaction(self, ops: Sequence[Op]) -> list[OpResult]:
        server = self._server
        pending: _Pending = []
        results: list[OpResult] = []
        with server._lock:
            saved = (copy.deepcopy(server._nodes), server._zxid, {k: list(v) for k, v in server._data_watches.items()},
                     {k: list(v) for k, v in server._child_watches.items()})
            try:
                for op in ops:
                    full = self._abs(op.path)
                    if isinstance(op, CreateOp):
                        owner = self._session_id if op.ephemeral else 0
                        results.append(self._rel(server._apply_create(full, op.data, owner, op.sequential, pending)))
                    elif isinstance(op, SetOp):
                        results.append(server._apply_set(full, op.data, op.version, pending))
                    elif isinstance(op, DeleteOp):
                        server._apply_delete(full, pending, op.version)
                        results.append(None)
                    else:
                        assert isinstance(op, CheckOp)
                        server._check_version(full, server._node(full), op.version)
                        results.append(None)
            except CoordinationError:
                server._nodes, server._zxid, server._data_watches, server._child_watches = saved
                raise
        _fire(pending)
        return results

    def add_session_listener(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def _notify(self, state: SessionState) -> None:
        for listener in list(self._listeners):
            listener(state)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server._end_session(self)
        self._notify(SessionState.LOST)
