"""One client connection: read, feed the frame buffer, decode, dispatch, write — in order.

Kafka answers the requests of one connection strictly in order and works on one at a time
(it mutes the channel while a request is in flight); doing the same here keeps ordering trivial:
a long-polling Fetch holds only its own connection.  A frame that cannot be decoded, an unknown
API, or an unsupported version closes the connection, as Kafka does — except ApiVersions, which
is answered in v0 format with UNSUPPORTED_VERSION so the client can retry with an older version.
Responses go out as chunks; a chunk that is a file slice is sent with ``sendfile`` (zero-copy).
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
    FrameTooLargeError,
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
READ_SIZE = 256 * 1024


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


class Connection:
    def __init__(
        self, broker: BrokerState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.broker = broker
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.host = peer[0] if isinstance(peer, tuple) else ""
        self.frames = FrameBuffer(max_frame_size=broker.config.socket_request_max_bytes)

    async def run(self) -> None:
        try:
            while True:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    return
                self.frames.feed(data)
                while (frame := self.frames.next_frame()) is not None:
                    await self._serve(frame)
        except FrameTooLargeError as e:
            log.warning("closing %s: %s", self.peer, e)
        except CloseConnection as e:
            log.info("closing %s: %s", self.peer, e)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writer.close()

    async def _serve(self, frame: bytes) -> None:
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
        chunks = encode_response_chunks(header.api_key, header.api_version, header.correlation_id, response)
        await self._write(chunks)

    async def _write(self, chunks: list[Any]) -> None:
        writer = self.writer
        loop = asyncio.get_running_loop()
        for chunk in chunks:
            if isinstance(chunk, bytes | bytearray | memoryview):
                writer.write(chunk)
            else:  # a storage file slice: zero-copy from the segment file
                await writer.drain()
                await loop.sendfile(writer.transport, chunk.file, chunk.position, chunk.length)
        await writer.drain()
