"""Kafka's text checkpoint files (``CheckpointFile``, ``OffsetCheckpointFile``, ``LeaderEpochCheckpointFile``).

Layout (UTF-8, ``\\n`` line ends)::

    <version>\\n            always 0 for these files
    <entry count>\\n
    <entry>\\n              count times; fields separated by whitespace

    offset checkpoints (recovery-point-offset-checkpoint, replication-offset-checkpoint,
    log-start-offset-checkpoint, cleaner-offset-checkpoint):  <topic> <partition> <offset>
    leader-epoch-checkpoint:                                    <epoch> <start offset>

A 0-byte file (created but never written) means "no entries"; an empty checkpoint written by
Kafka is ``0\\n0\\n``.  A version other than 0, a count that differs from the number of entry
lines, or an entry line with the wrong fields is a ``CheckpointError`` naming the file and line.
Writes are atomic: ``<file>.tmp``, fsync, rename, fsync of the directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final, NamedTuple, TypeVar

from kafkatools.storage.errors import CheckpointError
from kafkatools.storage.fs import DEFAULT_FS, FileSystem
from kafkatools.storage.names import TopicPartition

CHECKPOINT_VERSION: Final = 0
T = TypeVar("T")


class EpochEntry(NamedTuple):
    """One line of a leader-epoch-checkpoint: the first offset written under ``epoch``."""

    epoch: int
    start_offset: int


def _int_field(text: str, what: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CheckpointError(f"Malformed line in checkpoint file ({where}): {what} {text!r} is not a number") from None


def parse_checkpoint(data: bytes, parse_entry: Callable[[list[str], str], T], where: str = "<bytes>",
                     version: int = CHECKPOINT_VERSION) -> list[T]:
    """Parse a checkpoint's bytes; ``parse_entry(fields, where)`` turns one line's fields into an entry."""
    if not data:
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"Checkpoint file {where} is not UTF-8: {e}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise CheckpointError(f"Malformed checkpoint file ({where}): the version line is missing")
    found_version = _int_field(lines[0].strip(), "version", where)
    if found_version != version:
        raise CheckpointError(f"Unrecognized version of the checkpoint file ({where}): {found_version}")
    if len(lines) < 2:
        raise CheckpointError(f"Malformed checkpoint file ({where}): the entry count line is missing")
    count = _int_field(lines[1].strip(), "entry count", where)
    entries = [parse_entry(line.split(), f"{where} line {n}") for n, line in enumerate(lines[2:], start=3)]
    if len(entries) != count:
        raise CheckpointError(f"Expected {count} entries in checkpoint file ({where}), but found {len(entries)}")
    return entries


def format_checkpoint(lines: Iterable[str], version: int = CHECKPOINT_VERSION) -> bytes:
    body = list(lines)
    return "".join([f"{version}\n{len(body)}\n", *(line + "\n" for line in body)]).encode("utf-8")


def _offset_entry(fields: list[str], where: str) -> tuple[TopicPartition, int]:
    if len(fields) != 3:
        raise CheckpointError(f"Malformed line in checkpoint file ({where}): expected '<topic> <partition> <offset>'")
    return (TopicPartition(fields[0], _int_field(fields[1], "partition", where)),
            _int_field(fields[2], "offset", where))


def _epoch_entry(fields: list[str], where: str) -> EpochEntry:
    if len(fields) != 2:
        raise CheckpointError(f"Malformed line in checkpoint file ({where}): expected '<epoch> <start offset>'")
    return EpochEntry(_int_field(fields[0], "epoch", where), _int_field(fields[1], "start offset", where))


def parse_offsets(data: bytes, where: str = "<bytes>") -> dict[TopicPartition, int]:
    """Offset checkpoint bytes -> ``{TopicPartition: offset}`` in file order."""
    return dict(parse_checkpoint(data, _offset_entry, where))


def format_offsets(entries: Mapping[TopicPartition, int] | Iterable[tuple[TopicPartition, int]]) -> bytes:
    items = entries.items() if isinstance(entries, Mapping) else entries
    return format_checkpoint(f"{tp.topic} {tp.partition} {offset}" for tp, offset in items)


def parse_epochs(data: bytes, where: str = "<bytes>") -> list[EpochEntry]:
    return parse_checkpoint(data, _epoch_entry, where)


def format_epochs(entries: Iterable[EpochEntry]) -> bytes:
    return format_checkpoint(f"{e.epoch} {e.start_offset}" for e in entries)


def read_offsets(path: str, fs: FileSystem = DEFAULT_FS) -> dict[TopicPartition, int]:
    """Read an offset checkpoint; a missing or 0-byte file has no entries."""
    if not fs.exists(path):
        return {}
    return parse_offsets(fs.read_bytes(path), path)


def write_offsets(path: str, entries: Mapping[TopicPartition, int] | Iterable[tuple[TopicPartition, int]],
                  fs: FileSystem = DEFAULT_FS) -> None:
    fs.write_atomic(path, format_offsets(entries))


def read_epochs(path: str, fs: FileSystem = DEFAULT_FS) -> list[EpochEntry]:
    if not fs.exists(path):
        return []
    return parse_epochs(fs.read_bytes(path), path)


def write_epochs(path: str, entries: Iterable[EpochEntry], fs: FileSystem = DEFAULT_FS) -> None:
    fs.write_atomic(path, format_epochs(entries))
