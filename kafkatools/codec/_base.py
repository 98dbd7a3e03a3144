"""Base classes of the generated message classes: value equality, a readable repr, the codec entry points.

Generated classes are plain ``__slots__`` classes with a generated ``__init__`` rather than
``@dataclass``: a dataclass builds its methods with ``exec`` at import (~0.3 ms a class, ~200 ms for
the ~700 structs of the protocol), which a CLI's start-up should not pay.  They behave like slotted
dataclasses for what callers use: keyword construction with defaults, attribute access, ``==``, repr.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from kafkatools.codec._prim import Buffer


class Struct:
    """A Kafka struct value; equality compares every slot (records compare by content)."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{s}={getattr(self, s)!r}" for s in self.__slots__ if s != "_unknown_tagged_fields"
        )
        return f"{type(self).__qualname__}({inner})"

    def to_dict(self) -> dict[str, Any]:
        """Field name to value, nested structs as dicts too (for printing and tests)."""
        return {s: _plain(getattr(self, s)) for s in self.__slots__}


def _plain(value: object) -> object:
    if isinstance(value, Struct):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Message(Struct):
    """A top-level message (one JSON file): a request, a response or a data/record value."""

    __slots__ = ()
    NAME: ClassVar[str]
    API_KEY: ClassVar[int | None]
    MIN_VERSION: ClassVar[int]
    MAX_VERSION: ClassVar[int]
    FLEXIBLE_MIN: ClassVar[int | None]

    def encode(self, version: int) -> bytes:
        raise NotImplementedError

    def encode_into(self, out: bytearray, version: int) -> None:
        raise NotImplementedError

    @classmethod
    def decode(cls, data: Buffer, version: int) -> Self:
        raise NotImplementedError

    @classmethod
    def decode_at(cls, data: memoryview, pos: int, version: int) -> tuple[Self, int]:
        """Decode from ``pos`` of a byte-format memoryview; returns the value and the end position."""
        raise NotImplementedError
