"""kafkatools.cli.docs: completions and man pages generated from CLI definitions, and the --check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import pytest
import typer

from kafkatools.cli import docs
from kafkatools.cli._common import OutputFormat, OutputOption, VersionOption, make_app
from kafkatools.cli.registry import TOOLS, Tool

app = make_app("Demonstrate every kind of option.")


@app.command()
def demo(
    bootstrap_server: Annotated[str, typer.Option("--bootstrap-server", help="The server(s) to connect to.")],
    producer_config: Annotated[str | None, typer.Option("--producer.config", help="Producer config file.")] = None,
    data_file: Annotated[Path | None, typer.Option("--data", help="Where the data is.")] = None,
    prop: Annotated[list[str] | None, typer.Option("--property", help="A k=v [item]: 'quoted'.")] = None,
    sync: Annotated[bool, typer.Option("--sync", help="Wait for each send.")] = False,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """Demonstrate every kind of option.

    A second paragraph; the next one starts with a dot, which troff must not read as a request.

    .properties files are Java's.
    """


DEMO = (
    Tool("kafka-demo", __name__, "app", "demonstrate options"),
    Tool("kafka-ghost", __name__, "not_landed_yet", "a placeholder, skipped"),
    Tool("kafka-server-start", "kafkatools.cli.server_start", "SPEC", "start a broker"),
)


def test_generation_is_deterministic_and_skips_placeholders() -> None:
    first = docs.generate(DEMO)
    assert first == docs.generate(DEMO)
    assert sorted(first) == [
        "completions/bash/kafka-demo",
        "completions/bash/kafka-server-start",
        "completions/fish/kafka-demo.fish",
        "completions/fish/kafka-server-start.fish",
        "completions/zsh/_kafka-demo",
        "completions/zsh/_kafka-server-start",
        "man/kafka-demo.1",
        "man/kafka-server-start.1",
    ]


def test_click_options_become_completions() -> None:
    files = docs.generate(DEMO)
    bash = files["completions/bash/kafka-demo"]
    assert '--producer.config) COMPREPLY=( $(compgen -f -- "$cur") )' in bash  # a Kafka config file
    assert '--data) COMPREPLY=( $(compgen -f -- "$cur") )' in bash  # a Path annotation
    assert '--output) COMPREPLY=( $(compgen -W "text json" -- "$cur") )' in bash
    assert "--bootstrap-server) COMPREPLY=()" in bash
    assert "--sync)" not in bash  # a flag takes no value
    fish = files["completions/fish/kafka-demo.fish"]
    assert "complete -c kafka-demo -l producer.config -r -F -d 'Producer config file.'" in fish
    assert "complete -c kafka-demo -l output -x -a 'text json'" in fish
    assert "complete -c kafka-demo -l property -x -d 'A k=v [item]: \\'quoted\\'.'" in fish
    assert "complete -c kafka-demo -l sync -d 'Wait for each send.'" in fish
    zsh = files["completions/zsh/_kafka-demo"]
    assert "'*--property=[A k=v \\[item\\]\\: '\\''quoted'\\''.]:VALUE: '" in zsh
    assert "'--sync[Wait for each send.]'" in zsh


def test_static_spec_gets_positional_file_and_single_dash_option() -> None:
    files = docs.generate(DEMO)
    assert "'1:server.properties:_files'" in files["completions/zsh/_kafka-server-start"]
    assert "complete -c kafka-server-start -o daemon" in files["completions/fish/kafka-server-start.fish"]
    assert "SYNOPSIS\n.B kafka\\-server\\-start\n[\\-daemon] server.properties" in files["man/kafka-server-start.1"]


def test_man_page_sections_and_escaping() -> None:
    page = docs.generate(DEMO)["man/kafka-demo.1"]
    sections = [line.split(" ", 1)[1] for line in page.splitlines() if line.startswith(".SH ")]
    assert sections == ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"]
    assert "kafka\\-demo \\- demonstrate options" in page
    assert "\\fB\\-\\-bootstrap\\-server\\fR \\fIVALUE\\fR\nThe server(s) to connect to." in page
    assert "\n\\&.properties files are Java's.\n" in page
    assert ".BR kafka\\-server\\-start (1)" in page


def test_bash_completion_is_valid_and_completes(tmp_path: Path) -> None:
    bash_exe = shutil.which("bash")
    if bash_exe is None:
        pytest.fail("bash is needed to check the generated bash completion")
    script = tmp_path / "kafka-demo"
    script.write_text(docs.generate(DEMO)["completions/bash/kafka-demo"])
    probe = (
        f"source {script}; COMP_WORDS=(kafka-demo --outp); COMP_CWORD=1; _kafkatools_kafka_demo;"
        " echo ${COMPREPLY[*]}; COMP_WORDS=(kafka-demo --output j); COMP_CWORD=2; _kafkatools_kafka_demo;"
        " echo ${COMPREPLY[*]}"
    )
    result = subprocess.run([bash_exe, "-c", probe], capture_output=True, text=True, check=False, timeout=30)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["--output", "json"]


def test_check_reports_stale_missing_and_extra(tmp_path: Path) -> None:
    files = docs.generate(DEMO)
    docs.write(files, tmp_path)
    assert docs.check(files, tmp_path) == []
    (tmp_path / "man/kafka-demo.1").write_text("old\n")
    (tmp_path / "completions/zsh/_kafka-demo").unlink()
    (tmp_path / "completions/fish/kafka-gone.fish").write_text("# a tool that was removed\n")
    assert docs.check(files, tmp_path) == [
        "missing: completions/zsh/_kafka-demo",
        "stale: man/kafka-demo.1",
        "extra: completions/fish/kafka-gone.fish",
    ]
    assert docs.write(files, tmp_path) == ["completions/fish/kafka-gone.fish"]
    assert docs.check(files, tmp_path) == []


def test_main_check_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main(["--check", "--out", str(tmp_path)]) == 1
    assert "missing: man/kafka-server-start.1" in capsys.readouterr().err
    assert docs.main(["--out", str(tmp_path)]) == 0
    assert docs.main(["--check", "--out", str(tmp_path)]) == 0


def test_committed_completions_and_man_pages_are_fresh() -> None:
    problems = docs.check(docs.generate(TOOLS), docs.ROOT)
    assert problems == [], "run `python -m kafkatools.cli.docs` and commit completions/ and man/: " + "; ".join(
        problems
    )
