"""Material for fuzzing a live broker: real captured requests and the ways we break them.

:class:`RecordingProxy` sits between real clients and the broker (the broker advertises the proxy's
port, so every connection of a client goes through it) and keeps each client->broker frame.
:func:`mutants` turns that corpus into a deterministic stream of :class:`Frame` — bit flips,
truncations, smashed integer fields (huge array/string lengths, partition counts), unknown API keys,
bad versions, Produce requests whose record batch fails its CRC or carries garbage records, random
bodies, and wire-level breakage (oversized, negative or lying size prefixes, raw garbage) that can
only end a connection.  CreateTopics/CreatePartitions frames are sent only when validate-only.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from crc32c import crc32c

from kafkatools.broker.dispatch import ROUTES
from kafkatools.codec import decode_request, encode_request, messages

PRODUCE = 0
CREATE_TOPICS = 19
CREATE_PARTITIONS = 37
SIZE = struct.Struct(">i")
INTERESTING = (0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, -0x80000000, 1 << 20, 1 << 24)


@dataclass(frozen=True, slots=True)
class Frame:
    """Bytes to put on the wire; ``ends_stream`` ones break framing, so nothing may follow them."""

    kind: str
    wire: bytes
    api_key: int = -1
    ends_stream: bool = False
    expect_error: int | None = None  # Produce error code every partition must answer with


def framed(body: bytes) -> bytes:
    return SIZE.pack(len(body)) + body


class RecordingProxy:
    """A thread-per-direction TCP relay on 127.0.0.1 that records request frames (size prefix removed)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frames: list[bytes] = []
        self.recording = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._relay, args=(upstream, client), daemon=True).start()

    def _requests(self, src: socket.socket, dst: socket.socket) -> None:
        pending = bytearray()
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
                if not self.recording:
                    continue
                pending += chunk
                while len(pending) >= 4 and len(pending) >= 4 + SIZE.unpack_from(pending)[0]:
                    size = SIZE.unpack_from(pending)[0]
                    with self._lock:
                        self.frames.append(bytes(pending[4:4 + size]))
                    del pending[:4 + size]
        except OSError:
            pass
        finally:
            _shut(dst)

    def _relay(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(dst)

    def close(self) -> None:
        with self._lock:
            for s in self._sockets:
                _shut(s)
                s.close()


def _shut(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)


def synthetic_requests() -> list[bytes]:
    """Every routed API at every version it accepts, default-valued (empty arrays, null strings)."""
    from kafkatools.codec import API_BY_KEY, RequestHeader

    out = []
    for key, route in sorted(ROUTES.items()):
        cls = getattr(messages, API_BY_KEY[key].name + "Request")
        for v in range(route.min_version, route.max_version + 1):
            out.append(encode_request(RequestHeader(key, v, 1000 + v, "fuzz-synthetic"), cls())[4:])
    return out


def _api_key(body: bytes) -> int:
    return struct.unpack_from(">h", body)[0] if len(body) >= 2 else -1


def _produce_with(body: bytes, rewrite: object) -> bytes | None:
    """Re-encode a Produce frame after ``rewrite(records) -> records`` on each partition's records."""
    try:
        header, req = decode_request(body)
    except Exception:
        return None
    assert isinstance(req, messages.ProduceRequest)
    parts = [pd for t in req.topic_data for pd in t.partition_data if pd.records]
    if not parts:
        return None
    for pd in parts:
        pd.records = rewrite(bytes(pd.records))  # type: ignore[operator]
    return encode_request(header, req)[4:]


def _broken_crc(rnd: random.Random) -> object:
    """Flip one bit that the first v2 batch's CRC-32C covers (bytes 21 to the end of that batch)."""
    def rewrite(records: bytes) -> bytes:
        b = bytearray(records)
        end = min(len(b), 12 + SIZE.unpack_from(b, 8)[0])
        pos = rnd.randrange(21, end)
        b[pos] ^= 1 << rnd.randrange(8)
        return bytes(b)
    return rewrite


def _crc_breakable(body: bytes, topic: str) -> bool:
    """A Produce frame to ``topic`` with acks != 0 whose every partition carries a whole v2 batch."""
    try:
        _, req = decode_request(body)
    except Exception:
        return False
    assert isinstance(req, messages.ProduceRequest)
    parts = [pd for t in req.topic_data for pd in t.partition_data]
    return req.acks != 0 and bool(parts) and {t.name for t in req.topic_data} == {topic} and all(
        pd.records is not None and len(pd.records) > 61 and pd.records[16] == 2
        and 12 + SIZE.unpack_from(pd.records, 8)[0] <= len(pd.records) for pd in parts)


def _garbage_records(rnd: random.Random) -> object:
    """A v2 batch header kept, its records replaced by random bytes, and the CRC made to match."""
    def rewrite(records: bytes) -> bytes:
        if len(records) < 61 or rnd.random() < 0.3:
            return rnd.randbytes(rnd.randint(0, 120))
        b = bytearray(records[:61] + rnd.randbytes(rnd.randint(0, 200)))
        struct.pack_into(">i", b, 8, len(b) - 12)
        struct.pack_into(">I", b, 17, crc32c(bytes(b[21:])))
        return bytes(b)
    return rewrite


def mutants(corpus: list[bytes], count: int, seed: int, produce_topic: str) -> list[Frame]:
    """``count`` frames derived from ``corpus`` (request bodies without size prefixes).

    CRC-broken and garbage-record Produce requests are made from captured ones to ``produce_topic``,
    an existing topic, so that the only thing wrong with them is their records.
    """
    return list(itertools.islice(_mutants(corpus, random.Random(seed), produce_topic), count))


def _mutants(corpus: list[bytes], rnd: random.Random, topic: str) -> Iterator[Frame]:
    produce = [f for f in corpus if _api_key(f) == PRODUCE and _crc_breakable(f, topic)]
    assert produce, "the corpus has no Produce request to break"
    routes = sorted(ROUTES.values(), key=lambda r: r.api_key)
    kinds = ["bitflip"] * 20 + ["truncate"] * 8 + ["extend"] * 5 + ["splice"] * 8 + ["smash"] * 16 + \
        ["unknown_api"] * 4 + ["bad_version"] * 6 + ["crc"] * 9 + ["garbage_records"] * 7 + ["random"] * 10 + \
        ["valid"] * 3 + ["oversize"] * 1 + ["negative_size"] * 1 + ["lying_size"] * 1 + ["raw"] * 1
    while True:
        kind = rnd.choice(kinds)
        base = rnd.choice(corpus)
        body = bytearray(base)
        if kind == "bitflip":
            for _ in range(rnd.randint(1, 4)):
                i = rnd.randrange(len(body) * 8)
                body[i // 8] ^= 1 << (i % 8)
        elif kind == "truncate":
            del body[rnd.randrange(len(body)):]
        elif kind == "extend":
            body += rnd.randbytes(rnd.randint(1, 64))
        elif kind == "splice":
            i = rnd.randrange(len(body))
            body[i:i + rnd.randint(1, 16)] = rnd.randbytes(rnd.randint(0, 16))
        elif kind == "smash":
            width = rnd.choice((1, 2, 4))
            i = rnd.randrange(max(1, len(body) - width + 1))
            body[i:i + width] = (rnd.choice(INTERESTING) & ((1 << (8 * width)) - 1)).to_bytes(width, "big")
        elif kind == "unknown_api":
            key = rnd.choice([k for k in range(-5, 100) if k not in ROUTES] + [rnd.randrange(-32768, 32768)])
            struct.pack_into(">h", body, 0, key if key not in ROUTES else 999)
        elif kind == "bad_version":
            route = ROUTES.get(_api_key(body))
            hi = route.max_version if route else 10
            struct.pack_into(">h", body, 2, rnd.choice((-1, -32768, hi + 1, hi + 7, 32767, rnd.randrange(hi + 1))))
        elif kind in ("crc", "garbage_records"):
            rewritten = _produce_with(rnd.choice(produce), _broken_crc(rnd) if kind == "crc" else _garbage_records(rnd))
            if rewritten is None:
                continue
            yield Frame(kind, framed(rewritten), PRODUCE, expect_error=2 if kind == "crc" else None)
            continue
        elif kind == "random":
            route = rnd.choice(routes)
            version = rnd.randint(route.min_version, route.max_version)
            body = bytearray(struct.pack(">hhi", route.api_key, version, rnd.getrandbits(31)))
            body += rnd.randbytes(rnd.randint(0, 200))
        elif kind == "oversize":
            yield Frame(kind, SIZE.pack(rnd.choice((0x7FFFFFFF, 200 << 20, 1 << 30))) + bytes(base[:64]),
                        ends_stream=True)
            continue
        elif kind == "negative_size":
            yield Frame(kind, SIZE.pack(rnd.choice((-1, -4, -0x80000000))) + bytes(base[:64]), ends_stream=True)
            continue
        elif kind == "lying_size":
            yield Frame(kind, SIZE.pack(len(base) + rnd.randint(1, 5000)) + bytes(base), ends_stream=True)
            continue
        elif kind == "raw":
            yield Frame(kind, rnd.randbytes(rnd.randint(1, 3000)), ends_stream=True)
            continue
        if _allocates(bytes(body)):
            continue
        yield Frame(kind, framed(bytes(body)), _api_key(bytes(body)))


def _allocates(body: bytes) -> bool:
    """CreateTopics/CreatePartitions that the broker would carry out (not ``validate_only``).

    A mutated partition count may legitimately ask for up to 10,000 partitions (three files each):
    sending those would test the machine's open-file limit, not the broker's input handling, so
    only validate-only ones (as the broker's own decoder reads them) are sent.
    """
    if _api_key(body) not in (CREATE_TOPICS, CREATE_PARTITIONS):
        return False
    try:
        _, req = decode_request(body)
    except Exception:
        return False
    return not getattr(req, "validate_only", False)
