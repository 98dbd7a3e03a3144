"""kafka-checkpoints: show, verify, set and delete on copies of Kafka's checkpoint files."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kafkatools.cli._common import Env, run_app
from kafkatools.cli.checkpoints import app
from kafkatools.storage.fs import DEFAULT_FS
from kafkatools.wire.records import build_batch
from tests.unit.test_dump_log import FIXTURES

DIR_13980 = FIXTURES / "023aafc3112/core/data/kafka-13980083082189751010"
DIR_15043 = FIXTURES / "d0e182efc2e/core/data/kafka-15043606438991224950"


def run(*argv: str) -> tuple[int, str, str]:
    env = Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    code = run_app(app, "kafka-checkpoints", list(argv), env)
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    target = tmp_path / "logs"
    shutil.copytree(DIR_13980, target)
    return target


def test_show_offsets_and_epochs(log_dir: Path) -> None:
    code, out, err = run("show", str(DIR_15043 / "recovery-point-offset-checkpoint"))
    assert (code, err) == (0, "")
    assert out.splitlines() == ["TOPIC                       PARTITION  OFFSET",
                                "alter-reassignments-topic-1 0          0",
                                "alter-reassignments-topic-1 1          0",
                                "__consumer_offsets          3          0"]
    code, out, _ = run("show", str(log_dir / "test-topic-0/leader-epoch-checkpoint"), "--output", "json")
    assert (code, [json.loads(x) for x in out.splitlines()]) == (0, [{"epoch": 1, "startOffset": 1}])
    empty = FIXTURES / "023aafc3112/core/data/kafka-11292028351815590561/cleaner-offset-checkpoint"
    code, out, _ = run("show", str(empty))
    assert (code, out) == (0, "TOPIC PARTITION  OFFSET\n")


def test_set_and_delete_offsets_round_trip(log_dir: Path) -> None:
    path = log_dir / "replication-offset-checkpoint"
    original = path.read_bytes()
    assert original == (DIR_13980 / "replication-offset-checkpoint").read_bytes() == b"0\n1\ntest-topic 0 0\n"
    code, out, err = run("set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "2")
    assert (code, err) == (0, "") and "-test-topic 0 0\n+test-topic 0 2\n" in out
    assert path.read_bytes() == b"0\n1\ntest-topic 0 2\n"
    run("set", str(path), "--topic", "other.topic_x", "--partition", "3", "--offset", "9")
    assert path.read_bytes() == b"0\n2\ntest-topic 0 2\nother.topic_x 3 9\n"
    assert run("delete", str(path), "--topic", "other.topic_x", "--partition", "3")[0] == 0
    run("set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "0")
    assert path.read_bytes() == original
    assert not (log_dir / "replication-offset-checkpoint.tmp").exists()
    code, out, _ = run("delete", str(path), "--topic", "test-topic", "--partition", "0")
    assert code == 0 and path.read_bytes() == b"0\n0\n"
    code, out, _ = run("set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "0")
    assert code == 0 and path.read_bytes() == original


def test_set_and_delete_leader_epochs(log_dir: Path) -> None:
    path = log_dir / "test-topic-0/leader-epoch-checkpoint"
    assert run("set", str(path), "--epoch", "3", "--start-offset", "2")[0] == 0
    assert path.read_bytes() == b"0\n2\n1 1\n3 2\n"
    assert run("set", str(path), "--epoch", "2", "--start-offset", "1")[0] == 0
    assert path.read_bytes() == b"0\n3\n1 1\n2 1\n3 2\n"
    code, _, err = run("set", str(path), "--epoch", "4", "--start-offset", "0")
    assert code == 1 and err.count("\n") == 1 and "start offsets must not decrease" in err
    assert run("delete", str(path), "--epoch", "2")[0] == 0
    assert path.read_bytes() == b"0\n2\n1 1\n3 2\n"
    code, _, err = run("delete", str(path), "--epoch", "9")
    assert code == 1 and "no entry for epoch 9" in err


def test_dry_run_writes_nothing(log_dir: Path) -> None:
    path = log_dir / "log-start-offset-checkpoint"
    before = sorted((p.name, p.read_bytes()) for p in log_dir.rglob("*") if p.is_file())
    code, out, err = run("set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "2", "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"--- {path} (old)", f"+++ {path} (new)", "@@ -1,3 +1,3 @@", " 0", " 1",
                                "-test-topic 0 1", "+test-topic 0 2", f"Dry run: {path} was not changed."]
    run("delete", str(path), "--topic", "test-topic", "--partition", "0", "--dry-run")
    run("set", str(log_dir / "test-topic-0/leader-epoch-checkpoint"), "--epoch", "5", "--start-offset", "2",
        "--dry-run")
    assert sorted((p.name, p.read_bytes()) for p in log_dir.rglob("*") if p.is_file()) == before


def test_refuses_while_a_broker_holds_the_lock(log_dir: Path) -> None:
    path = log_dir / "recovery-point-offset-checkpoint"
    handle = DEFAULT_FS.lock(str(log_dir / ".lock"))
    assert handle is not None
    try:
        for argv in (["set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "2"],
                     ["set", str(log_dir / "test-topic-0/leader-epoch-checkpoint"), "--epoch", "2",
                      "--start-offset", "2"]):
            code, _, err = run(*argv)
            assert code == 1 and err.count("\n") == 1 and "a broker is running" in err
        assert path.read_bytes() == (DIR_13980 / "recovery-point-offset-checkpoint").read_bytes()
    finally:
        DEFAULT_FS.unlock(handle)
    assert run("set", str(path), "--topic", "test-topic", "--partition", "0", "--offset", "2")[0] == 0
    assert path.read_bytes() == b"0\n1\ntest-topic 0 2\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["--topic", "bad topic", "--partition", "0", "--offset", "1"], "invalid topic name"),
    (["--topic", "..", "--partition", "0", "--offset", "1"], "invalid topic name"),
    (["--topic", "t" * 250, "--partition", "0", "--offset", "1"], "invalid topic name"),
    (["--topic", "t", "--partition", "-1", "--offset", "1"], "--partition must be between"),
    (["--topic", "t", "--partition", "0", "--offset", "-5"], "--offset must be between"),
    (["--topic", "t", "--offset", "5"], "need --topic and --partition"),
    (["--topic", "t", "--partition", "0"], "need --offset"),
    (["--epoch", "1", "--start-offset", "0"], "need --topic and --partition"),
])
def test_invalid_values(log_dir: Path, argv: list[str], message: str) -> None:
    path = log_dir / "replication-offset-checkpoint"
    code, out, err = run("set", str(path), *argv)
    assert code == 1 and out == "" and err.count("\n") == 1 and message in err, err
    assert path.read_bytes() == b"0\n1\ntest-topic 0 0\n"


@pytest.mark.parametrize("content", [b"1\n0\n", b"0\n2\nt 0 1\n", b"0\n1\nt x 1\n", b"0\n1\nt 0\n", b"\xff\xfe"])
def test_invalid_files_are_one_line_errors(log_dir: Path, content: bytes) -> None:
    path = log_dir / "cleaner-offset-checkpoint"
    path.write_bytes(content)
    for argv in (["show", str(path)], ["set", str(path), "--topic", "t", "--partition", "0", "--offset", "1"]):
        code, out, err = run(*argv)
        assert code == 1 and err.count("\n") == 1 and str(path) in err and "Traceback" not in err, err
    assert path.read_bytes() == content
    code, out, _ = run("verify", str(log_dir))
    assert code == 1 and "problem:" in out


def test_unknown_file_name_needs_kind(log_dir: Path) -> None:
    path = log_dir / "copy-of-checkpoint"
    shutil.copy(log_dir / "recovery-point-offset-checkpoint", path)
    code, _, err = run("show", str(path))
    assert code == 1 and "--kind" in err
    assert run("show", str(path), "--kind", "offsets")[0] == 0
    code, _, err = run("show", str(log_dir / "missing-checkpoint"), "--kind", "offsets")
    assert code == 1 and "No such file" in err


def test_verify_fixture_dirs(tmp_path: Path) -> None:
    for source in sorted(p for p in FIXTURES.glob("*/core/data/*") if p.is_dir()):
        target = tmp_path / source.name
        shutil.copytree(source, target)
        code, out, err = run("verify", str(target))
        assert (code, err) == (0, ""), (source, out, err)
        assert out.splitlines()[-1].startswith("OK: ")
    # the deleted partition's stale entry is only a warning
    out = run("verify", str(tmp_path / "kafka-14696354110866436968"))[1]
    assert "warning:" in out and "test-topic-0 has no partition directory" in out


def test_verify_finds_out_of_range_offsets_and_bad_epochs(log_dir: Path) -> None:
    part = log_dir / "test-topic-0"
    (part / "00000000000000000000.log").write_bytes(
        (part / "00000000000000000000.log").read_bytes() + build_batch([(None, b"x")] * 3, base_offset=2))
    assert run("verify", str(log_dir))[0] == 0
    (log_dir / "replication-offset-checkpoint").write_bytes(b"0\n1\ntest-topic 0 6\n")
    (part / "leader-epoch-checkpoint").write_bytes(b"0\n2\n1 1\n2 9\n")
    code, out, _ = run("verify", str(log_dir), "--output", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    problems = [r["message"] for r in rows if r["level"] == "problem"]
    assert code == 1 and len(problems) == 2, rows
    assert any("test-topic-0 offset 6 is outside the log [0, 5]" in p for p in problems)
    assert any("epoch 2 starts at 9, past the log end offset 5" in p for p in problems)
    assert run("verify", str(log_dir / "nope"))[0] == 1


def test_real_subprocess(log_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "from kafkatools.cli.checkpoints import main; main()", "show",
                           str(log_dir / "log-start-offset-checkpoint")], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.splitlines()[1].split() == ["test-topic", "0", "1"]
