"""A ZkStore that answers ``get`` from one pipelined ``get_many`` read ahead of time.

A broker's metadata snapshot and a controller pass read every topic znode, every topic config and
every partition state.  One at a time that is one round trip each (about 0.5 s for 1,000 partitions
on loopback); read ahead with ``prefetch`` it is one pipelined batch per kind.  The code that decodes
the znodes stays unchanged: it calls ``get`` as before and gets the prefetched answer, including
NoNodeError for a node that was missing.

Each prefetched answer is used once, and only by a ``get`` asking for the same watch (the watch was
armed when the batch was read); any other read goes to ZooKeeper.
"""

from __future__ import annotations

from collections.abc import Sequence

from kafkatools.coordination.errors import NoNodeError
from kafkatools.coordination.store import Op, OpResult, SessionListener, Stat, Watcher, ZkStore


class PrefetchedReads:
    """Delegates to ``store``; ``get`` first consults what ``prefetch`` read."""

    def __init__(self, store: ZkStore) -> None:
        self._store = store
        self._ahead: dict[str, tuple[tuple[bytes, Stat] | None, Watcher | None]] = {}

    def prefetch(self, paths: Sequence[str], watch: Watcher | None = None) -> None:
        todo = [p for p in dict.fromkeys(paths) if p not in self._ahead]
        for path, found in zip(todo, self._store.get_many(todo, watch), strict=True):
            self._ahead[path] = (found, watch)

    @property
    def session_id(self) -> int:
        return self._store.session_id

    def get(self, path: str, watch: Watcher | None = None) -> tuple[bytes, Stat]:
        ahead = self._ahead.pop(path, None)
        if ahead is None or ahead[1] != watch:  # bound methods compare equal, not identical
            return self._store.get(path, watch)
        if ahead[0] is None:
            raise NoNodeError("no such znode", path)
        return ahead[0]

    def get_many(self, paths: Sequence[str], watch: Watcher | None = None) -> list[tuple[bytes, Stat] | None]:
        return self._store.get_many(paths, watch)

    def create(self, path: str, data: bytes = b"", *, ephemeral: bool = False, sequential: bool = False,
               make_parents: bool = False) -> str:
        return self._store.create(path, data, ephemeral=ephemeral, sequential=sequential,
                                  make_parents=make_parents)

    def ensure_path(self, path: str) -> None:
        self._store.ensure_path(path)

    def exists(self, path: str, watch: Watcher | None = None) -> Stat | None:
        return self._store.exists(path, watch)

    def set(self, path: str, data: bytes, version: int = -1) -> Stat:
        self._ahead.pop(path, None)
        return self._store.set(path, data, version)

    def delete(self, path: str, version: int = -1, *, recursive: bool = False) -> None:
        self._ahead.pop(path, None)
        self._store.delete(path, version, recursive=recursive)

    def children(self, path: str, watch: Watcher | None = None) -> list[str]:
        return self._store.children(path, watch)

    def transaction(self, ops: Sequence[Op]) -> list[OpResult]:
        for op in ops:
            self._ahead.pop(op.path, None)
        return self._store.transaction(ops)

    def add_session_listener(self, listener: SessionListener) -> None:
        self._store.add_session_listener(listener)

    def close(self) -> None:
        """The session belongs to the wrapped store: nothing to end here."""
