"""Codec framing as Kafka's clients write it: xerial snappy, Java-layout lz4 with the KAFKA-3160 header
checksum for magic 0, gzip members, zstd; the decompression cap; xxh32 test vectors."""

from __future__ import annotations

import gzip
import struct

import cramjam
import pytest

from kafkatools.errors import CorruptRecordError
from kafkatools.wire.compression import XERIAL_MAGIC, Compression, compress, decompress, xxh32

DATA = b"".join(b"record %06d: some moderately compressible payload\n" % i for i in range(3000))  # ~160 KB


@pytest.mark.parametrize("magic", [0, 1, 2])
@pytest.mark.parametrize("codec", list(Compression))
def test_round_trip(codec: Compression, magic: int) -> None:
    for data in (DATA, b"", b"x"):
        packed = compress(codec, data, magic=magic)
        assert decompress(codec, packed, magic=magic) == data
        assert decompress(codec, memoryview(packed), magic=magic) == data
    if codec != Compression.NONE:
        assert len(compress(codec, DATA, magic=magic)) < len(DATA) // 3


def test_codec_names() -> None:
    assert [c.name.lower() for c in Compression] == ["none", "gzip", "snappy", "lz4", "zstd"]
    assert Compression.from_name("LZ4") is Compression.LZ4
    with pytest.raises(ValueError, match="brotli"):
        Compression.from_name("brotli")


def test_xerial_snappy_layout() -> None:
    packed = compress(Compression.SNAPPY, DATA)
    assert packed[:8] == XERIAL_MAGIC and struct.unpack(">ii", packed[8:16]) == (1, 1)
    pos, out = 16, b""
    while pos < len(packed):
        (size,) = struct.unpack_from(">i", packed, pos)
        block = bytes(cramjam.snappy.decompress_raw(packed[pos + 4 : pos + 4 + size]))
        assert len(block) <= 32 * 1024
        out += block
        pos += 4 + size
    assert pos == len(packed) and out == DATA


def test_raw_snappy_is_read_too() -> None:
    raw = bytes(cramjam.snappy.compress_raw(DATA))  # what librdkafka sends
    assert decompress(Compression.SNAPPY, raw) == DATA


@pytest.mark.parametrize("cut", [10, 17, 30])
def test_truncated_xerial_raises(cut: int) -> None:
    with pytest.raises(CorruptRecordError):
        decompress(Compression.SNAPPY, compress(Compression.SNAPPY, DATA)[:cut])


def _hc_rule(frame: bytes) -> tuple[int, int]:
    """(correct, KAFKA-3160 broken) header checksum for a frame with FLG+BD only."""
    return (xxh32(frame[4:6]) >> 8) & 0xFF, (xxh32(frame[0:6]) >> 8) & 0xFF


def test_lz4_java_layout_and_header_checksums() -> None:
    v2 = compress(Compression.LZ4, DATA, magic=2)
    v0 = compress(Compression.LZ4, DATA, magic=0)
    assert v2[:6] == b"\x04\x22\x4d\x18\x60\x40" == v0[:6]  # magic, FLG 0x60, BD 0x40 (64 KiB blocks)
    correct, broken = _hc_rule(v2)
    assert correct != broken
    assert v2[6] == correct and v0[6] == broken and v2[7:] == v0[7:]
    assert v2.endswith(b"\x00\x00\x00\x00")
    assert bytes(cramjam.lz4.decompress(v2)) == DATA  # a standard frame decoder reads ours


def test_lz4_magic0_accepts_either_checksum_later_magics_only_the_correct_one() -> None:
    v2 = compress(Compression.LZ4, DATA, magic=2)
    v0 = compress(Compression.LZ4, DATA, magic=0)
    assert decompress(Compression.LZ4, v0, magic=0) == DATA
    assert decompress(Compression.LZ4, v2, magic=0) == DATA
    with pytest.raises(CorruptRecordError, match="lz4"):
        decompress(Compression.LZ4, v0, magic=1)


def test_lz4_frames_of_other_writers() -> None:
    other = bytes(cramjam.lz4.compress(DATA))  # content checksum, liblz4 defaults
    assert decompress(Compression.LZ4, other) == DATA
    with pytest.raises(CorruptRecordError, match="lz4"):
        decompress(Compression.LZ4, b"\x00\x01\x02\x03garbage")


def test_gzip_members_and_truncation() -> None:
    two = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:])
    assert decompress(Compression.GZIP, two) == DATA
    with pytest.raises(CorruptRecordError, match="truncated"):
        decompress(Compression.GZIP, gzip.compress(DATA)[:-20])
    with pytest.raises(CorruptRecordError, match="gzip"):
        decompress(Compression.GZIP, b"\x1f\x8bnot really")


@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD])
def test_cap(codec: Compression) -> None:
    bomb = compress(codec, bytes(3 << 20))
    with pytest.raises(CorruptRecordError, match="limit"):
        decompress(codec, bomb, 1 << 20)
    assert len(decompress(codec, bomb, 3 << 20)) == 3 << 20  # exactly at the cap is fine


def test_zstd_declared_size_over_cap_is_rejected_before_decoding() -> None:
    frame = bytes(cramjam.zstd.compress(bytes(10 << 20)))
    with pytest.raises(CorruptRecordError, match="limit"):
        decompress(Compression.ZSTD, frame, 1 << 20)


def test_unknown_codec() -> None:
    with pytest.raises(CorruptRecordError, match="codec"):
        decompress(6, b"abc")
    with pytest.raises(ValueError, match="codec"):
        compress(6, b"abc")


@pytest.mark.parametrize(
    ("data", "seed", "expected"),
    [
        (b"", 0, 0x02CC5D05),
        (b"a", 0, 0x550D7456),
        (b"abc", 0, 0x32D153FF),
        (b"Nobody inspects the spammish repetition", 0, 0xE2293B2F),
        (b"", 1, 0x0B2CB792),
    ],
)
def test_xxh32_vectors(data: bytes, seed: int, expected: int) -> None:
    assert xxh32(data, seed) == expected


def test_xxh32_matches_liblz4_header_checksums() -> None:
    # liblz4 (through cramjam) writes the correct HC byte; our xxh32 must agree for any descriptor it emits
    for size in (0, 10, 100_000):
        frame = bytes(cramjam.lz4.compress(bytes(size)))
        assert frame[6] == (xxh32(frame[4:6]) >> 8) & 0xFF


def test_lz4_concatenated_frames_still_capped() -> None:
    one = compress(Compression.LZ4, bytes(1 << 20))
    assert decompress(Compression.LZ4, one, 1 << 20) == bytes(1 << 20)
    with pytest.raises(CorruptRecordError, match="limit"):
        decompress(Compression.LZ4, one + one, (3 << 20) // 2)
