"""The file-system seam: every byte storage reads or writes goes through a ``FileSystem``.

Why a class and not bare ``os`` calls: tests subclass it to inject faults (a short write, a
failing fsync, a crash between rename and directory fsync) without monkey-patching ``os``.
Files are raw ``io.FileIO`` objects; reads and writes use positional ``pread``/``pwrite`` on
their descriptors, so the file position is free for ``sendfile`` (which moves it).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
from typing import IO

_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024


class FileSystem:
    """Plain POSIX implementation.  Override single methods in tests to inject faults."""

    # -- files -------------------------------------------------------------------------------
    def open(self, path: str, *, create: bool = True) -> io.FileIO:
        """Open for reading and writing (created if missing and ``create``)."""
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        fd = os.open(path, flags, 0o644)
        return io.FileIO(fd, "r+b", closefd=True)

    def pwrite(self, f: io.FileIO, data: bytes | bytearray | memoryview, position: int) -> None:
        """Write all of ``data`` at ``position`` (loops over short writes)."""
        fd = f.fileno()
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, position)
            view = view[n:]
            position += n

    def pwritev(self, f: io.FileIO, buffers: list[bytes | bytearray | memoryview], position: int) -> None:
        """Write the buffers back to back at ``position`` with as few ``pwritev`` calls as possible."""
        fd = f.fileno()
        pending = [memoryview(b) for b in buffers]
        while pending:
            chunk = pending[:_IOV_MAX]
            n = os.pwritev(fd, chunk, position)
            position += n
            while n and pending:
                if n >= len(pending[0]):
                    n -= len(pending.pop(0))
                else:
                    pending[0] = pending[0][n:]
                    n = 0

    def pread(self, f: io.FileIO, size: int, position: int) -> bytes:
        return os.pread(f.fileno(), size, position)

    def fsync(self, f: io.FileIO) -> None:
        os.fsync(f.fileno())

    def truncate(self, f: io.FileIO, size: int) -> None:
        os.ftruncate(f.fileno(), size)

    def size(self, f: io.FileIO) -> int:
        return os.fstat(f.fileno()).st_size

    def close(self, f: io.FileIO) -> None:
        f.close()

    # -- paths -------------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)

    def rmtree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def mtime_ms(self, path: str) -> int:
        return int(os.stat(path).st_mtime * 1000)

    def file_size(self, path: str) -> int:
        return os.stat(path).st_size

    def fsync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- whole small files -------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def write_atomic(self, path: str, data: bytes) -> None:
        """Write ``<path>.tmp``, fsync it, rename over ``path``, fsync the directory (Kafka's CheckpointFile)."""
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self.fsync_dir(os.path.dirname(os.path.abspath(path)))

    def touch(self, path: str) -> None:
        """Create an empty file if it does not exist (Kafka creates checkpoint files this way)."""
        with open(path, "ab"):
            pass

    # -- locking -----------------------------------------------------------------------------
    def lock(self, path: str) -> IO[bytes] | None:
        """Take an exclusive non-blocking flock on ``path``; None if someone else holds it."""
        f = open(path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return None
        return f

    def unlock(self, handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


DEFAULT_FS = FileSystem()
