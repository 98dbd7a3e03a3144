"""kafka-dump-log: Kafka 3.9's exact lines on real fixture files, and no traceback on any of them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kafkatools.cli._common import Env, run_app
from kafkatools.cli.dump_log import app
from kafkatools.storage import dump_lines

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "kafka-fixtures"
DATA_13980 = FIXTURES / "023aafc3112/core/data/kafka-13980083082189751010"


def fixture_files() -> list[Path]:
    found = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")
    assert len(found) > 50, f"kafka fixtures not found under {FIXTURES}"
    return found


def run(*argv: str) -> tuple[int, str, str]:
    env = Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    code = run_app(app, "kafka-dump-log", list(argv), env)
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return code, env.stdout.getvalue(), env.stderr.getvalue()


def test_kafka_reference_example_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA_13980)
    code, out, err = run("--files", "test-topic-0/00000000000000000000.log", "--print-data-log")
    assert (code, err) == (0, "")
    assert out == (
        "Dumping test-topic-0/00000000000000000000.log\n"
        "Log starting offset: 0\n"
        "baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 "
        "partitionLeaderEpoch: 1 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty "
        "position: 0 CreateTime: 11 size: 83 magic: 2 compresscodec: none crc: 2895120616 isvalid: true\n"
        "| offset: 0 CreateTime: 10 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [] key: k1 payload: v1\n"
        "| offset: 1 CreateTime: 11 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [] key: k2 payload: v2\n"
    )


@pytest.mark.parametrize("flags", [(), ("--print-data-log",), ("--verify-index-only",), ("--index-sanity-check",),
                                   ("--offsets-decoder",), ("--cluster-metadata-decoder",)])
def test_every_fixture_file_dumps_without_error(flags: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    if "--print-data-log" in flags:
        monkeypatch.setattr(dump_lines, "MMAP_THRESHOLD", 0)  # also read the fixtures through the mmap path
    for path in fixture_files():
        code, out, err = run("--files", str(path), *flags)
        assert code == 0, (path, err)
        assert out.startswith(f"Dumping {path}\n"), path
        assert "internal error" not in err and "Traceback" not in err, (path, err)
        if path.suffix == ".log":
            assert "isvalid: false" not in out and "invalid bytes" not in out, (path, out)
        elif path.suffix not in (".index", ".timeindex"):
            assert err == f"Ignoring unknown file {path}\n" or "cluster-metadata" in err, (path, err)


def test_kraft_snapshot_checkpoint_file(tmp_path: Path) -> None:
    import struct

    from kafkatools.wire import control
    from kafkatools.wire.records import RecordInput, build_batch

    def control_batch(kind: control.ControlType, value: bytes, offset: int) -> bytes:
        return build_batch([RecordInput(control.encode_key(kind), value, 5)], base_offset=offset, is_control=True)

    data = (control_batch(control.ControlType.SNAPSHOT_HEADER, struct.pack(">hq", 0, 123) + b"\x00", 0)
            + build_batch([(None, b"\x01\x02\x00\x00")], base_offset=1, timestamps=[5])
            + control_batch(control.ControlType.SNAPSHOT_FOOTER, struct.pack(">h", 0) + b"\x00", 2))
    path = tmp_path / "00000000000000000010-0000000001.checkpoint"
    path.write_bytes(data)
    code, out, err = run("--files", str(path), "--cluster-metadata-decoder")
    lines = out.splitlines()
    assert code == 0 and "not decode" in err
    assert lines[1] == "Snapshot end offset: 10, epoch: 1"
    assert lines[3].endswith(' SnapshotHeader {"version":0,"lastContainedLogTimestamp":123}')
    assert lines[5].endswith(' payload: {"apiKey":2,"version":0,"data":"not decoded: kafkatools does not decode '
                             'KRaft metadata record bodies"}')
    assert lines[7].endswith(' SnapshotFooter {"version":0}')


def test_real_subprocess() -> None:
    import subprocess
    import sys

    path = DATA_13980 / "test-topic-0/00000000000000000000.log"
    proc = subprocess.run([sys.executable, "-c", "from kafkatools.cli.dump_log import main; main()", "--files",
                           str(path), "--deep-iteration"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines()[-1].startswith("| offset: 1 CreateTime: 11 keySize: 2 valueSize: 2")
