"""What every kafkatools command shares: the one place exceptions become a message and an exit code.

Why one place: a tool body only raises (``UsageError`` for bad flags, ``KafkatoolsError`` for what
went wrong) and writes to ``current_env()``; ``run_app`` decides what the user sees.  Whatever
fails, the user gets exactly one line on stderr and a named exit status -- never a traceback
(unless ``KAFKATOOLS_DEBUG=1``) and never rich's multi-line box.

How a tool uses it (typer, single command)::

    app = make_app("Create, delete, describe, or change a topic.")

    @app.command()
    def topics(
        bootstrap_server: Annotated[str | None, typer.Option("--bootstrap-server")] = None,
        command_config: Annotated[str | None, typer.Option("--command-config")] = None,
        # Kafka names with dots need explicit param_decls; click accepts them as written:
        producer_config: Annotated[str | None, typer.Option("--producer.config")] = None,
        prop: Annotated[list[str] | None, typer.Option("--property")] = None,
        version: VersionOption = False,
    ) -> None:
        servers = parse_bootstrap(bootstrap_server)
        config = load_client_config(command_config, prop)
        current_env().stdout.write("...\\n")

    main = main_for(app, "kafka-topics")      # the console-script entry point

Start-up: hand-parsed commands use ``_env`` alone (no typer).  typer imports rich only to render
help/errors when ``rich_markup_mode`` is set, so
``make_app`` passes ``rich_markup_mode=None`` and ``pretty_exceptions_enable=False``; asyncio,
json and traceback are imported only when used.  Option helpers live in ``_options.py`` and are
re-exported here so tools import from one module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
from typer._click import Command
from typer._click import exceptions as click_exc
from typer.main import get_command

from kafkatools import __version__
from kafkatools.cli._env import Env, ExitStatus, UsageError, current_env, one_line, report_error, use_env
from kafkatools.cli._options import (
    OutputFormat,
    OutputOption,
    Printer,
    load_client_config,
    load_config_file,
    parse_bootstrap,
    parse_property_options,
)

__all__ = [
    "Env",
    "ExitStatus",
    "OutputFormat",
    "OutputOption",
    "Printer",
    "UsageError",
    "VersionOption",
    "command_for",
    "current_env",
    "load_client_config",
    "load_config_file",
    "main_for",
    "make_app",
    "parse_bootstrap",
    "parse_property_options",
    "report_error",
    "run_app",
    "run_async",
]

T = TypeVar("T")


def _print_version(value: bool) -> None:
    if value:
        current_env().stdout.write(f"{__version__}\n")
        raise typer.Exit(0)


VersionOption = Annotated[
    bool,
    typer.Option("--version", callback=_print_version, is_eager=True, help="Display Kafka version."),
]
"""A ``--version`` flag: prints ``kafkatools.__version__`` and exits 0, before other checks run."""


def make_app(help: str) -> typer.Typer:
    """A typer app with kafkatools' defaults: plain help (no rich), no completion flags, ``--help`` only."""
    return typer.Typer(
        help=help,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["--help"], "max_content_width": 120},
    )


def command_for(app: typer.Typer) -> Command:
    """The click command typer builds for ``app``; a single command without a docstring gets the app's help."""
    command = get_command(app)
    if not command.help and isinstance(app.info.help, str):
        command.help = app.info.help
    return command


def _quiet_broken_pipe() -> int:
    """stdout's reader went away: stop quietly.

    Java's PrintStream swallows write errors, so Kafka's tools finish with 0 in ``| head``; we do
    the same.  stdout is pointed at /dev/null so the interpreter's final flush cannot complain.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # an in-memory stdout (tests): nothing to redirect
    return ExitStatus.OK


def run_app(app: typer.Typer, prog_name: str, argv: list[str] | None = None, env: Env | None = None) -> int:
    """Run ``app`` on ``argv`` (default ``sys.argv[1:]``) and return its exit status; never raises."""
    env = env or Env()
    args = list(sys.argv[1:] if argv is None else argv)
    token = use_env(env)
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = env.stdin, env.stdout, env.stderr  # click's echo/help use sys.*
    try:
        command = command_for(app)
        with command.make_context(prog_name, args) as ctx:
            rv = command.invoke(ctx)
        return int(rv) if isinstance(rv, int) else ExitStatus.OK
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        env.stderr.write(f"{prog_name}: aborted\n")
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except click_exc.NoArgsIsHelpError as e:  # Kafka: no arguments -> usage on stderr, exit 1
        env.stderr.write(e.ctx.get_help() + "\n")
        return ExitStatus.ERROR
    except click_exc.ClickException as e:
        env.stderr.write(f"{prog_name}: error: {one_line(e.format_message())}\n")
        return ExitStatus.ERROR
    except Exception as e:
        return report_error(prog_name, e, env)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        token.var.reset(token)
        try:
            env.stdout.flush()
        except BrokenPipeError:
            _quiet_broken_pipe()
        except (OSError, ValueError):
            pass


def main_for(app: typer.Typer, prog_name: str) -> Callable[[], None]:
    """The console-script entry point for ``app``: ``main = main_for(app, "kafka-topics")``."""

    def main() -> None:
        sys.exit(run_app(app, prog_name))

    main.__doc__ = f"Entry point of {prog_name}."
    return main


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, unwrapping a lone exception out of a TaskGroup's ExceptionGroup.

    Errors then reach ``run_app`` as the plain exception, so they map to the same one-line message
    as in synchronous code; Ctrl-C arrives as KeyboardInterrupt (exit 130).
    """
    import asyncio

    try:
        return asyncio.run(coro)
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
            leaf = leaf.exceptions[0]
        if leaf is group:
            raise
        raise leaf from group
