"""Kafka wire protocol: messages generated from Kafka's JSON definitions, headers, framing.  Pure, sans-IO.

Two layers describe every message, both derived from the same schema model (``_schema``):

* ``construct_model`` - the declarative specification: one ``construct`` structure per message and
  version (Kafka's primitives, compact and tagged encodings as construct classes).  It is readable,
  executable and checked against the generated code for every message and version, both directions
  (``tests/unit/test_codec_construct_model.py``).  Not used at run time.
* ``_generated/`` - the same structures compiled ahead of time for the hot path: what construct's
  ``.compile()`` does, but done by ``generate`` at build time, with the version conditions resolved
  and records handed out as memoryviews (2-100x faster than the compiled construct model; figures
  in ``construct_model`` and ``benchmarks/codec.py``).  ``python -m kafkatools.codec.generate --check``
  fails when it is stale.

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
