"""The four record codecs as Kafka's clients write them, with a cap on decompressed size.

All heavy lifting is native: zlib (stdlib, C) for gzip, cramjam (Rust) for snappy, lz4 and zstd.
What lives here is the Kafka-specific framing around them and the bomb guard:

* gzip: one RFC 1952 member (several concatenated members are read too).
* snappy: Java clients use snappy-java's xerial stream, which we write and read::

      magic    8 bytes  0x82 'SNAPPY' 0x00
      version  int32    1
      compat   int32    1
      blocks   (int32 length, raw snappy block)*      Java cuts the input in 32 KiB blocks

  librdkafka writes one raw snappy block instead; on read the magic tells which it is.
* lz4: the LZ4 frame format, written as Kafka's ``KafkaLZ4BlockOutputStream`` does::

      magic    4 bytes  04 22 4D 18
      FLG      1 byte   0x60: version 01, independent blocks, no checksums, no content size
      BD       1 byte   0x40: 64 KiB maximum block size
      HC       1 byte   (xxh32(FLG BD) >> 8) & 0xFF
      blocks   (uint32 LE size, high bit = stored uncompressed; lz4 block)*
      end      uint32 0

  Kafka before 0.10 hashed magic+FLG+BD for HC instead (KAFKA-3160); for magic 0 that
  "broken" byte is still what Kafka writes and HC is not checked on read.  We do the same:
  write the broken byte for magic 0, accept either for magic 0.  Reading goes through cramjam's
  frame decoder, so frames from other clients (linked blocks, checksums, content size) work too.
* zstd: one standard frame (magic 2 only).

Why a cap: a few KiB of lz4/zstd/gzip can expand to gigabytes; every decompression stops with
CorruptRecordError once the output would pass ``max_size`` (Kafka has no such limit, but a tool
or broker that decodes records must not be taken down by one batch).
"""

from __future__ import annotations

import struct
import zlib
from enum import IntEnum
from typing import Final

import cramjam

from kafkatools.errors import CorruptRecordError

DEFAULT_MAX_DECOMPRESSED: Final = 64 * 1024 * 1024

XERIAL_MAGIC: Final = b"\x82SNAPPY\x00"
_XERIAL_HEADER: Final = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK: Final = 32 * 1024
_I32: Final = struct.Struct(">i")
_LZ4_MAGIC: Final = b"\x04\x22\x4d\x18"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
_LZ4_MAX_RATIO: Final = 260  # an lz4 sequence byte can stand for at most 255 output bytes

Buf = bytes | bytearray | memoryview


class Compression(IntEnum):
    """Codec ids of the attributes' low 3 bits; ``.name.lower()`` is Kafka's codec name."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @classmethod
    def from_name(cls, name: str) -> Compression:
        """``"none"``, ``"gzip"``, ``"snappy"``, ``"lz4"`` or ``"zstd"`` (any case); ValueError otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown compression codec {name!r} (expected none, gzip, snappy, lz4 or zstd)") from None


# -- xxh32 for the lz4 frame header checksum (a dozen bytes at most, so plain Python is fine) --
_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
_M32: Final = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def xxh32(data: bytes, seed: int = 0) -> int:
    """XXH32 of ``data`` (reference algorithm)."""
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M32, (seed + _P2) & _M32, seed & _M32, (seed - _P1) & _M32]
        while i + 16 <= n:
            for j in range(4):
                lane = int.from_bytes(data[i : i + 4], "little")
                v[j] = (_rotl((v[j] + lane * _P2) & _M32, 13) * _P1) & _M32
                i += 4
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M32
    else:
        h = (seed + _P5) & _M32
    h = (h + n) & _M32
    while i + 4 <= n:
        h = (_rotl((h + int.from_bytes(data[i : i + 4], "little") * _P3) & _M32, 17) * _P4) & _M32
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * _P5) & _M32, 11) * _P1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M32
    h ^= h >> 13
    h = (h * _P3) & _M32
    return h ^ (h >> 16)


_LZ4_FLG: Final = 0x60  # version 01, block independence, no block/content checksum, no content size
_LZ4_BD: Final = 0x40  # 64 KiB blocks
_LZ4_BLOCK: Final = 64 * 1024
_U32LE: Final = struct.Struct("<I")


def _lz4_hc_position(frame: Buf) -> int:
    """Index of the header-checksum byte in an lz4 frame (after FLG, BD and optional size/dict id)."""
    if len(frame) < 7 or bytes(frame[:4]) != _LZ4_MAGIC:
        raise CorruptRecordError("lz4 data does not start with an lz4 frame header")
    flg = frame[4]
    return 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0)


def _set_lz4_hc(frame: Buf, broken: bool) -> bytes:
    """The frame with its header checksum recomputed, the correct way or Kafka's pre-0.10 way."""
    hc = _lz4_hc_position(frame)
    if len(frame) <= hc:
        raise CorruptRecordError("lz4 frame header truncated")
    out = bytearray(frame)
    covered = bytes(out[:hc]) if broken else bytes(out[4:hc])
    out[hc] = (xxh32(covered) >> 8) & 0xFF
    return bytes(out)


def _lz4_frame(data: Buf, broken_hc: bool) -> bytes:
    """An lz4 frame laid out as Kafka's Java client writes it (see the module docstring)."""
    descriptor = bytes((_LZ4_FLG, _LZ4_BD))
    covered = _LZ4_MAGIC + descriptor if broken_hc else descriptor
    parts = [_LZ4_MAGIC, descriptor, bytes(((xxh32(covered) >> 8) & 0xFF,))]
    view = memoryview(data)
    for start in range(0, len(view), _LZ4_BLOCK):
        raw = view[start : start + _LZ4_BLOCK]
        block = bytes(cramjam.lz4.compress_block(raw, store_size=False))
        if len(block) >= len(raw):  # incompressible: store it, flagged by the size's high bit
            parts += (_U32LE.pack(len(raw) | 0x80000000), bytes(raw))
        else:
            parts += (_U32LE.pack(len(block)), block)
    parts.append(b"\x00\x00\x00\x00")
    return b"".join(parts)


_LZ4_BLOCK_MAX: Final = {4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024}


def _lz4_single_frame_bound(frame: Buf) -> int | None:
    """Most bytes ``frame`` can decompress to (blocks x block maximum), or None unless it is exactly
    one well-formed frame.  The decoder never lets a block exceed the descriptor's maximum, so
    under this bound a plain decompress cannot pass the cap and needs no bounded buffer."""
    if len(frame) < 7 or bytes(frame[:4]) != _LZ4_MAGIC:
        return None
    flg, bd = frame[4], frame[5]
    block_max = _LZ4_BLOCK_MAX.get((bd >> 4) & 7)
    if block_max is None:
        return None
    pos = _lz4_hc_position(frame) + 1
    extra = 4 if flg & 0x10 else 0
    n = len(frame)
    bound = 0
    while n - pos >= 4:
        size = _U32LE.unpack_from(frame, pos)[0]
        pos += 4
        if size == 0:
            return bound if pos + (4 if flg & 0x04 else 0) == n else None
        bound += block_max
        pos += (size & 0x7FFFFFFF) + extra
    return None


def compress(codec: Compression | int, data: Buf, *, magic: int = 2) -> bytes:
    """Compress a record stream the way Kafka's Java client does for ``magic``."""
    if codec == Compression.NONE:
        return bytes(data)
    if codec == Compression.GZIP:
        co = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31 = gzip wrapper, 32 KiB window
        return co.compress(data) + co.flush()
    if codec == Compression.SNAPPY:
        view = memoryview(data)
        parts = [_XERIAL_HEADER]
        for start in range(0, len(view), _XERIAL_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(view[start : start + _XERIAL_BLOCK]))
            parts += (_I32.pack(len(block)), block)
        return b"".join(parts)
    if codec == Compression.LZ4:
        return _lz4_frame(data, broken_hc=magic == 0)
    if codec == Compression.ZSTD:
        return bytes(cramjam.zstd.compress(data))
    raise ValueError(f"unknown compression codec {codec}")


def decompress(codec: Compression | int, data: Buf, max_size: int = DEFAULT_MAX_DECOMPRESSED, *,
               magic: int = 2) -> bytes:
    """Decompress a record stream; CorruptRecordError on bad data or output beyond ``max_size``."""
    try:
        if codec == Compression.NONE:
            out = bytes(data)
        elif codec == Compression.GZIP:
            out = _gunzip(data, max_size)
        elif codec == Compression.SNAPPY:
            out = _unsnappy(data, max_size)
        elif codec == Compression.LZ4:
            if magic == 0 and len(data) >= 7:
                data = _set_lz4_hc(data, broken=False)  # Kafka ignores HC for magic 0: accept either
            bound = _lz4_single_frame_bound(data)
            if (bound is not None and bound <= max_size) or len(data) * _LZ4_MAX_RATIO <= max_size:
                out = bytes(cramjam.lz4.decompress(data))  # cannot pass the cap: no bounded buffer needed
            else:
                out = _bounded(cramjam.lz4, data, max_size, 8 * len(data))
        elif codec == Compression.ZSTD:
            declared = _zstd_content_size(data)
            if declared > max_size:
                raise _too_big(max_size)
            out = _bounded(cramjam.zstd, data, max_size, declared or 8 * len(data))
        else:
            raise CorruptRecordError(f"unknown compression codec {codec}")
    except CorruptRecordError:
        raise
    except (cramjam.DecompressionError, zlib.error, ValueError, TypeError, OverflowError, MemoryError) as exc:
        name = Compression(codec).name.lower() if codec in Compression._value2member_map_ else str(codec)
        raise CorruptRecordError(f"{name} decompression failed: {exc}") from None
    if len(out) > max_size:
        raise CorruptRecordError(f"decompressed records exceed the {max_size}-byte limit")
    return out


def _too_big(max_size: int) -> CorruptRecordError:
    return CorruptRecordError(f"decompressed records exceed the {max_size}-byte limit")


def _gunzip(data: Buf, max_size: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    rest = bytes(data)
    while True:
        d = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, auto-detected
        chunk = d.decompress(rest, max_size - total + 1)
        total += len(chunk)
        parts.append(chunk)
        if total > max_size:
            raise _too_big(max_size)
        if not d.eof:
            raise CorruptRecordError("gzip stream is truncated")
        rest = d.unused_data
        if not rest:
            return b"".join(parts)


def _unsnappy(data: Buf, max_size: int) -> bytes:
    view = memoryview(data)
    if bytes(view[:8]) != XERIAL_MAGIC:
        if cramjam.snappy.decompress_raw_len(view) > max_size:
            raise _too_big(max_size)
        return bytes(cramjam.snappy.decompress_raw(view))
    if len(view) < 16:
        raise CorruptRecordError("xerial snappy header truncated")
    parts: list[bytes] = []
    total = 0
    pos = 16
    while pos < len(view):
        if len(view) - pos < 4:
            raise CorruptRecordError("xerial snappy block length truncated")
        size = _I32.unpack_from(view, pos)[0]
        pos += 4
        if size < 0 or pos + size > len(view):
            raise CorruptRecordError(f"xerial snappy block of {size} bytes runs past the data")
        block = view[pos : pos + size]
        total += cramjam.snappy.decompress_raw_len(block)
        if total > max_size:
            raise _too_big(max_size)
        parts.append(bytes(cramjam.snappy.decompress_raw(block)))
        pos += size
    return b"".join(parts)


def _zstd_content_size(data: Buf) -> int:
    """Frame_Content_Size from a zstd frame header when present, else 0 (unknown)."""
    if len(data) < 6 or bytes(data[:4]) != _ZSTD_MAGIC:
        return 0
    fhd = data[4]
    fcs_code, single = fhd >> 6, (fhd >> 5) & 1
    pos = 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
    width = (1 if single else 0, 2, 4, 8)[fcs_code]
    if width == 0 or len(data) < pos + width:
        return 0
    size = int.from_bytes(data[pos : pos + width], "little")
    return size + 256 if width == 2 else size


def _bounded(module: object, data: Buf, max_size: int, guess: int) -> bytes:
    """Decompress into buffers growing from ``guess`` up to ``max_size``; never allocates past the cap.

    cramjam's ``decompress_into`` fails with "failed to write whole buffer" when the output does
    not fit, which is how a too-small buffer is told from corrupt data.
    """
    size = min(max_size, max(guess, 64 * 1024))
    while True:
        out = bytearray(size)
        try:
            n: int = module.decompress_into(data, out)  # type: ignore[attr-defined]
        except cramjam.DecompressionError as exc:
            if "whole buffer" not in str(exc):
                raise
            if size >= max_size:
                raise _too_big(max_size) from None
            size = min(max_size, size * 4)
            continue
        del out[n:]
        return bytes(out)
