"""One TCP connection to a broker: send requests, match responses by correlation id.

Requests may be pipelined (several in flight); the broker answers in order, so responses are
matched to a FIFO of pending futures and the correlation id is checked, not searched for.  On
connect the client negotiates versions with ApiVersions (newest first, falling back to v0 when
the broker answers UNSUPPORTED_VERSION, as KIP-511 prescribes) and then picks, for each request,
the highest version both sides support.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kafkatools import errors
from kafkatools.codec import (
    API_BY_KEY,
    ApiSpec,
    FrameBuffer,
    RequestHeader,
    decode_response,
    encode_request,
    messages,
)

API_VERSIONS = 18
CLIENT_SOFTWARE_NAME = "kafkatools"
MAX_RESPONSE_BYTES = 512 * 1024 * 1024



def _spec_of(req: Any) -> ApiSpec:
    return API_BY_KEY[type(req).API_KEY]


class NoCommonVersionError(errors.KafkatoolsError):
    """The broker does not support any version of an API that this client can speak."""


class ConnectionClosedError(errors.KafkatoolsError):
    """The broker closed the connection (or it could not be opened)."""


@dataclass(slots=True)
class _Pending:
    correlation_id: int
    api_key: int
    version: int
    future: asyncio.Future[Any]


@dataclass
class BrokerConnection:
    host: str
    port: int
    client_id: str = "kafkatools"
    request_timeout: float = 30.0
    versions: dict[int, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: deque[_Pending] = deque()
        self._ids = itertools.count(1)
        self._reader_task: asyncio.Task[None] | None = None
        self._closed_error: Exception | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self, timeout: float = 10.0) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout
            )
        except (OSError, TimeoutError) as e:
            raise ConnectionClosedError(f"Connection to {self.address} failed: {e}") from None
        self._reader_task = asyncio.create_task(self._read_loop())
        await self._negotiate()

    async def _negotiate(self) -> None:
        from kafkatools import __version__

        for version in (API_BY_KEY[API_VERSIONS].max_version, 0):
            req = messages.ApiVersionsRequest(
                client_software_name=CLIENT_SOFTWARE_NAME, client_software_version=__version__
            )
            resp = await self._send(API_VERSIONS, version, req)
            table = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
            if resp.error_code == errors.UNSUPPORTED_VERSION.code and version != 0:
                hi = table.get(API_VERSIONS, (0, 0))[1]
                if hi > 0:
                    resp = await self._send(API_VERSIONS, min(hi, version), req)
                    table = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
                    if resp.error_code == 0:
                        self.versions = table
                        return
                continue
            if resp.error_code != 0:
                raise errors.KafkaError(errors.error_for(resp.error_code), "ApiVersions failed")
            self.versions = table
            return

    def version_for(self, api_key: int, max_wanted: int | None = None) -> int:
        spec = API_BY_KEY[api_key]
        broker = self.versions.get(api_key)
        if broker is None:
            raise NoCommonVersionError(f"The broker at {self.address} does not support {spec.name}")
        hi = min(spec.max_version, broker[1], max_wanted if max_wanted is not None else spec.max_version)
        if hi < max(spec.min_version, broker[0]):
            raise NoCommonVersionError(f"No common version of {spec.name} with the broker at {self.address}")
        return hi

    async def request(self, req: Any, *, version: int | None = None, max_version: int | None = None) -> Any:
        """Send ``req`` at ``version`` (default: highest common, capped by ``max_version``)."""
        spec = _spec_of(req)
        v = version if version is not None else self.version_for(spec.key, max_version)
        return await self._send(spec.key, v, req)

    def send_no_response(self, req: Any, version: int) -> None:
        """Fire-and-forget (Produce with acks=0: the broker sends no response)."""
        spec = _spec_of(req)
        header = RequestHeader(spec.key, version, next(self._ids), self.client_id)
        self._write(encode_request(header, req))

    async def _send(self, api_key: int, version: int, req: Any) -> Any:
        if self._closed_error is not None:
            raise ConnectionClosedError(f"Connection to {self.address} is closed: {self._closed_error}")
        cid = next(self._ids)
        header = RequestHeader(api_key, version, cid, self.client_id)
        data = encode_request(header, req)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(cid, api_key, version, fut))
        self._write(data)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.request_timeout)
        except TimeoutError:
            # the answer may still arrive (or the connection die) later: retrieve it so asyncio
            # does not report an exception that nobody asked for
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise errors.KafkaError(
                errors.REQUEST_TIMED_OUT, f"{API_BY_KEY[api_key].name} to {self.address} timed out"
            ) from None

    def _write(self, data: bytes) -> None:
        if self._writer is None:
            raise ConnectionClosedError(f"Not connected to {self.address}")
        self._writer.write(data)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        frames = FrameBuffer(max_frame_size=MAX_RESPONSE_BYTES)
        try:
            while True:
                data = await self._reader.read(1 << 20)
                if not data:
                    raise ConnectionClosedError(f"Connection to {self.address} was closed by the broker")
                frames.feed(data)
                while (frame := frames.next_frame()) is not None:
                    if not self._pending:
                        raise ConnectionClosedError(f"Unexpected response from {self.address}")
                    p = self._pending.popleft()
                    cid, body = decode_response(p.api_key, p.version, frame)
                    if cid != p.correlation_id:
                        raise ConnectionClosedError(
                            f"Correlation id mismatch from {self.address}: expected {p.correlation_id}, got {cid}"
                        )
                    if not p.future.done():
                        p.future.set_result(body)
        except asyncio.CancelledError:
            self._fail(ConnectionClosedError("connection closed"))
            raise
        except Exception as e:  # every pending request learns why the connection died
            self._fail(e)

    def _fail(self, error: Exception) -> None:
        self._closed_error = error
        while self._pending:
            p = self._pending.popleft()
            if not p.future.done():
                p.future.set_exception(
                    error if isinstance(error, errors.KafkatoolsError) else ConnectionClosedError(str(error))
                )

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
