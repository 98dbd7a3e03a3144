"""java.util.Properties text files: the format of server.properties, producer.config and friends.

Supported as ``java.util.Properties.load`` reads them: ``#``/``!`` comment lines, separators
``=``, ``:`` or whitespace, backslash line continuations, the escapes ``\\t \\n \\r \\f \\\\``
and ``\\uXXXX``, leading whitespace trimmed; a later key overrides an earlier one.
"""

from __future__ import annotations

from pathlib import Path

from kafkatools.errors import KafkatoolsError


class PropertiesError(KafkatoolsError):
    """A properties file or ``key=value`` argument could not be read."""


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and i + 6 <= n:
            try:
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            except ValueError:
                raise PropertiesError(f"Malformed \\uxxxx encoding: {text[i:i + 6]!r}") from None
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f") if not pending else raw.lstrip(" \t\f")
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending += line[:-1]
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _split(line: str) -> tuple[str, str]:
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c in "=: \t\f":
            break
        i += 1
    key = line[:i]
    rest = line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":") and (i >= n or line[i] in " \t\f" or line[i] in "=:"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest)


def parse_properties(text: str) -> dict[str, str]:
    return dict(_split(line) for line in _logical_lines(text))


def load_properties(path: str | Path) -> dict[str, str]:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PropertiesError(f"{path} (No such file or directory)") from None
    except OSError as e:
        raise PropertiesError(f"{path} ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # java.util.Properties reads ISO-8859-1
        text = data.decode("latin-1")
    return parse_properties(text)


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as given to ``--override``/``--property``: split on the first '='."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PropertiesError(f"Invalid property '{item}': expected key=value")
        out[key.strip()] = value
    return out


def _escape(text: str, key: bool) -> str:
    out = []
    for i, c in enumerate(text):
        if c == "\\":
            out.append("\\\\")
        elif c in "\t\n\r\f":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\f": "f"}[c])
        elif c in "=:#!" or (c == " " and (key or i == 0)):
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def format_properties(props: dict[str, str]) -> str:
    return "".join(f"{_escape(k, True)}={_escape(v, False)}\n" for k, v in props.items())
