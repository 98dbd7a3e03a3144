"""Size-prefixed framing with no I/O: feed bytes in any split, take whole frames out.

Wire layout (Kafka's ``NetworkReceive``)::

    int32 size   bytes that follow (excludes itself); negative is invalid
    size bytes   one request or response (header + body)

Why a size limit checked at the prefix: a peer announcing a 2 GB frame must be refused before we
buffer it (Kafka: ``socket.request.max.bytes``, default 100 MiB, ``InvalidReceiveException``).

Two ways in, same frames out:

* ``feed(data)`` for byte strings from any source;
* ``get_buffer()`` / ``buffer_updated(n)``: the shape of asyncio's ``BufferedProtocol``, so a socket
  receives straight into our memory.  Small frames are received into a fixed scratch area (many
  pipelined requests per ``recv``); a frame too big for it gets a buffer of its exact size and the
  rest of it is received there directly — a 1 MB Produce request is copied once, by the kernel.

Small frames come out as ``bytes``; large ones as the ``bytearray`` they were received into.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from typing import Final

from kafkatools.errors import ProtocolError

DEFAULT_MAX_FRAME: Final = 100 * 1024 * 1024
SCRATCH_SIZE: Final = 64 * 1024
_SIZE: Final = struct.Struct(">i")


class FrameTooLargeError(ProtocolError):
    """A size prefix announced more than the configured maximum (``size``, ``max_size``)."""

    def __init__(self, size: int, max_size: int) -> None:
        super().__init__("frame", -1, "size", f"frame of {size} bytes exceeds the maximum of {max_size}")
        self.size = size
        self.max_size = max_size


class FrameBuffer:
    """Accumulates received bytes and yields complete frames without their size prefix."""

    __slots__ = ("_big", "_big_pos", "_end", "_ready", "_scratch", "_start", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME, scratch_size: int = SCRATCH_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._scratch = bytearray(max(scratch_size, 16))  # fixed size: views of it may be outstanding
        self._start = 0  # first unconsumed byte in scratch
        self._end = 0  # end of received bytes in scratch
        self._big: bytearray | None = None  # a large frame being received in place
        self._big_pos = 0
        self._ready: deque[bytes | bytearray] = deque()

    def __len__(self) -> int:
        """Bytes buffered and not yet returned as frames."""
        pending = sum(len(f) + 4 for f in self._ready)
        big = self._big_pos + 4 if self._big is not None else 0
        return pending + big + self._end - self._start

    # -- zero-copy receive -------------------------------------------------------------------------
    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """Where the next received bytes should go (never empty)."""
        if self._big is not None:
            return memoryview(self._big)[self._big_pos :]
        if self._end == len(self._scratch):
            self._compact()
        return memoryview(self._scratch)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written at the start of the last ``get_buffer()`` view."""
        if self._big is not None:
            self._big_pos += nbytes
            if self._big_pos == len(self._big):
                self._ready.append(self._big)
                self._big = None
                self._big_pos = 0
            return
        self._end += nbytes
        self._parse()

    def _parse(self) -> None:
        buf = self._scratch
        while True:
            avail = self._end - self._start
            if avail < 4:
                break
            (size,) = _SIZE.unpack_from(buf, self._start)
            if size < 0:
                raise ProtocolError("frame", -1, "size", f"negative frame size {size}")
            if size > self.max_frame_size:
                raise FrameTooLargeError(size, self.max_frame_size)
            begin = self._start + 4
            if avail - 4 >= size:
                self._ready.append(bytes(buf[begin : begin + size]))
                self._start = begin + size
                continue
            if size + 4 > len(buf):  # will never fit the scratch area: receive the rest in place
                have = avail - 4
                big = bytearray(size)
                big[:have] = buf[begin : begin + have]
                self._start = self._end = 0
                if have == size:  # pragma: no cover - covered by the complete-frame branch above
                    self._ready.append(big)
                else:
                    self._big, self._big_pos = big, have
            break
        if self._start == self._end:
            self._start = self._end = 0
        elif self._start > len(buf) // 2:
            self._compact()

    def _compact(self) -> None:
        n = self._end - self._start
        if self._start:
            self._scratch[:n] = self._scratch[self._start : self._end]
        self._start, self._end = 0, n

    # -- byte strings ----------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes; raises FrameTooLargeError/ProtocolError as soon as a bad prefix is complete."""
        src = memoryview(data).cast("B")
        i, n = 0, len(src)
        while i < n:
            dst = self.get_buffer()
            k = min(len(dst), n - i)
            dst[:k] = src[i : i + k]
            i += k
            self.buffer_updated(k)

    def next_frame(self) -> bytes | bytearray | None:
        """The next complete frame (without prefix), or None when more bytes are needed."""
        return self._ready.popleft() if self._ready else None

    def frames(self) -> Iterator[bytes | bytearray]:
        """Every complete frame buffered so far."""
        while self._ready:
            yield self._ready.popleft()
