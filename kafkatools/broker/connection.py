"""One client connection: receive frames, decode, dispatch, write answers — strictly in order.

Kafka answers the requests of one connection in order and works on one at a time (it mutes the
channel while a request is in flight); doing the same keeps ordering trivial, and a long-polling
Fetch holds only its own connection.  A frame that cannot be decoded, an unknown API or an
unsupported version closes the connection, as Kafka does — except ApiVersions, which is answered in
v0 format with UNSUPPORTED_VERSION so the client can retry with an older version (KIP-511).

Bytes arrive through asyncio's ``BufferedProtocol`` straight into the codec's ``FrameBuffer``: a
large Produce request is received into its own buffer by the kernel and never copied again (the
records are appended from a view of it).  Responses go out as chunks; a chunk that is a storage
file slice is sent with ``sendfile`` (zero-copy).  When a client pipelines faster than we answer,
reading pauses; when it reads slower than we answer, we wait for the socket buffer to drain.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.dispatch import ROUTES, supported_versions
from kafkatools.broker.state import BrokerState
from kafkatools.codec import (
    FrameBuffer,
    RequestHeader,
    UnsupportedVersionError,
    decode_request,
    encode_response,
    encode_response_chunks,
    messages,
)
from kafkatools.errors import ProtocolError

log = logging.getLogger("kafkatools.broker.connection")

API_VERSIONS_KEY = 18
MAX_QUEUED_FRAMES = 64


class CloseConnection(Exception):
    """Raised inside the loop to drop the connection after logging why."""


def unsupported_api_versions_reply(header: RequestHeader) -> bytes:
    """ApiVersions at a version we don't know: a v0 body with UNSUPPORTED_VERSION and our ranges."""
    body = messages.ApiVersionsResponse(
        error_code=errors.UNSUPPORTED_VERSION.code,
        api_keys=[
            messages.ApiVersionsResponse.ApiVersion(api_key=k, min_version=lo, max_version=hi)
            for k, lo, hi in supported_versions()
        ],
    )
    return encode_response(API_VERSIONS_KEY, 0, header.correlation_id, body)


class BrokerProtocol(asyncio.BufferedProtocol):
    def __init__(self, broker: BrokerState, tasks: set[asyncio.Task[None]]) -> None:
        self.broker = broker
        self.frames = FrameBuffer(max_frame_size=broker.config.socket_request_max_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.host = ""
        self._tasks = tasks
        self._wakeup = asyncio.Event()
        self._closed = False
        self._stopping = False
        self._reading_paused = False
        self._drained: asyncio.Future[None] | None = None

    # -- asyncio callbacks ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.host = peer[0] if isinstance(peer, tuple) else ""
        task = asyncio.get_running_loop().create_task(self._serve_loop())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.frames.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        try:
            self.frames.buffer_updated(nbytes)
        except ProtocolError as e:  # oversized or negative size prefix: refuse before buffering
            # Read nothing more, but answer the requests that arrived whole before the bad prefix
            # (Kafka, which reads one request at a time, answers them before it sees the prefix).
            log.warning("closing %s: %s", self.peer, e)
            self._closed = True
            if self.transport is not None:
                self.transport.pause_reading()
            self._wakeup.set()
            return
        self._wakeup.set()
        if len(self.frames._ready) >= MAX_QUEUED_FRAMES and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._closed = True
        self._wakeup.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._wakeup.set()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def close_when_idle(self) -> None:
        """Broker shutdown: finish the requests already received, then close instead of waiting for more.

        Without this an idle client connection (librdkafka keeps one open all the time) held a SIGTERM
        stop for the whole shutdown grace period.
        """
        self._stopping = True
        self._wakeup.set()

    # -- the request loop -----------------------------------------------------------------------
    async def _serve_loop(self) -> None:
        try:
            while True:
                frame = self.frames.next_frame()
                if frame is None:
                    if self._closed or self._stopping:
                        return
                    if self._reading_paused and self.transport is not None:
                        self._reading_paused = False
                        self.transport.resume_reading()
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                await self._serve(frame)
        except CloseConnection as e:
            log.info("closing %s: %s", self.peer, e)
        except (ConnectionError, OSError):
            pass
        finally:
            self._close()

    def _close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    async def _serve(self, frame: bytes | bytearray) -> None:
        try:
            header, request = decode_request(frame)
        except UnsupportedVersionError as e:
            if e.header is not None and e.header.api_key == API_VERSIONS_KEY:
                await self._write([unsupported_api_versions_reply(e.header)])
                return
            raise CloseConnection(str(e)) from None
        except ProtocolError as e:
            raise CloseConnection(f"malformed request: {e}") from None
        route = ROUTES.get(header.api_key)
        if route is None or not route.min_version <= header.api_version <= route.max_version:
            if header.api_key == API_VERSIONS_KEY:
                await self._write([unsupported_api_versions_reply(header)])
                return
            raise CloseConnection(f"unsupported API {header.api_key} v{header.api_version}")
        ctx = RequestContext(header=header, broker=self.broker, client_host=self.host)
        try:
            response = await route.handle(ctx, request)
        except errors.KafkatoolsError as e:
            raise CloseConnection(f"{route.name} v{header.api_version} failed: {e}") from None
        except Exception:
            log.exception("error handling %s v%d from %s", route.name, header.api_version, self.peer)
            raise CloseConnection("internal error") from None
        if response is None:  # acks=0 Produce: no response at all
            return
        await self._write(encode_response_chunks(header.api_key, header.api_version, header.correlation_id,
                                                 response))

    async def _write(self, chunks: list[Any]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise CloseConnection("connection closed before the response was written")
        loop = asyncio.get_running_loop()
        for chunk in chunks:
            if isinstance(chunk, bytes | bytearray | memoryview):
                transport.write(chunk)
            else:  # a storage file slice: zero-copy from the segment file
                await self._drain()
                await loop.sendfile(transport, chunk.file, chunk.position, chunk.length)
        await self._drain()

    async def _drain(self) -> None:
        if self._drained is not None:
            await self._drained
        if self._closed and self.transport is not None and self.transport.is_closing():
            raise ConnectionResetError("peer closed the connection")
