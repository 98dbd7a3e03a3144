"""FrameBuffer: any split of the byte stream gives the same frames; oversized or negative sizes are refused
as soon as the 4-byte prefix is complete, before the body is buffered."""

from __future__ import annotations

import struct

import pytest

from kafkatools.codec import FrameBuffer, FrameTooLargeError
from kafkatools.errors import ProtocolError


def _stream(bodies: list[bytes]) -> bytes:
    return b"".join(struct.pack(">i", len(b)) + b for b in bodies)


BODIES = [b"", b"a", b"hello world", bytes(range(256)) * 3, b"\x00\x00\x00\x05"]


def test_every_split_point_yields_the_same_frames() -> None:
    stream = _stream(BODIES)
    for cut in range(len(stream) + 1):
        fb = FrameBuffer()
        got: list[bytes] = []
        fb.feed(stream[:cut])
        got += fb.frames()
        fb.feed(stream[cut:])
        got += fb.frames()
        assert got == BODIES, cut
        assert len(fb) == 0


def test_byte_by_byte_and_two_cuts() -> None:
    stream = _stream(BODIES[:3])
    fb = FrameBuffer()
    got: list[bytes] = []
    for i in range(len(stream)):
        fb.feed(stream[i : i + 1])
        got += fb.frames()
    assert got == BODIES[:3]
    for a in range(0, len(stream) + 1, 3):
        for b in range(a, len(stream) + 1, 2):
            fb = FrameBuffer()
            for part in (stream[:a], stream[a:b], stream[b:]):
                fb.feed(memoryview(part))
            assert list(fb.frames()) == BODIES[:3]


def test_oversized_frame_rejected_at_its_prefix() -> None:
    fb = FrameBuffer(max_frame_size=100)
    fb.feed(_stream([b"x" * 100]))
    assert list(fb.frames()) == [b"x" * 100]
    fb.feed(b"\x00\x00")
    with pytest.raises(FrameTooLargeError) as info:
        fb.feed(b"\x00\x65")  # 101, no body sent yet
    assert (info.value.size, info.value.max_size) == (101, 100)


def test_negative_size_rejected() -> None:
    fb = FrameBuffer()
    with pytest.raises(ProtocolError):
        fb.feed(struct.pack(">i", -1))


def test_large_frame_in_small_pieces_is_linear() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    stream = _stream([body, b"tail"])
    fb = FrameBuffer()
    got: list[bytes] = []
    for i in range(0, len(stream), 1000):
        fb.feed(stream[i : i + 1000])
        got += fb.frames()
    assert got == [body, b"tail"]
