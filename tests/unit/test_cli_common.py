"""kafkatools.cli._common: every failure is one line on stderr and a named exit status."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated

import pytest
import typer

from kafkatools import __version__
from kafkatools.cli._common import (
    Env,
    ExitStatus,
    OutputFormat,
    OutputOption,
    Printer,
    UsageError,
    VersionOption,
    current_env,
    load_client_config,
    make_app,
    parse_bootstrap,
    parse_property_options,
    run_app,
    run_async,
)
from kafkatools.errors import UNKNOWN_TOPIC_OR_PARTITION, KafkaError
from kafkatools.properties import PropertiesError

app = make_app("A tool used only by these tests.")
_BEHAVIOUR: dict[str, BaseException] = {}


@app.command()
def demo(
    bootstrap_server: Annotated[str, typer.Option("--bootstrap-server")],
    producer_config: Annotated[str | None, typer.Option("--producer.config")] = None,
    prop: Annotated[list[str] | None, typer.Option("--property")] = None,
    partitions: Annotated[int, typer.Option("--partitions")] = 1,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    env = current_env()
    servers = parse_bootstrap(bootstrap_server)
    config = load_client_config(producer_config, prop)
    if "raise" in _BEHAVIOUR:
        raise _BEHAVIOUR["raise"]
    Printer(output, env.stdout).emit(f"{servers} {config} {partitions}", {"servers": servers, "config": config})


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    env = Env(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO())
    code = run_app(app, "kafka-demo", list(argv), env)
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


@pytest.fixture(autouse=True)
def _reset() -> None:
    _BEHAVIOUR.clear()


def test_success_parses_dotted_option_and_repeated_properties(tmp_path: Path) -> None:
    cfg = tmp_path / "producer.properties"
    cfg.write_text("acks=1\nlinger.ms=5\n")
    code, out, err = run(
        "--bootstrap-server", "a:1,[::1]:2", "--producer.config", str(cfg), "--property", "acks=all",
        "--property", "x=y=z", "--partitions", "3",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == "[('a', 1), ('::1', 2)] {'acks': 'all', 'linger.ms': '5', 'x': 'y=z'} 3\n"


def test_json_output_is_one_compact_object_per_line() -> None:
    code, out, _ = run("--bootstrap-server", "h:9", "--output", "json", "--property", "k=v")
    assert code == 0
    assert out.count("\n") == 1 and " " not in out
    assert json.loads(out) == {"servers": [["h", 9]], "config": {"k": "v"}}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--frobnicate"], "error: No such option: --frobnicate"),
        (["--bootstrap-server"], "error: Option '--bootstrap-server' requires an argument."),
        (["--partitions", "2"], "error: Missing option '--bootstrap-server'."),
        (["--bootstrap-server", "nohost"], "error: Please provide valid host:port like host1:9091,host2:9092"),
        (["--bootstrap-server", "h:1", "--producer.config", "/no/p"], "/no/p (No such file or directory)"),
    ],
)  # fmt: skip
def test_usage_and_config_errors_are_one_line_exit_1(argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    assert code == ExitStatus.ERROR
    assert out == ""
    assert err == f"kafka-demo: {message}\n"


def test_bad_property_is_one_line_naming_the_item() -> None:
    code, out, err = run("--bootstrap-server", "h:1", "--property", "novalue")
    assert (code, out) == (1, "")
    assert err.startswith("kafka-demo: Invalid ") and "'novalue'" in err and err.count("\n") == 1


def test_bad_int_is_one_line_naming_the_option() -> None:
    code, _, err = run("--bootstrap-server", "h:1", "--partitions", "x")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("kafka-demo: error: Invalid value for '--partitions'")
    assert "Traceback" not in err and "╭" not in err


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (KafkaError(UNKNOWN_TOPIC_OR_PARTITION, "no topic t"), 1, "UNKNOWN_TOPIC_OR_PARTITION: no topic t"),
        (PropertiesError("bad\nfile"), 1, "bad file"),
        (UsageError("Command must include exactly one action"), 1, "error: Command must include exactly one action"),
        (ConnectionRefusedError(111, "Connection refused"), 1, "[Errno 111] Connection refused"),
        (ValueError("oops"), 1, "internal error: ValueError: oops"),
        (KeyboardInterrupt(), 130, None),
        (BrokenPipeError(), 0, None),
        (typer.Exit(3), 3, None),
    ],
)  # fmt: skip
def test_exceptions_map_to_one_line_and_status(exc: BaseException, code: int, message: str | None) -> None:
    _BEHAVIOUR["raise"] = exc
    got, out, err = run("--bootstrap-server", "h:1")
    expected = "" if message is None else f"kafka-demo: {message}\n"
    assert (got, out, err) == (code, "", expected)


def test_internal_error_traceback_only_with_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    _BEHAVIOUR["raise"] = RuntimeError("boom")
    monkeypatch.setenv("KAFKATOOLS_DEBUG", "1")
    code, _, err = run("--bootstrap-server", "h:1")
    assert code == 1
    assert err.startswith("kafka-demo: internal error: RuntimeError: boom\n")
    assert "Traceback" in err


def test_help_and_version_exit_0_on_stdout() -> None:
    code, out, err = run("--help")
    assert (code, err) == (0, "")
    assert "Usage: kafka-demo [OPTIONS]" in out and "--producer.config" in out
    code, out, err = run("--partitions", "2", "--version")  # eager: the missing --bootstrap-server is not checked
    assert (code, out) == (0, f"{__version__}\n")


def test_parse_bootstrap_accepts_lists_and_rejects_bad_ports() -> None:
    assert parse_bootstrap("localhost:9092, 10.0.0.1:1") == [("localhost", 9092), ("10.0.0.1", 1)]
    for bad in ("localhost", "h:", ":9092", "h:99999", "h:1,,h:2", "h:x"):
        with pytest.raises(UsageError):
            parse_bootstrap(bad)


def test_parse_property_options_last_wins() -> None:
    assert parse_property_options(None) == {}
    assert parse_property_options(["a=1", "a=2", "b="]) == {"a": "2", "b": ""}


def test_run_async_unwraps_a_lone_task_group_error() -> None:
    import asyncio

    async def child() -> None:
        raise KafkaError(UNKNOWN_TOPIC_OR_PARTITION)

    async def failing() -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(child())

    async def fine() -> int:
        return 7

    assert run_async(fine()) == 7
    with pytest.raises(KafkaError) as info:
        run_async(failing())
    assert isinstance(info.value.__cause__, BaseExceptionGroup)
