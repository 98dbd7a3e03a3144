"""Strict readers for znode JSON: every failure is a CoordinationError naming the znode path and the field.

Why strict and loud: a broker that trusts a malformed znode crashes later, in a loop, far from the
cause; reading through these helpers turns the same mistake into one line that says where to look.
Writing uses Jackson's compact form (no spaces, UTF-8 unescaped) so payloads match Kafka's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kafkatools.coordination.errors import CoordinationError


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(path: str, data: bytes | None) -> Any:
    if not data:
        raise CoordinationError("znode has no data (expected JSON)", path)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CoordinationError(f"znode data is not valid JSON: {e}", path) from None


def load_object(path: str, data: bytes | None) -> dict[str, Any]:
    obj = loads(path, data)
    if not isinstance(obj, dict):
        raise CoordinationError(f"expected a JSON object, found {type(obj).__name__}", path)
    return obj


def field(path: str, obj: Mapping[str, Any], key: str) -> Any:
    if key not in obj:
        raise CoordinationError(f"missing field {key!r}", path)
    return obj[key]


def int_field(path: str, obj: Mapping[str, Any], key: str, default: int | None = None) -> int:
    if default is not None and key not in obj:
        return default
    value = field(path, obj, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CoordinationError(f"field {key!r} must be an integer, found {value!r}", path)
    return value


def long_text_field(path: str, obj: Mapping[str, Any], key: str) -> int:
    """A number Kafka writes as a JSON string (timestamps, producer-id blocks); plain numbers are accepted too."""
    value = field(path, obj, key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise CoordinationError(f"field {key!r} must be a decimal number in a string, found {value!r}", path)


def str_field(path: str, obj: Mapping[str, Any], key: str) -> str:
    value = field(path, obj, key)
    if not isinstance(value, str):
        raise CoordinationError(f"field {key!r} must be a string, found {value!r}", path)
    return value


def opt_str_field(path: str, obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise CoordinationError(f"field {key!r} must be a string or null, found {value!r}", path)
    return value


def int_list(path: str, value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise CoordinationError(f"{what} must be a list of integers, found {value!r}", path)
    return list(value)


def dict_field(path: str, obj: Mapping[str, Any], key: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
    if default is not None and key not in obj:
        return default
    value = field(path, obj, key)
    if not isinstance(value, dict):
        raise CoordinationError(f"field {key!r} must be a JSON object, found {value!r}", path)
    return value


def partition_map(path: str, obj: Mapping[str, Any], key: str) -> dict[int, list[int]]:
    """``{"0":[1,2],"1":[2,3]}`` -> ``{0: [1, 2], 1: [2, 3]}`` (keys are decimal strings)."""
    out: dict[int, list[int]] = {}
    for k, v in dict_field(path, obj, key, {}).items():
        if not k.isdigit():
            raise CoordinationError(f"{key}: partition key {k!r} is not a decimal number", path)
        out[int(k)] = int_list(path, v, f"{key}[{k}]")
    return dict(sorted(out.items()))


def version(path: str, obj: Mapping[str, Any], supported: tuple[int, ...]) -> int:
    v = int_field(path, obj, "version")
    if v not in supported:
        raise CoordinationError(f"unsupported version {v} (known: {', '.join(map(str, supported))})", path)
    return v
