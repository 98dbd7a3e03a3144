"""Kafka wire protocol: messages generated from Kafka's JSON definitions, headers, framing.  Pure, sans-IO.

Errors: every decode/encode failure is :class:`kafkatools.errors.ProtocolError` (api, version, dotted
field path, reason); :class:`UnsupportedVersionError` and :class:`FrameTooLargeError` are subclasses.
"""

from kafkatools.codec import messages
from kafkatools.codec.api import API_BY_KEY, API_BY_NAME, ApiSpec
from kafkatools.codec.framing import FrameBuffer, FrameTooLargeError
from kafkatools.codec.headers import (
    RequestHeader,
    UnsupportedVersionError,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    encode_response_chunks,
)

__all__ = [
    "API_BY_KEY",
    "API_BY_NAME",
    "ApiSpec",
    "FrameBuffer",
    "FrameTooLargeError",
    "RequestHeader",
    "UnsupportedVersionError",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
    "encode_response_chunks",
    "messages",
]
