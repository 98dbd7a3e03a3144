"""java.util.Properties text: the format of server.properties, --producer.config files and friends.

Why our own parser: configparser needs sections and treats ``:``/``=`` differently; Kafka reads these
files with ``Properties.load``, so we follow its grammar (the subset real files use):

* a line whose first non-blank character is ``#`` or ``!`` is a comment; blank lines are skipped;
* the key ends at the first unescaped ``=``, ``:`` or blank; blanks around the separator are skipped
  (``k=v``, ``k: v`` and ``k v`` are all the same);
* a line ending in an odd number of backslashes continues on the next line, whose leading blanks
  are dropped (a comment line never continues);
* escapes ``\\t \\n \\r \\f \\\\`` and ``\\uXXXX``; any other ``\\c`` is ``c``;
* a later key overrides an earlier one.

Trailing blanks of a value are kept, as in Java; typed config readers trim (Kafka's ConfigDef does).
Deviation: Java reads the bytes as ISO-8859-1; we read UTF-8 and fall back to ISO-8859-1 when the
file is not valid UTF-8, so a UTF-8 file means what its author saw in the editor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from kafkatools.errors import KafkatoolsError

__all__ = [
    "PropertiesError",
    "format_properties",
    "load_properties",
    "parse_overrides",
    "parse_properties",
]

_BLANK = " \t\f"
_LINE_END = re.compile(r"\r\n|\r|\n")  # only these, unlike str.splitlines
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_UNESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\\": "\\\\"}


class PropertiesError(KafkatoolsError):
    """A properties file or a ``key=value`` argument could not be read."""


def _unescape(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\":
            out.append(c)
            i += 1
        elif i + 1 >= n:  # a lone trailing backslash (end of file after a continuation)
            i += 1
        elif text[i + 1] == "u":
            digits = text[i + 2 : i + 6]
            if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise PropertiesError(f"Malformed \\uxxxx encoding: {text[i : i + 6]!r}")
            out.append(chr(int(digits, 16)))
            i += 6
        else:
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
    joined = "".join(out)
    # \uD83D\uDE00 (how Java writes characters beyond the BMP) -> one code point.
    if any("\ud800" <= ch <= "\udfff" for ch in joined):
        joined = joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined


def _ends_with_odd_backslashes(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _logical_lines(text: str) -> Iterable[str]:
    pending: str | None = None
    for raw in _LINE_END.split(text):
        line = raw.lstrip(_BLANK)
        if pending is None and (not line or line[0] in "#!"):
            continue
        if _ends_with_odd_backslashes(line):
            pending = (pending or "") + line[:-1]
            continue
        yield (pending or "") + line
        pending = None
    if pending is not None:
        yield pending


def _split(line: str) -> tuple[str, str]:
    i, n = 0, len(line)
    while i < n and line[i] not in "=:" + _BLANK:
        i += 2 if line[i] == "\\" else 1
    i = min(i, n)
    key, rest = line[:i], line[i:]
    value = rest.lstrip(_BLANK)
    if value[:1] in ("=", ":"):  # at most one separator, with blanks either side
        value = value[1:].lstrip(_BLANK)
    return _unescape(key), _unescape(value)


def parse_properties(text: str) -> dict[str, str]:
    """Parse properties text; later keys win."""
    return dict(_split(line) for line in _logical_lines(text))


def load_properties(path: str | Path) -> dict[str, str]:
    """Read a properties file; a missing/unreadable file is a PropertiesError naming it (like Java's message)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PropertiesError(f"{path} (No such file or directory)") from None
    except IsADirectoryError:
        raise PropertiesError(f"{path} (Is a directory)") from None
    except OSError as e:
        raise PropertiesError(f"{path} ({e.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_properties(text)


def parse_overrides(items: Iterable[str], option: str | None = None) -> dict[str, str]:
    """``["k=v", ...]`` as given to ``--override``/``--property``: split on the first ``=``; later wins.

    The key is trimmed, the value kept as typed (``a=b=c`` -> ``{"a": "b=c"}``).  ``option`` names
    the flag in the error message (``Invalid --override 'x': expected property=value``).
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            what = option or "property"
            raise PropertiesError(f"Invalid {what} '{item}': expected property=value")
        out[key.strip()] = value
    return out


def _escape(text: str, *, is_key: bool, ascii_only: bool) -> str:
    out: list[str] = []
    for i, c in enumerate(text):
        if c in _UNESCAPES:
            out.append(_UNESCAPES[c])
        elif c in "=:#!" or (c == " " and (is_key or i == 0)):
            out.append("\\" + c)
        elif ord(c) < 0x20 or (ascii_only and ord(c) > 0x7E):
            units = c.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{units[j] << 8 | units[j + 1]:04X}" for j in range(0, len(units), 2))
        else:
            out.append(c)
    return "".join(out)


def format_properties(props: Mapping[str, str], *, comments: Iterable[str] = (), ascii_only: bool = False) -> str:
    """Properties text (``k=v`` lines in the mapping's order) that parse_properties reads back exactly.

    ``comments`` become leading ``#`` lines; ``ascii_only`` writes other characters as ``\\uXXXX``,
    as ``Properties.store(OutputStream)`` does.
    """
    head = "".join(f"#{c}\n" for c in comments)
    body = "".join(
        f"{_escape(k, is_key=True, ascii_only=ascii_only)}={_escape(v, is_key=False, ascii_only=ascii_only)}\n"
        for k, v in props.items()
    )
    return head + body
