"""Size-prefixed framing with no I/O: feed bytes in any split, take whole frames out.

Wire layout (Kafka's ``NetworkReceive``)::

    int32 size   bytes that follow (excludes itself); negative is invalid
    size bytes   one request or response (header + body)

Why a size limit checked at the prefix: a peer announcing a 2 GB frame must be refused before we
buffer it (Kafka: ``socket.request.max.bytes``, default 100 MiB, ``InvalidReceiveException``).
The buffer is one bytearray with a read offset; consumed bytes are dropped only when they are more than
half the buffer, so feeding a large frame in small pieces costs O(n), not O(n^2).  Frames are returned
as ``bytes`` copies: a memoryview into the bytearray would pin it and forbid the next append.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from kafkatools.errors import ProtocolError

DEFAULT_MAX_FRAME: Final = 100 * 1024 * 1024
_SIZE: Final = struct.Struct(">i")


class FrameTooLargeError(ProtocolError):
    """A size prefix announced more than the configured maximum (``size``, ``max_size``)."""

    def __init__(self, size: int, max_size: int) -> None:
        super().__init__("frame", -1, "size", f"frame of {size} bytes exceeds the maximum of {max_size}")
        self.size = size
        self.max_size = max_size


class FrameBuffer:
    """Accumulates received bytes and yields complete frames without their size prefix."""

    __slots__ = ("_buf", "_need", "_start", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame_size = max_frame_size
        self._buf = bytearray()
        self._start = 0
        self._need = -1  # size of the frame being collected, -1 until its prefix is read

    def __len__(self) -> int:
        """Bytes buffered and not yet returned as frames."""
        return len(self._buf) - self._start

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes; raises FrameTooLargeError/ProtocolError as soon as a bad prefix is complete."""
        self._buf += data
        self._read_prefix()

    def _read_prefix(self) -> None:
        if self._need < 0 and len(self._buf) - self._start >= 4:
            (size,) = _SIZE.unpack_from(self._buf, self._start)
            if size < 0:
                raise ProtocolError("frame", -1, "size", f"negative frame size {size}")
            if size > self.max_frame_size:
                raise FrameTooLargeError(size, self.max_frame_size)
            self._need = size

    def next_frame(self) -> bytes | None:
        """The next complete frame (without prefix), or None when more bytes are needed."""
        self._read_prefix()
        need = self._need
        if need < 0 or len(self._buf) - self._start - 4 < need:
            return None
        begin = self._start + 4
        frame = bytes(self._buf[begin : begin + need])
        self._start = begin + need
        self._need = -1
        if self._start == len(self._buf):
            self._buf.clear()
            self._start = 0
        elif self._start > len(self._buf) // 2:
            del self._buf[: self._start]
            self._start = 0
        return frame

    def frames(self) -> Iterator[bytes]:
        """Every complete frame buffered so far."""
        while (frame := self.next_frame()) is not None:
            yield frame
