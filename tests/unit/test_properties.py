"""java.util.Properties grammar: separators, comments, continuations, escapes, overrides, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkatools.properties import (
    PropertiesError,
    format_properties,
    load_properties,
    parse_overrides,
    parse_properties,
)


def test_separators_and_blanks() -> None:
    text = "a=1\nb: 2\nc 3\n  d\t=\t4\ne\nf =\ng=h=i\n"
    assert parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "4", "e": "", "f": "", "g": "h=i"}


def test_comments_and_blank_lines() -> None:
    text = "# comment=1\n   ! also a comment\n\n   \nkey=value # not a comment\n"
    assert parse_properties(text) == {"key": "value # not a comment"}


def test_trailing_blanks_of_value_are_kept_like_java() -> None:
    assert parse_properties("k = v  \n") == {"k": "v  "}


def test_line_continuation() -> None:
    text = "listeners=PLAINTEXT://a:1,\\\n        PLAINTEXT://b:2\nnext=x\n"
    assert parse_properties(text) == {"listeners": "PLAINTEXT://a:1,PLAINTEXT://b:2", "next": "x"}


def test_even_backslashes_do_not_continue() -> None:
    assert parse_properties("path=c:\\\\\nnext=1\n") == {"path": "c:\\", "next": "1"}


def test_comment_line_never_continues() -> None:
    assert parse_properties("# comment \\\nreal=1\n") == {"real": "1"}


def test_escapes() -> None:
    text = "tab=a\\tb\nnl=a\\nb\nuni=\\u00e9\\u0041\nother=\\q\nesc\\ key\\=x=1\nemoji=\\uD83D\\uDE00\n"
    assert parse_properties(text) == {
        "tab": "a\tb", "nl": "a\nb", "uni": "éA", "other": "q", "esc key=x": "1", "emoji": "\U0001f600",
    }


def test_malformed_unicode_escape_is_an_error() -> None:
    with pytest.raises(PropertiesError, match="Malformed"):
        parse_properties("k=\\u12G4\n")


def test_later_key_overrides_and_crlf() -> None:
    assert parse_properties("a=1\r\nb=2\r\na=3\r\n") == {"a": "3", "b": "2"}


def test_load_properties_utf8_and_latin1(tmp_path: Path) -> None:
    p = tmp_path / "s.properties"
    p.write_bytes("name=caf\u00e9\n".encode())
    assert load_properties(p) == {"name": "café"}
    p.write_bytes("name=caf\xe9\n".encode("latin-1"))
    assert load_properties(p) == {"name": "café"}


def test_load_properties_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.properties"
    with pytest.raises(PropertiesError, match=r"nope\.properties \(No such file or directory\)"):
        load_properties(missing)


def test_parse_overrides() -> None:
    assert parse_overrides(["a=1", " b =x=y", "c=", "a=2"]) == {"a": "2", "b": "x=y", "c": ""}
    with pytest.raises(PropertiesError, match=r"Invalid --override 'broker\.id': expected property=value"):
        parse_overrides(["broker.id"], option="--override")
    with pytest.raises(PropertiesError, match=r"Invalid property 'x'"):
        parse_overrides(["x"])
    with pytest.raises(PropertiesError, match="--property '=v'"):
        parse_overrides(["=v"], option="--property")


def test_format_properties_escapes() -> None:
    text = format_properties({"a key": " lead=x:y#z", "t": "a\tb\\"}, comments=["hello"])
    assert text == "#hello\na\\ key=\\ lead\\=x\\:y\\#z\nt=a\\tb\\\\\n"
    assert format_properties({"u": "é"}, ascii_only=True) == "u=\\u00E9\n"


_keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.dictionaries(_keys, _values, max_size=6), st.booleans())
def test_format_then_parse_round_trips(props: dict[str, str], ascii_only: bool) -> None:
    assert parse_properties(format_properties(props, ascii_only=ascii_only)) == props
