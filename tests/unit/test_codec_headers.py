"""Headers: version chosen per API/version (ApiVersions responses always v0, ControlledShutdown v0 request
header v0), client_id classic even in v2, size prefix included by the encoders, chunked responses."""

from __future__ import annotations

import struct

import pytest

from kafkatools.codec import (
    API_BY_KEY,
    API_BY_NAME,
    RequestHeader,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    encode_response_chunks,
    messages,
)
from kafkatools.codec.headers import request_header_version, response_header_version
from kafkatools.errors import ProtocolError


def test_api_table() -> None:
    produce = API_BY_NAME["Produce"]
    assert (produce.key, produce.min_version, produce.max_version, produce.flexible_min) == (0, 0, 11, 9)
    assert produce.request is messages.ProduceRequest and produce.response is messages.ProduceResponse
    assert API_BY_KEY[18].name == "ApiVersions"
    assert len(API_BY_KEY) > 70


def test_header_versions() -> None:
    assert request_header_version(7, 0) == 0
    assert request_header_version(7, 1) == 1
    assert request_header_version(0, 8) == 1 and request_header_version(0, 9) == 2
    assert response_header_version(18, 3) == 0
    assert response_header_version(3, 9) == 1 and response_header_version(3, 8) == 0


def test_flexible_request_frame_layout() -> None:
    req = messages.ApiVersionsRequest(client_software_name="kt", client_software_version="1.0")
    wire = encode_request(RequestHeader(18, 3, 5, "me"), req)
    (size,) = struct.unpack_from(">i", wire)
    assert size == len(wire) - 4
    # key, version, correlation, classic client_id, empty tag section, compact strings, tags
    assert wire[4:] == struct.pack(">hhih", 18, 3, 5, 2) + b"me" + b"\x00" + b"\x03kt\x041.0\x00"
    header, body = decode_request(wire[4:])
    assert header == RequestHeader(18, 3, 5, "me") and body == req


def test_controlled_shutdown_v0_has_no_client_id() -> None:
    req = messages.ControlledShutdownRequest(broker_id=3)
    wire = encode_request(RequestHeader(7, 0, 1, "ignored"), req)
    assert wire[4:] == struct.pack(">hhii", 7, 0, 1, 3)
    header, body = decode_request(wire[4:])
    assert header.client_id is None and body == req


def test_api_versions_response_uses_header_v0_even_when_flexible() -> None:
    resp = messages.ApiVersionsResponse(
        error_code=0,
        api_keys=[messages.ApiVersionsResponse.ApiVersion(api_key=0, min_version=0, max_version=11)],
    )
    wire = encode_response(18, 3, 77, resp)
    assert wire[4:8] == struct.pack(">i", 77) and wire[8:10] == b"\x00\x00"  # error_code right after
    assert decode_response(18, 3, wire[4:]) == (77, resp)
    flex = encode_response(3, 12, 78, messages.MetadataResponse())
    assert flex[8] == 0  # response header v1: empty tag section
    assert decode_response(3, 12, flex[4:])[0] == 78


def test_records_decode_as_zero_copy_views() -> None:
    P = messages.ProduceRequest
    req = P(
        acks=1,
        topic_data=[
            P.TopicProduceData(
                name="t", partition_data=[P.PartitionProduceData(index=0, records=b"B" * 1000)]
            )
        ],
    )
    frame = bytearray(encode_request(RequestHeader(0, 9, 1, None), req)[4:])
    _, body = decode_request(frame)
    assert isinstance(body, P)
    records = body.topic_data[0].partition_data[0].records
    assert isinstance(records, memoryview) and records.obj is frame


class FakeSlice:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)


def test_encode_response_chunks_leaves_file_slices_alone() -> None:
    F = messages.FetchResponse
    seg = FakeSlice(b"S" * 50)
    resp = F(
        responses=[
            F.FetchableTopicResponse(topic="t", partitions=[F.PartitionData(partition_index=0, records=seg)])
        ]
    )  # type: ignore[arg-type]
    for v in (4, 12):
        chunks = encode_response_chunks(1, v, 9, resp)
        assert seg in chunks
        joined = b"".join(c.data if isinstance(c, FakeSlice) else bytes(c) for c in chunks)  # type: ignore[arg-type]
        plain = F(
            responses=[
                F.FetchableTopicResponse(
                    topic="t", partitions=[F.PartitionData(partition_index=0, records=b"S" * 50)]
                )
            ]
        )
        assert joined == encode_response(1, v, 9, plain)
    with pytest.raises(ProtocolError):
        encode_response(1, 4, 9, resp)


def test_wrong_message_type_is_refused() -> None:
    with pytest.raises(ProtocolError):
        encode_request(RequestHeader(0, 3, 1, None), messages.FetchRequest())
