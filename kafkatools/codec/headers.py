"""Request and response headers, and whole-frame encode/decode (Kafka's ``RequestHeader``/``ResponseHeader``).

Layouts (frames here are without the int32 size prefix; encoders return it included)::

    request header v0  api_key int16, api_version int16, correlation_id int32
                   v1  + client_id  classic nullable string (int16 length, -1 = null)
                   v2  + tagged-field section; client_id stays classic so any broker can read it
    response header v0 correlation_id int32
                    v1 + tagged-field section

Which header version: request v2 when the API version is flexible, else v1 (ControlledShutdown v0 uses
v0); response v1 when flexible, else v0 -- except ApiVersions responses, always v0 (KIP-511), so that a
client can read the error of an ApiVersions version the broker does not know.

Why decode_request raises :class:`UnsupportedVersionError` carrying the parsed header: a broker answers
UNSUPPORTED_VERSION (and ApiVersions in v0 format) from the header alone, without touching the body.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from kafkatools.codec._base import Message
from kafkatools.codec._prim import I32, Fail, Out, rd_nstr, rd_tag_count, rd_tag_header, w_nstr, w_tagged
from kafkatools.codec.api import API_BY_KEY, ApiSpec
from kafkatools.errors import ProtocolError

API_VERSIONS_KEY: Final = 18
CONTROLLED_SHUTDOWN_KEY: Final = 7
_KEY_VER_CORR: Final = struct.Struct(">hhi")
_SIZE_PLACEHOLDER: Final = b"\x00\x00\x00\x00"


@dataclass(slots=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None = None
    tagged_fields: list[tuple[int, bytes]] = field(
        default_factory=list
    )  # v2 only, kept for lossless re-encode


class UnsupportedVersionError(ProtocolError):
    """Unknown API key or a version outside the schema's range; ``header`` is what could be read."""

    def __init__(self, header: RequestHeader, reason: str) -> None:
        super().__init__(f"api_key {header.api_key}", header.api_version, "", reason)
        self.header = header


def request_header_version(api_key: int, api_version: int) -> int:
    if api_key == CONTROLLED_SHUTDOWN_KEY and api_version == 0:
        return 0
    spec = API_BY_KEY.get(api_key)
    return 2 if spec is not None and spec.is_flexible(api_version) else 1


def response_header_version(api_key: int, api_version: int) -> int:
    if api_key == API_VERSIONS_KEY:
        return 0
    spec = API_BY_KEY.get(api_key)
    return 1 if spec is not None and spec.is_flexible(api_version) else 0


def _view(frame: bytes | bytearray | memoryview) -> memoryview:
    view = frame if isinstance(frame, memoryview) else memoryview(frame)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _read_tags(view: memoryview, pos: int) -> tuple[list[tuple[int, bytes]], int]:
    count, pos = rd_tag_count(view, pos)
    tags = []
    for _ in range(count):
        tag, start, end = rd_tag_header(view, pos)
        tags.append((tag, bytes(view[start:end])))
        pos = end
    return tags, pos


def _spec(api_key: int, api_version: int) -> ApiSpec:
    spec = API_BY_KEY.get(api_key)
    if spec is None or not spec.supports(api_version):
        raise ProtocolError(f"api_key {api_key}", api_version, "", "unknown API key or unsupported version")
    return spec


def decode_request(frame: bytes | bytearray | memoryview) -> tuple[RequestHeader, Message]:
    """Header and body of one request frame (no size prefix); records fields are views into ``frame``."""
    view = _view(frame)
    if len(view) < 8:
        raise ProtocolError("RequestHeader", 0, "", f"frame of {len(view)} bytes is shorter than a header")
    api_key, api_version, correlation_id = _KEY_VER_CORR.unpack_from(view, 0)
    header = RequestHeader(api_key, api_version, correlation_id)
    hv = request_header_version(api_key, api_version)
    pos = 8
    spec = API_BY_KEY.get(api_key)
    if spec is None or not spec.supports(api_version):
        try:  # best effort: a broker logs the client id of what it refuses
            header.client_id = rd_nstr(view, pos)[0]
        except Exception:
            header.client_id = None
        what = "unknown API key" if spec is None else f"version outside {spec.min_version}-{spec.max_version}"
        raise UnsupportedVersionError(header, f"{what} (api_key {api_key}, version {api_version})")
    try:
        if hv >= 1:
            header.client_id, pos = rd_nstr(view, pos)
        if hv == 2:
            header.tagged_fields, pos = _read_tags(view, pos)
    except Fail as e:
        raise ProtocolError(
            "RequestHeader", hv, "client_id" if hv == 1 else "tagged_fields", e.reason
        ) from None
    except Exception as e:
        raise ProtocolError("RequestHeader", hv, "client_id", f"{type(e).__name__}: {e}") from None
    body, _ = spec.request.decode_at(view, pos, api_version)
    return header, body


def _check_type(spec: ApiSpec, message: object, request: bool) -> None:
    expected = spec.request if request else spec.response
    if not isinstance(message, expected):
        raise ProtocolError(
            expected.__name__, -1, "", f"expected {expected.__name__}, got {type(message).__name__}"
        )


def _finish(out: bytearray) -> bytearray:
    out[0:4] = I32.pack(len(out) - 4)
    return out


def encode_request(header: RequestHeader, request: object) -> bytes:
    """Full wire bytes of a request, int32 size prefix included."""
    spec = _spec(header.api_key, header.api_version)
    _check_type(spec, request, True)
    assert isinstance(request, Message)
    hv = request_header_version(header.api_key, header.api_version)
    out = bytearray(_SIZE_PLACEHOLDER)
    try:
        out += _KEY_VER_CORR.pack(header.api_key, header.api_version, header.correlation_id)
        if hv >= 1:
            w_nstr(out, header.client_id)
        if hv == 2:
            w_tagged(out, [], header.tagged_fields)
    except (Fail, struct.error) as e:
        raise ProtocolError("RequestHeader", hv, "", str(e)) from None
    request.encode_into(out, header.api_version)
    return bytes(_finish(out))


def decode_response(
    api_key: int, api_version: int, frame: bytes | bytearray | memoryview
) -> tuple[int, Message]:
    """(correlation_id, body) of one response frame (no size prefix)."""
    spec = _spec(api_key, api_version)
    view = _view(frame)
    if len(view) < 4:
        raise ProtocolError("ResponseHeader", 0, "correlation_id", "frame shorter than a response header")
    (correlation_id,) = I32.unpack_from(view, 0)
    pos = 4
    if response_header_version(api_key, api_version) == 1:
        try:
            _, pos = _read_tags(view, pos)
        except Fail as e:
            raise ProtocolError("ResponseHeader", 1, "tagged_fields", e.reason) from None
    body, _ = spec.response.decode_at(view, pos, api_version)
    return correlation_id, body


def _encode_response(
    out: bytearray, api_key: int, api_version: int, correlation_id: int, response: object
) -> None:
    spec = _spec(api_key, api_version)
    _check_type(spec, response, False)
    assert isinstance(response, Message)
    try:
        out += I32.pack(correlation_id)
    except struct.error as e:
        raise ProtocolError("ResponseHeader", 0, "correlation_id", str(e)) from None
    if response_header_version(api_key, api_version) == 1:
        out.append(0)
    response.encode_into(out, api_version)


def encode_response(api_key: int, api_version: int, correlation_id: int, response: object) -> bytes:
    """Full wire bytes of a response, int32 size prefix included."""
    out = bytearray(_SIZE_PLACEHOLDER)
    _encode_response(out, api_key, api_version, correlation_id, response)
    return bytes(_finish(out))


def encode_response_chunks(
    api_key: int, api_version: int, correlation_id: int, response: object
) -> list[bytes | memoryview | object]:
    """Like :func:`encode_response`, but records values that are not bytes (anything with ``__len__``, e.g.
    a file slice) come back as their own list elements, so the caller can ``sendfile()`` them."""
    out = Out(chunked=True)
    out += _SIZE_PLACEHOLDER
    _encode_response(out, api_key, api_version, correlation_id, response)
    splits = out.splits or []
    total = len(out) - 4 + sum(len(obj) for _, obj in splits)  # type: ignore[arg-type,misc]
    out[0:4] = I32.pack(total)
    chunks: list[bytes | memoryview | object] = []
    start = 0
    for pos, obj in splits:
        if pos > start:
            chunks.append(bytes(out[start:pos]))
        chunks.append(obj)
        start = pos
    if start < len(out):
        chunks.append(bytes(out[start:]))
    return chunks
