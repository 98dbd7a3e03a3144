"""`kafka-checkpoints`: show, verify, set and delete entries of a log dir's checkpoint files (kafkatools only).

Kafka has no tool for this; operators edit these files by hand after incidents (a recovery point
past a truncated log, a stale high watermark).  This tool does it safely:

* it refuses to write while a broker holds the log dir's ``.lock`` (the flock a running broker
  keeps), and holds that lock itself while writing;
* it validates the file before touching it (``CheckpointError`` = one line, exit 1) and the values
  (Kafka's legal topic names, partition >= 0, offsets >= 0, leader epochs increasing with
  non-decreasing start offsets);
* it writes atomically (``<file>.tmp``, fsync, rename, fsync of the directory) and ``--dry-run``
  prints the unified diff without writing.

Files: the four per-dir offset checkpoints (``<topic> <partition> <offset>`` entries) and a
partition's ``leader-epoch-checkpoint`` (``<epoch> <start offset>``); format in ``storage.checkpoints``.
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Final

import typer

from kafkatools.cli._common import (
    ExitStatus,
    OutputFormat,
    OutputOption,
    Printer,
    UsageError,
    current_env,
    main_for,
    make_app,
)
from kafkatools.storage import checkpoints as cp
from kafkatools.storage.errors import CheckpointError, LogDirLockedError, StorageError
from kafkatools.storage.fs import DEFAULT_FS
from kafkatools.storage.inspect import iter_log_entries
from kafkatools.storage.names import (
    CLEANER_CHECKPOINT,
    LEADER_EPOCH_CHECKPOINT,
    LOCK_FILE,
    LOG_START_CHECKPOINT,
    LOG_SUFFIX,
    RECOVERY_POINT_CHECKPOINT,
    REPLICATION_CHECKPOINT,
    TopicPartition,
    offset_from_file_name,
    parse_partition_dir,
)

OFFSET_FILES: Final = (RECOVERY_POINT_CHECKPOINT, REPLICATION_CHECKPOINT, LOG_START_CHECKPOINT, CLEANER_CHECKPOINT)
_LEGAL_TOPIC: Final = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_INT32_MAX: Final = 2**31 - 1
_INT64_MAX: Final = 2**63 - 1

app = make_app("Show, verify, set and delete entries of Kafka checkpoint files in a log dir.")


class Kind(StrEnum):
    AUTO = "auto"
    OFFSETS = "offsets"
    LEADER_EPOCH = "leader-epoch"


KindOption = Annotated[Kind, typer.Option("--kind", case_sensitive=False,
                                          help="File format; auto: from the file name.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the change as a diff and write nothing.")]
FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="The checkpoint file.", show_default=False)]


def file_kind(path: Path, kind: Kind) -> Kind:
    if kind is not Kind.AUTO:
        return kind
    if path.name == LEADER_EPOCH_CHECKPOINT:
        return Kind.LEADER_EPOCH
    if path.name in OFFSET_FILES:
        return Kind.OFFSETS
    raise UsageError(f"cannot tell the format of {path.name}: expected one of {', '.join(OFFSET_FILES)} or "
                     f"{LEADER_EPOCH_CHECKPOINT} (or pass --kind)")


def _read_bytes(path: Path, *, missing_ok: bool) -> bytes:
    if not path.exists() and missing_ok:
        return b""
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a checkpoint file")
    return path.read_bytes()


def check_topic(topic: str) -> None:
    if not _LEGAL_TOPIC.match(topic) or topic in (".", ".."):
        raise UsageError(f"invalid topic name {topic!r}: use 1-249 characters of a-z A-Z 0-9 . _ - (not . or ..)")


def _check_range(name: str, value: int, maximum: int) -> None:
    if not 0 <= value <= maximum:
        raise UsageError(f"{name} must be between 0 and {maximum}, got {value}")


# ---- show ------------------------------------------------------------------------------------------------


@app.command()
def show(file: FileArgument, kind: KindOption = Kind.AUTO, output: OutputOption = OutputFormat.TEXT) -> None:
    """Print the entries of a checkpoint file as a table (or JSON lines)."""
    printer = Printer(output, current_env().stdout)
    data = _read_bytes(file, missing_ok=False)
    if file_kind(file, kind) is Kind.LEADER_EPOCH:
        epochs = cp.parse_epochs(data, str(file))
        if output is OutputFormat.TEXT:
            printer.emit(f"{'EPOCH':<10} START-OFFSET", None)
        for e in epochs:
            printer.emit(f"{e.epoch:<10} {e.start_offset}", {"epoch": e.epoch, "startOffset": e.start_offset})
        return
    offsets = cp.parse_offsets(data, str(file))
    width = max([len("TOPIC"), *(len(tp.topic) for tp in offsets)])
    if output is OutputFormat.TEXT:
        printer.emit(f"{'TOPIC':<{width}} {'PARTITION':<10} OFFSET", None)
    for tp, offset in offsets.items():
        printer.emit(f"{tp.topic:<{width}} {tp.partition:<10} {offset}",
                     {"topic": tp.topic, "partition": tp.partition, "offset": offset})


# ---- set / delete ----------------------------------------------------------------------------------------


def _log_dir_of(path: Path, kind: Kind) -> Path:
    directory = path.resolve().parent
    return directory.parent if kind is Kind.LEADER_EPOCH else directory


@contextmanager
def _dir_lock(log_dir: Path, target: Path) -> Iterator[None]:
    """Hold ``<log dir>/.lock`` while writing; refuse when a broker holds it.

    A dir without a ``.lock`` file has never been opened by a broker (brokers create it), so
    nothing is created there.
    """
    lock_path = log_dir / LOCK_FILE
    handle: IO[bytes] | None = None
    if lock_path.exists():
        handle = DEFAULT_FS.lock(str(lock_path))
        if handle is None:
            raise LogDirLockedError(f"a broker is running on {log_dir} (it holds {lock_path}); stop it before "
                                    f"changing {target.name}")
    try:
        yield
    finally:
        if handle is not None:
            DEFAULT_FS.unlock(handle)


def _apply(path: Path, kind: Kind, old: bytes, new: bytes, dry_run: bool) -> None:
    out = current_env().stdout
    diff = list(difflib.unified_diff(old.decode("utf-8").splitlines(), new.decode("utf-8").splitlines(),
                                     f"{path} (old)", f"{path} (new)", lineterm=""))
    if old == new:
        out.write(f"No change to {path}.\n")
        return
    out.writelines(line + "\n" for line in diff)
    if dry_run:
        out.write(f"Dry run: {path} was not changed.\n")
        return
    with _dir_lock(_log_dir_of(path, kind), path):
        DEFAULT_FS.write_atomic(str(path), new)
    out.write(f"Wrote {path}.\n")


def _entry_options(kind: Kind, topic: str | None, partition: int | None, epoch: int | None) -> None:
    if kind is Kind.OFFSETS:
        if topic is None or partition is None:
            raise UsageError("offset checkpoints need --topic and --partition")
        if epoch is not None:
            raise UsageError("--epoch is for leader-epoch-checkpoint files")
        check_topic(topic)
        _check_range("--partition", partition, _INT32_MAX)
    else:
        if epoch is None:
            raise UsageError("leader-epoch-checkpoint files need --epoch")
        if topic is not None or partition is not None:
            raise UsageError("--topic and --partition are for offset checkpoint files")
        _check_range("--epoch", epoch, _INT32_MAX)


def check_epochs(entries: list[cp.EpochEntry]) -> None:
    """Leader epochs must increase and their start offsets must not decrease (Kafka's LeaderEpochFileCache)."""
    for before, after in itertools.pairwise(entries):
        if after.epoch <= before.epoch or after.start_offset < before.start_offset:
            raise CheckpointError(f"epoch {after.epoch} at {after.start_offset} would follow epoch {before.epoch} at "
                                  f"{before.start_offset}: epochs must increase and start offsets must not decrease")


TopicOption = Annotated[str | None, typer.Option("--topic", help="Topic of the entry (offset checkpoints).")]
PartitionOption = Annotated[int | None, typer.Option("--partition", help="Partition of the entry (offset files).")]
EpochOption = Annotated[int | None, typer.Option("--epoch", help="Leader epoch of the entry (leader-epoch file).")]


@app.command("set")
def set_entry(
    file: FileArgument,
    topic: TopicOption = None,
    partition: PartitionOption = None,
    offset: Annotated[int | None, typer.Option("--offset", help="New offset (offset checkpoints).")] = None,
    epoch: EpochOption = None,
    start_offset: Annotated[int | None, typer.Option(
        "--start-offset", help="First offset of the epoch (leader-epoch-checkpoint).")] = None,
    kind: KindOption = Kind.AUTO,
    dry_run: DryRunOption = False,
) -> None:
    """Add or change one entry: --topic/--partition/--offset, or --epoch/--start-offset."""
    kind = file_kind(file, kind)
    _entry_options(kind, topic, partition, epoch)
    old = _read_bytes(file, missing_ok=True)
    if kind is Kind.OFFSETS:
        assert topic is not None and partition is not None
        if offset is None or start_offset is not None:
            raise UsageError("offset checkpoints need --offset (not --start-offset)")
        _check_range("--offset", offset, _INT64_MAX)
        offsets = cp.parse_offsets(old, str(file))
        offsets[TopicPartition(topic, partition)] = offset
        new = cp.format_offsets(offsets)
    else:
        assert epoch is not None
        if start_offset is None or offset is not None:
            raise UsageError("leader-epoch-checkpoint files need --start-offset (not --offset)")
        _check_range("--start-offset", start_offset, _INT64_MAX)
        entries = [e for e in cp.parse_epochs(old, str(file)) if e.epoch != epoch]
        entries = sorted([*entries, cp.EpochEntry(epoch, start_offset)])
        check_epochs(entries)
        new = cp.format_epochs(entries)
    _apply(file, kind, old, new, dry_run)


@app.command()
def delete(
    file: FileArgument,
    topic: TopicOption = None,
    partition: PartitionOption = None,
    epoch: EpochOption = None,
    kind: KindOption = Kind.AUTO,
    dry_run: DryRunOption = False,
) -> None:
    """Remove one entry: --topic/--partition, or --epoch."""
    kind = file_kind(file, kind)
    _entry_options(kind, topic, partition, epoch)
    old = _read_bytes(file, missing_ok=False)
    if kind is Kind.OFFSETS:
        assert topic is not None and partition is not None
        offsets = cp.parse_offsets(old, str(file))
        if offsets.pop(TopicPartition(topic, partition), None) is None:
            raise StorageError(f"{file} has no entry for {topic}-{partition}")
        new = cp.format_offsets(offsets)
    else:
        entries = cp.parse_epochs(old, str(file))
        kept = [e for e in entries if e.epoch != epoch]
        if len(kept) == len(entries):
            raise StorageError(f"{file} has no entry for epoch {epoch}")
        new = cp.format_epochs(kept)
    _apply(file, kind, old, new, dry_run)


# ---- verify ----------------------------------------------------------------------------------------------


def log_range(partition_dir: Path) -> tuple[int, int]:
    """``(first segment base offset, log end offset)`` from the ``.log`` files; (0, 0) without segments."""
    bases = sorted(offset_from_file_name(p.name) for p in partition_dir.iterdir()
                   if p.name.endswith(LOG_SUFFIX) and p.name.split(".", 1)[0].isdigit())
    if not bases:
        return 0, 0
    end = bases[-1]
    for info, _ in iter_log_entries(str(partition_dir / f"{bases[-1]:020d}{LOG_SUFFIX}")):
        end = info.next_offset
    return bases[0], end


def verify_dir(log_dir: Path) -> tuple[list[str], list[str], int]:
    """``(problems, warnings, files checked)`` for the checkpoint files of ``log_dir``."""
    if not log_dir.is_dir():
        raise StorageError(f"{log_dir} is not a directory")
    problems: list[str] = []
    warnings: list[str] = []
    checked = 0
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    for sub in sorted(log_dir.iterdir()):
        tp = parse_partition_dir(sub.name) if sub.is_dir() else None
        if tp is None:
            continue
        ranges[tp] = log_range(sub)
        epoch_file = sub / LEADER_EPOCH_CHECKPOINT
        if epoch_file.exists():
            checked += 1
            try:
                entries = cp.parse_epochs(epoch_file.read_bytes(), str(epoch_file))
                check_epochs(entries)
                problems += [f"{epoch_file}: epoch {e.epoch} starts at {e.start_offset}, past the log end offset "
                             f"{ranges[tp][1]}" for e in entries if e.start_offset > ranges[tp][1]]
            except CheckpointError as e:
                problems.append(str(e))
    for name in OFFSET_FILES:
        path = log_dir / name
        if not path.exists():
            continue
        checked += 1
        try:
            offsets = cp.parse_offsets(path.read_bytes(), str(path))
        except CheckpointError as e:
            problems.append(str(e))
            continue
        for tp, offset in offsets.items():
            if tp not in ranges:
                warnings.append(f"{path}: {tp} has no partition directory in {log_dir}")
                continue
            start, end = ranges[tp]
            if not start <= offset <= end:
                problems.append(f"{path}: {tp} offset {offset} is outside the log [{start}, {end}]")
    return problems, warnings, checked


@app.command()
def verify(
    log_dir: Annotated[Path, typer.Argument(metavar="LOG_DIR", help="A log dir (one log.dirs entry).")],
    output: OutputOption = OutputFormat.TEXT,
) -> int:
    """Check that every checkpoint file parses and its offsets lie within each partition's log."""
    printer = Printer(output, current_env().stdout)
    problems, warnings, checked = verify_dir(log_dir)
    for text in warnings:
        printer.emit(f"warning: {text}", {"level": "warning", "message": text})
    for text in problems:
        printer.emit(f"problem: {text}", {"level": "problem", "message": text})
    summary = (f"{len(problems)} problem(s) in the checkpoint files of {log_dir}" if problems else
               f"OK: {checked} checkpoint file(s) in {os.fspath(log_dir)} are consistent with the logs")
    printer.emit(summary, {"level": "summary", "files": checked, "problems": len(problems),
                           "warnings": len(warnings)})
    return ExitStatus.ERROR if problems else ExitStatus.OK


main = main_for(app, "kafka-checkpoints")
