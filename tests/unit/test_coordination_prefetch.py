"""PrefetchedReads: one pipelined read ahead, each answer used once, writes drop what they touch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkatools.coordination.errors import NoNodeError
from kafkatools.coordination.memory_store import MemoryStore, MemoryZooKeeper
from kafkatools.coordination.prefetch import PrefetchedReads
from kafkatools.coordination.store import SetOp, WatchEvent


@pytest.fixture()
def store() -> Iterator[MemoryStore]:
    s: MemoryStore = MemoryZooKeeper().connect("")
    for name in ("a", "b", "c"):
        s.create(f"/{name}", name.encode())
    yield s
    s.close()


def test_answers_come_from_the_read_ahead_once(store: MemoryStore) -> None:
    reads = PrefetchedReads(store)
    reads.prefetch(["/a", "/b", "/missing"])
    store.set("/a", b"newer")  # behind the reader's back: the prefetched answer is what it saw
    assert reads.get("/a")[0] == b"a"
    assert reads.get("/a")[0] == b"newer", "an answer is used once; the next get reads ZooKeeper"
    with pytest.raises(NoNodeError):
        reads.get("/missing")
    assert reads.get("/b")[0] == b"b"


def test_a_get_with_another_watch_reads_zookeeper(store: MemoryStore) -> None:
    fired: list[WatchEvent] = []
    reads = PrefetchedReads(store)
    reads.prefetch(["/a"])  # no watch armed
    store.set("/a", b"newer")
    assert reads.get("/a", fired.append)[0] == b"newer"
    store.set("/a", b"again")
    assert fired, "the watch must be armed by a real read"


def test_writes_through_the_wrapper_drop_the_read_ahead(store: MemoryStore) -> None:
    reads = PrefetchedReads(store)
    reads.prefetch(["/a", "/b", "/c"])
    reads.set("/a", b"set")
    reads.transaction([SetOp("/b", b"txn", -1)])
    reads.delete("/c")
    assert reads.get("/a")[0] == b"set"
    assert reads.get("/b")[0] == b"txn"
    with pytest.raises(NoNodeError):
        reads.get("/c")
