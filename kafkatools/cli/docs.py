"""``python -m kafkatools.cli.docs [--check] [--out DIR]``: completions and man pages from the CLI definitions.

Writes ``completions/bash/<cmd>``, ``completions/zsh/_<cmd>``, ``completions/fish/<cmd>.fish`` and
``man/<cmd>.1`` for every tool in ``registry.TOOLS`` whose definition has landed.  ``--check``
regenerates in memory and exits 1 listing stale, missing and extra files, so CI notices when an
option changed without the docs being regenerated.  Generation is deterministic (sorted, no dates).
"""

from __future__ import annotations

import argparse
import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafkatools.cli import _render
from kafkatools.cli._render import CommandDoc, OptionDoc
from kafkatools.cli._static import StaticSpec
from kafkatools.cli.registry import TOOLS, Tool, load

if TYPE_CHECKING:
    from typer._click import Command

ROOT = Path(__file__).resolve().parent.parent.parent
# Kafka options whose value is a file even though tools declare them as plain strings.
FILE_OPTIONS = frozenset(
    {"--command-config", "--producer.config", "--consumer.config", "--formatter-config", "--reader-config",
     "--files", "--admin.config", "--offset-json-file", "--reassignment-json-file", "--add-config-file"}
)  # fmt: skip
EXIT_STATUSES = [
    (0, "Success."),
    (1, "A usage or runtime error; one line on standard error says what."),
    (2, "The feature is not available in this build."),
    (130, "Interrupted (Ctrl-C)."),
]
SHELL_PATHS = {"bash": "completions/bash/{}", "zsh": "completions/zsh/_{}", "fish": "completions/fish/{}.fish"}


def _is_path(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Path)


def from_click(name: str, summary: str, command: Command) -> CommandDoc:
    if hasattr(command, "list_commands"):  # typer's TyperGroup: a tool with subcommands
        return _from_group(name, summary, command)
    return _from_command(name, summary, command)


def _from_group(name: str, summary: str, group: Any) -> CommandDoc:
    """A tool with subcommands (``kafka-checkpoints show|verify|set|delete``): one page listing each
    subcommand and the options it takes, merged by flag."""
    from typer._click import Context

    ctx = Context(group, info_name=name)
    merged: dict[tuple[str, ...], tuple[OptionDoc, list[str]]] = {}
    lines = [group.help or summary, "", "Commands:"]
    for sub_name in group.list_commands(ctx):
        sub = group.get_command(ctx, sub_name)
        if sub is None or getattr(sub, "hidden", False):
            continue
        lines.append(f"  {sub_name}: {_render._first_sentence(sub.help or sub.short_help or '')}")
        for opt in _from_command(f"{name} {sub_name}", summary, sub).options:
            if opt.flags == ("--help",):
                continue
            known = merged.setdefault(opt.flags, (opt, []))
            known[1].append(sub_name)
    options = [OptionDoc(opt.flags, opt.metavar, f"({', '.join(subs)}) {opt.help}".strip(), opt.choices,
                         opt.is_file, opt.repeatable) for opt, subs in merged.values()]
    options.append(OptionDoc(("--help",), None, "Show the help and exit."))
    return CommandDoc(name, summary, "COMMAND [OPTIONS] [ARGS]...", "\n".join(lines), tuple(options), "COMMAND")


def _from_command(name: str, summary: str, command: Command) -> CommandDoc:
    from typer._click import Context

    ctx = Context(command, info_name=name)
    options: list[OptionDoc] = []
    positional: str | None = None
    positional_is_file = False
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        descriptor = getattr(param, "type_descriptor", None)
        annotation = getattr(descriptor, "annotation", None)
        if getattr(param, "param_type_name", "") == "argument":
            positional = (param.metavar or param.name or "ARG").upper()
            positional_is_file = _is_path(annotation)
            continue
        flags = tuple(param.opts) + tuple(param.secondary_opts)
        is_flag = bool(getattr(param, "is_flag", False))
        choices: tuple[str, ...] = ()
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            choices = tuple(str(m.value) for m in annotation)
        metavar = None if is_flag else (param.metavar or ("FILE" if _is_path(annotation) else "VALUE"))
        is_file = not is_flag and (_is_path(annotation) or any(f in FILE_OPTIONS for f in flags))
        options.append(
            OptionDoc(flags, metavar, getattr(param, "help", None) or "", choices, is_file, bool(param.multiple))
        )
    usage = command.get_usage(ctx).removeprefix("Usage:").strip().removeprefix(name).strip()
    return CommandDoc(name, summary, usage, command.help or summary, tuple(options), positional, positional_is_file)


def from_static(name: str, summary: str, spec: StaticSpec) -> CommandDoc:
    options = tuple(OptionDoc((o.flag,), o.metavar, o.help, repeatable=o.repeatable) for o in spec.options)
    synopsis = spec.usage.removeprefix(name).strip()
    return CommandDoc(name, summary, synopsis, spec.description, options, spec.positional, spec.positional_is_file)


def describe(tools: tuple[Tool, ...] = TOOLS) -> list[CommandDoc]:
    """A CommandDoc per tool whose definition exists, in registry order."""
    docs: list[CommandDoc] = []
    for tool in tools:
        found = load(tool)
        if isinstance(found, StaticSpec):
            docs.append(from_static(tool.name, tool.summary, found))
        elif found is not None:
            docs.append(from_click(tool.name, tool.summary, found))
    return docs


def generate(tools: tuple[Tool, ...] = TOOLS) -> dict[str, str]:
    """Relative path -> file text, for every generated file."""
    docs = describe(tools)
    names = sorted(d.name for d in docs)
    files: dict[str, str] = {}
    for doc in docs:
        files[SHELL_PATHS["bash"].format(doc.name)] = _render.bash(doc)
        files[SHELL_PATHS["zsh"].format(doc.name)] = _render.zsh(doc)
        files[SHELL_PATHS["fish"].format(doc.name)] = _render.fish(doc)
        see_also = [n for n in names if n != doc.name]
        files[f"man/{doc.name}.1"] = _render.man(doc, see_also, EXIT_STATUSES)
    return dict(sorted(files.items()))


def _existing(out: Path) -> set[str]:
    found: set[str] = set()
    for folder in ("completions/bash", "completions/zsh", "completions/fish", "man"):
        if (out / folder).is_dir():
            found.update(str(p.relative_to(out)) for p in (out / folder).iterdir() if p.is_file())
    return found


def check(files: dict[str, str], out: Path) -> list[str]:
    """Problems between ``files`` and what is under ``out``: 'stale: p', 'missing: p', 'extra: p'."""
    problems: list[str] = []
    for rel, text in files.items():
        path = out / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {rel}")
    problems += [f"extra: {rel}" for rel in sorted(_existing(out) - set(files))]
    return problems


def write(files: dict[str, str], out: Path) -> list[str]:
    """Write ``files`` under ``out`` and delete extra generated files; returns the paths removed."""
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    removed = sorted(_existing(out) - set(files))
    for rel in removed:
        (out / rel).unlink()
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kafkatools.cli.docs", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    parser.add_argument("--out", type=Path, default=ROOT, help="folder holding completions/ and man/")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        problems = check(files, args.out)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `python -m kafkatools.cli.docs` and commit completions/ and man/", file=sys.stderr)
        return 1 if problems else 0
    removed = write(files, args.out)
    print(f"wrote {len(files)} files under {args.out}" + (f", removed {len(removed)}" if removed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
