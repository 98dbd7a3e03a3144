"""The ZkStore contract, run against the in-memory twin here and against real ZooKeeper in
tests/integration/test_zookeeper_store.py (same ``StoreContract`` class, another ``harness``).

Each test works under its own base path so the real-ZooKeeper run can share one server.  Watches
may be delivered on another thread, so tests wait for them (``Recorder.wait``) -- never on time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Protocol

import pytest

from kafkatools.coordination.errors import (
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper
from kafkatools.coordination.store import (
    CheckOp,
    CreateOp,
    DeleteOp,
    EventType,
    SessionState,
    SetOp,
    Stat,
    WatchEvent,
    ZkStore,
)

WAIT_S = 20.0


class Harness(Protocol):
    def connect(self, chroot: str = "") -> ZkStore: ...

    def expire(self, store: ZkStore) -> None: ...


class Recorder:
    """Collects callback arguments; ``wait(n)`` blocks until n have arrived (fails after WAIT_S)."""

    def __init__(self) -> None:
        self.items: list[object] = []
        self._cond = threading.Condition()

    def __call__(self, item: object) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, n: int) -> list[object]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.items) >= n, WAIT_S), f"only {self.items} after {WAIT_S}s"
            return list(self.items)

    def wait_for_last(self, item: object) -> list[object]:
        with self._cond:
            ok = self._cond.wait_for(lambda: bool(self.items) and self.items[-1] == item, WAIT_S)
            assert ok, f"{self.items} after {WAIT_S}s, waiting for {item}"
            return list(self.items)


class StoreContract:
    @pytest.fixture()
    def base(self) -> str:
        return f"/contract-{uuid.uuid4().hex[:12]}"

    @pytest.fixture()
    def store(self, harness: Harness, base: str) -> Iterator[ZkStore]:
        s = harness.connect()
        s.create(base)
        yield s
        s.close()

    def test_create_get_set_versions(self, store: ZkStore, base: str) -> None:
        path = store.create(f"{base}/a", b"one")
        assert path == f"{base}/a"
        data, stat = store.get(path)
        assert data == b"one" and stat.version == 0 and stat.czxid == stat.mzxid and stat.ephemeral_owner == 0
        assert stat.data_length == 3 and stat.num_children == 0
        new = store.set(path, b"two", version=0)
        assert new.version == 1 and new.mzxid > stat.czxid and new.czxid == stat.czxid
        with pytest.raises(BadVersionError):
            store.set(path, b"three", version=0)
        assert store.get(path)[0] == b"two"
        assert store.set(path, b"four").version == 2  # -1: any version

    def test_create_failures_and_parents(self, store: ZkStore, base: str) -> None:
        store.create(f"{base}/a")
        with pytest.raises(NodeExistsError) as exists:
            store.create(f"{base}/a")
        assert exists.value.path == f"{base}/a"
        with pytest.raises(NoNodeError):
            store.create(f"{base}/missing/child")
        store.create(f"{base}/x/y/z", b"deep", make_parents=True)
        assert store.get(f"{base}/x/y")[0] == b""
        assert store.get(f"{base}/x/y/z")[0] == b"deep"
        store.ensure_path(f"{base}/x/y/z")  # idempotent, keeps data
        store.ensure_path(f"{base}/p/q")
        assert store.exists(f"{base}/p/q") is not None
        assert store.exists(f"{base}/nope") is None
        with pytest.raises(NoNodeError):
            store.get(f"{base}/nope")

    def test_children_and_cversion(self, store: ZkStore, base: str) -> None:
        for name in ("b", "a", "c"):
            store.create(f"{base}/{name}")
        assert store.children(base) == ["a", "b", "c"]
        assert store.get(base)[1].cversion == 3 and store.get(base)[1].num_children == 3
        with pytest.raises(NoNodeError):
            store.children(f"{base}/nope")

    def test_delete(self, store: ZkStore, base: str) -> None:
        store.create(f"{base}/t/partitions/0/state", b"s", make_parents=True)
        with pytest.raises(NotEmptyError):
            store.delete(f"{base}/t")
        with pytest.raises(BadVersionError):
            store.delete(f"{base}/t/partitions/0/state", version=3)
        store.delete(f"{base}/t/partitions/0/state", version=0)
        store.delete(f"{base}/t", recursive=True)
        assert store.exists(f"{base}/t") is None
        with pytest.raises(NoNodeError):
            store.delete(f"{base}/t")

    def test_sequential_names_count_child_creations(self, store: ZkStore, base: str) -> None:
        store.create(f"{base}/changes")
        first = store.create(f"{base}/changes/config_change_", b"1", sequential=True)
        assert first == f"{base}/changes/config_change_0000000000"
        store.delete(first)
        assert store.get(f"{base}/changes")[1].cversion == 2  # a deletion is a child change ...
        second = store.create(f"{base}/changes/config_change_", b"2", sequential=True)
        assert second == f"{base}/changes/config_change_0000000001"  # ... but does not advance the counter
        store.create(f"{base}/changes/plain")
        third = store.create(f"{base}/changes/config_change_", b"3", sequential=True)
        assert third == f"{base}/changes/config_change_0000000003"
        assert store.children(f"{base}/changes") == ["config_change_0000000001", "config_change_0000000003",
                                                     "plain"]

    def test_ephemerals_belong_to_their_session(self, harness: Harness, store: ZkStore, base: str) -> None:
        other = harness.connect()
        try:
            path = other.create(f"{base}/ids/1", b"broker", ephemeral=True, make_parents=True)
            stat = store.get(path)[1]
            assert stat.ephemeral_owner == other.session_id != 0
            assert store.get(f"{base}/ids")[1].ephemeral_owner == 0  # parents made persistent
            with pytest.raises(NoChildrenForEphemeralsError):
                other.create(f"{path}/child")
        finally:
            other.close()
        assert store.exists(f"{base}/ids/1") is None
        assert store.exists(f"{base}/ids") is not None

    def test_data_watch_fires_once(self, store: ZkStore, base: str) -> None:
        path = store.create(f"{base}/w", b"0")
        first, second = Recorder(), Recorder()
        store.get(path, watch=first)
        store.set(path, b"1")
        assert first.wait(1) == [WatchEvent(EventType.CHANGED, path)]
        store.set(path, b"2")  # no watch armed: nothing may arrive for `first`
        store.get(path, watch=second)
        store.delete(path)
        assert second.wait(1) == [WatchEvent(EventType.DELETED, path)]
        assert first.items == [WatchEvent(EventType.CHANGED, path)]

    def test_get_many_in_order_with_missing_nodes_and_watches(self, store: ZkStore, base: str) -> None:
        paths = [store.create(f"{base}/m{i}", str(i).encode()) for i in range(5)]
        store.set(paths[3], b"three")
        seen = Recorder()
        got = store.get_many([paths[4], f"{base}/absent", *paths[:4]], watch=seen)
        assert got[1] is None
        found = [g for g in got if g is not None]
        assert [data for data, _ in found] == [b"4", b"0", b"1", b"2", b"three"]
        assert [stat.version for _, stat in found] == [0, 0, 0, 0, 1]
        assert store.get_many([]) == []
        store.set(paths[0], b"changed")
        store.set(paths[4], b"changed")
        events = seen.wait(2)
        assert sorted(events, key=str) == sorted([WatchEvent(EventType.CHANGED, paths[0]),
                                                  WatchEvent(EventType.CHANGED, paths[4])], key=str)

    def test_exists_watch_sees_creation(self, store: ZkStore, base: str) -> None:
        seen = Recorder()
        assert store.exists(f"{base}/controller", watch=seen) is None
        store.create(f"{base}/controller", b"{}", ephemeral=True)
        assert seen.wait(1) == [WatchEvent(EventType.CREATED, f"{base}/controller")]

    def test_children_watch(self, harness: Harness, store: ZkStore, base: str) -> None:
        store.create(f"{base}/ids")
        seen = Recorder()
        assert store.children(f"{base}/ids", watch=seen) == []
        other = harness.connect()
        try:
            other.create(f"{base}/ids/2", ephemeral=True)
            assert seen.wait(1) == [WatchEvent(EventType.CHILD, f"{base}/ids")]
            again = Recorder()
            assert store.children(f"{base}/ids", watch=again) == ["2"]
        finally:
            other.close()  # the ephemeral goes: a child change
        assert again.wait(1) == [WatchEvent(EventType.CHILD, f"{base}/ids")]
        assert seen.items == [WatchEvent(EventType.CHILD, f"{base}/ids")]

    def test_session_expiry(self, harness: Harness, store: ZkStore, base: str) -> None:
        victim = harness.connect()
        states = Recorder()
        victim.add_session_listener(states)
        try:
            old_id = victim.session_id
            victim.create(f"{base}/ids/1", ephemeral=True, make_parents=True)
            gone = Recorder()
            store.exists(f"{base}/ids/1", watch=gone)
            harness.expire(victim)
            assert gone.wait(1) == [WatchEvent(EventType.DELETED, f"{base}/ids/1")]
            got = states.wait_for_last(SessionState.CONNECTED)
            assert SessionState.LOST in got
            # A new session: the owner re-registers.
            assert victim.session_id != old_id
            victim.create(f"{base}/ids/1", ephemeral=True)
            assert store.get(f"{base}/ids/1")[1].ephemeral_owner == victim.session_id
        finally:
            victim.close()

    def test_transactions_are_all_or_nothing(self, store: ZkStore, base: str) -> None:
        store.create(f"{base}/epoch", b"1")
        results = store.transaction([
            CheckOp(f"{base}/epoch", 0),
            CreateOp(f"{base}/controller", b"c"),
            SetOp(f"{base}/epoch", b"2", 0),
            CreateOp(f"{base}/seq-", b"", sequential=True),
        ])
        assert results[0] is None and results[1] == f"{base}/controller"
        assert isinstance(results[2], Stat) and results[2].version == 1
        assert results[3] == f"{base}/seq-0000000002"
        with pytest.raises(BadVersionError):
            store.transaction([CreateOp(f"{base}/a"), SetOp(f"{base}/epoch", b"3", 0)])
        assert store.exists(f"{base}/a") is None and store.get(f"{base}/epoch")[0] == b"2"
        with pytest.raises(NoNodeError):
            store.transaction([DeleteOp(f"{base}/controller"), DeleteOp(f"{base}/missing")])
        assert store.exists(f"{base}/controller") is not None

    def test_chroot(self, harness: Harness, store: ZkStore, base: str) -> None:
        rooted = harness.connect(f"{base}/kafka")
        try:
            rooted.create("/brokers/ids", make_parents=True)
            assert store.exists(f"{base}/kafka/brokers/ids") is not None
            seen = Recorder()
            assert rooted.children("/brokers/ids", watch=seen) == []
            rooted.create("/brokers/ids/0", b"b", ephemeral=True)
            assert seen.wait(1) == [WatchEvent(EventType.CHILD, "/brokers/ids")]
            assert rooted.transaction([CreateOp("/x")]) == ["/x"]
            assert "brokers" in rooted.children("/")
        finally:
            rooted.close()


class MemoryHarness:
    def __init__(self) -> None:
        self.server = MemoryZooKeeper()

    def connect(self, chroot: str = "") -> ZkStore:
        return self.server.connect(chroot)

    def expire(self, store: ZkStore) -> None:
        assert isinstance(store, MemoryStore)
        self.server.expire(store)


class TestMemoryStore(StoreContract):
    @pytest.fixture()
    def harness(self) -> MemoryHarness:
        return MemoryHarness()


def test_memory_suspend_and_resume() -> None:
    from kafkatools.coordination.errors import ConnectionLossError

    server = MemoryZooKeeper()
    store = server.connect()
    states = Recorder()
    store.add_session_listener(states)
    store.create("/a", ephemeral=True)
    server.suspend(store)
    with pytest.raises(ConnectionLossError):
        store.get("/a")
    server.resume(store)
    assert store.get("/a")[1].ephemeral_owner == store.session_id  # the session survived
    assert states.items == [SessionState.SUSPENDED, SessionState.CONNECTED]
    store.close()
    assert states.items[-1] == SessionState.LOST
