"""``ZkStore`` on a real ZooKeeper ensemble through kazoo -- the one module of kafkatools that imports kazoo.

``connect_string`` is Kafka's ``zookeeper.connect``: ``host:port[,host:port...][/chroot]``.  Like
Kafka's KafkaZkClient we create the chroot (as persistent empty nodes) before using it, through a
short session without chroot.  ``session_timeout_s`` is ``zookeeper.session.timeout.ms`` (ZooKeeper
clamps it into 2x-20x its tickTime); ``connect_timeout_s`` is ``zookeeper.connection.timeout.ms``:
when no server answers in time we stop the client and raise StoreTimeoutError instead of leaving
kazoo retrying in the background.

kazoo's own behaviour fits ``ZkStore`` as is: watches are one-shot and delivered on kazoo's callback
thread with the chroot stripped from their paths; after a session expiry kazoo reports LOST and opens
a new session by itself (CONNECTED).  Its exceptions are translated to ``coordination.errors``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kazoo import exceptions as kz
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState, WatchedEvent, ZnodeStat

from kafkatools.coordination.errors import (
    BadVersionError,
    ConnectionLossError,
    CoordinationError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    SessionExpiredError,
    StoreTimeoutError,
)
from kafkatools.coordination.store import (
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
    validate_path,
)

_ERRORS: tuple[tuple[type[Exception], type[CoordinationError], str], ...] = (
    (kz.NoNodeError, NoNodeError, "no such znode"),
    (kz.NodeExistsError, NodeExistsError, "znode already exists"),
    (kz.BadVersionError, BadVersionError, "znode version does not match"),
    (kz.NotEmptyError, NotEmptyError, "znode has children"),
    (kz.NoChildrenForEphemeralsError, NoChildrenForEphemeralsError, "ephemeral nodes cannot have children"),
    (kz.SessionExpiredError, SessionExpiredError, "ZooKeeper session expired"),
    (kz.ConnectionLoss, ConnectionLossError, "connection to ZooKeeper lost"),
    (kz.ConnectionDropped, ConnectionLossError, "connection to ZooKeeper lost"),
    (kz.ZookeeperStoppedError, SessionExpiredError, "the ZooKeeper client is closed"),
    (KazooTimeoutError, ConnectionLossError, "ZooKeeper did not answer in time"),
)


def translate(exc: BaseException, path: str | None) -> CoordinationError:
    for kazoo_type, ours, message in _ERRORS:
        if isinstance(exc, kazoo_type):
            return ours(message, path)
    return CoordinationError(f"ZooKeeper error: {type(exc).__name__} {exc}".strip(), path)


@contextlib.contextmanager
def _mapped(path: str | None) -> Iterator[None]:
    try:
        yield
    except (kz.KazooException, KazooTimeoutError) as e:
        raise translate(e, path) from None


def split_connect_string(connect: str) -> tuple[str, str]:
    """``h1:2181,h2:2181/kafka`` -> (``h1:2181,h2:2181``, ``/kafka``); chroot ``""`` when none."""
    hosts, slash, chroot = connect.strip().partition("/")
    if not hosts:
        raise CoordinationError(f"zookeeper.connect {connect!r} names no server")
    chroot = ("/" + chroot).rstrip("/") if slash else ""
    if chroot:
        validate_path(chroot)
    return hosts, chroot


def _stat(s: ZnodeStat) -> Stat:
    return Stat(s.czxid, s.mzxid, s.pzxid, s.version, s.cversion, s.ephemeralOwner, s.dataLength, s.numChildren)


_EVENT_TYPES = {t.value: t for t in EventType}
_MAX_WRAPPERS = 1024
_PIPELINE = 1024  # reads in flight at once in get_many
_STATES = {KazooState.CONNECTED: SessionState.CONNECTED, KazooState.SUSPENDED: SessionState.SUSPENDED,
           KazooState.LOST: SessionState.LOST}


def _start(hosts: str, session_timeout_s: float, connect_timeout_s: float) -> KazooClient:
    client = KazooClient(hosts=hosts, timeout=session_timeout_s)
    try:
        client.start(timeout=connect_timeout_s)
    except KazooTimeoutError:
        client.stop()
        client.close()
        raise StoreTimeoutError(
            f"Timed out waiting for connection to ZooKeeper at {hosts} after {connect_timeout_s:g} s"
        ) from None
    return client


class KazooStore:
    """A kazoo session implementing ``ZkStore``."""

    def __init__(self, connect_string: str, *, session_timeout_s: float = 18.0,
                 connect_timeout_s: float | None = None) -> None:
        hosts, self.chroot = split_connect_string(connect_string)
        timeout = connect_timeout_s if connect_timeout_s is not None else session_timeout_s
        if self.chroot:
            bootstrap = _start(hosts, session_timeout_s, timeout)
            try:
                with _mapped(self.chroot):
                    bootstrap.ensure_path(self.chroot)
            finally:
                bootstrap.stop()
                bootstrap.close()
        self._client = _start(hosts + self.chroot, session_timeout_s, timeout)
        self._listeners: list[SessionListener] = []
        self._wrappers: dict[Watcher, Callable[[WatchedEvent], None]] = {}
        self._client.add_listener(self._on_state)

    @property
    def session_id(self) -> int:
        client_id = self._client.client_id
        return int(client_id[0]) if client_id else 0

    def session_credentials(self) -> tuple[int, bytes]:
        """(session id, password): lets a test expire this session the classic way (a second client, closed)."""
        sid, password = self._client.client_id
        return int(sid), bytes(password)

    def _on_state(self, state: str) -> None:
        ours = _STATES.get(state)
        if ours is not None:
            for listener in list(self._listeners):
                listener(ours)

    def add_session_listener(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def _watcher(self, watch: Watcher | None) -> Callable[[WatchedEvent], None] | None:
        """kazoo's wrapper for ``watch`` -- the same one every time: kazoo keeps a *set* of watchers per
        path until the watch fires, so a fresh wrapper per read would pile up on znodes that never change."""
        if watch is None:
            return None
        cached = self._wrappers.get(watch)
        if cached is not None:
            return cached

        def deliver(event: WatchedEvent) -> None:
            kind = _EVENT_TYPES.get(str(event.type))
            if kind is not None:  # NONE events only report connection changes; listeners get those
                watch(WatchEvent(kind, event.path))

        if len(self._wrappers) < _MAX_WRAPPERS:  # callers pass a few long-lived callbacks; never grow unbounded
            self._wrappers[watch] = deliver
        return deliver

    def create(self, path: str, data: bytes = b"", *, ephemeral: bool = False, sequential: bool = False,
               make_parents: bool = False) -> str:
        validate_path(path)
        with _mapped(path):
            created: str = self._client.create(path, data, ephemeral=ephemeral, sequence=sequential,
                                               makepath=make_parents)
            return created

    def ensure_path(self, path: str) -> None:
        validate_path(path)
        with _mapped(path):
            self._client.ensure_path(path)

    def get(self, path: str, watch: Watcher | None = None) -> tuple[bytes, Stat]:
        validate_path(path)
        with _mapped(path):
            data, stat = self._client.get(path, watch=self._watcher(watch))
            return bytes(data or b""), _stat(stat)

    def get_many(self, paths: Sequence[str], watch: Watcher | None = None) -> list[tuple[bytes, Stat] | None]:
        for path in paths:
            validate_path(path)
        wrapped = self._watcher(watch)
        out: list[tuple[bytes, Stat] | None] = []
        for start in range(0, len(paths), _PIPELINE):  # bounded: the replies sit in memory until read
            chunk = paths[start:start + _PIPELINE]
            pending = [self._client.get_async(path, watch=wrapped) for path in chunk]
            for path, result in zip(chunk, pending, strict=True):
                try:
                    with _mapped(path):
                        data, stat = result.get()
                except NoNodeError:
                    out.append(None)
                    continue
                out.append((bytes(data or b""), _stat(stat)))
        return out

    def exists(self, path: str, watch: Watcher | None = None) -> Stat | None:
        validate_path(path)
        with _mapped(path):
            stat = self._client.exists(path, watch=self._watcher(watch))
            return _stat(stat) if stat is not None else None

    def set(self, path: str, data: bytes, version: int = -1) -> Stat:
        validate_path(path)
        with _mapped(path):
            return _stat(self._client.set(path, data, version=version))

    def delete(self, path: str, version: int = -1, *, recursive: bool = False) -> None:
        validate_path(path)
        if recursive and version != -1:
            raise CoordinationError("a recursive delete cannot check a version", path)
        with _mapped(path):
            self._client.delete(path, version=version, recursive=recursive)

    def children(self, path: str, watch: Watcher | None = None) -> list[str]:
        validate_path(path)
        with _mapped(path):
            return sorted(self._client.get_children(path, watch=self._watcher(watch)))

    def transaction(self, ops: Sequence[Op]) -> list[OpResult]:
        txn = self._client.transaction()
        for op in ops:
            validate_path(op.path)
            if isinstance(op, CreateOp):
                txn.create(op.path, op.data, ephemeral=op.ephemeral, sequence=op.sequential)
            elif isinstance(op, SetOp):
                txn.set_data(op.path, op.data, version=op.version)
            elif isinstance(op, DeleteOp):
                txn.delete(op.path, version=op.version)
            else:
                txn.check(op.path, op.version)
        with _mapped(None):
            raw: list[Any] = txn.commit()
        for op, result in zip(ops, raw, strict=False):
            if isinstance(result, Exception) and not isinstance(result, kz.RolledBackError):
                raise translate(result, op.path)
        if any(isinstance(r, Exception) for r in raw):
            raise CoordinationError("transaction rolled back")
        return [r if isinstance(r, str) else _stat(r) if isinstance(r, ZnodeStat) else None for r in raw]

    def close(self) -> None:
        self._client.stop()
        self._client.close()
