"""zookeeper-server-start / -stop without a JVM: installation lookup, the java command line, argument
handling, the not-installed message, and which /proc entries count as our ZooKeeper."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

import pytest

from kafkatools.cli import zookeeper_server as zs
from kafkatools.cli._env import Env


def env() -> Env:
    return Env(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())


def text(stream: TextIO) -> str:
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def fake_java(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    return {"JAVA_HOME": str(home), "PATH": ""}


def test_debian_installation(tmp_path: Path) -> None:
    jars = tmp_path / "java"
    jars.mkdir()
    (jars / "zookeeper.jar").write_bytes(b"")
    (jars / "slf4j-simple.jar").write_bytes(b"")
    found = zs.find_installation(fake_java(tmp_path), jars)
    assert found.java == str(tmp_path / "jdk" / "bin" / "java")
    assert found.classpath == (str(jars / "zookeeper.jar"), str(jars / "slf4j-simple.jar"))
    assert "-Dorg.slf4j.simpleLogger.showDateTime=true" in found.jvm_options


def test_zookeeper_home(tmp_path: Path) -> None:
    home = tmp_path / "apache-zookeeper-3.8.4-bin"
    (home / "lib").mkdir(parents=True)
    environ = {**fake_java(tmp_path), "ZOOKEEPER_HOME": str(home)}
    with pytest.raises(zs.NotInstalledError, match=r"no zookeeper-.*jar in .ZOOKEEPER_HOME"):
        zs.find_installation(environ, tmp_path / "nowhere")
    (home / "lib" / "zookeeper-3.8.4.jar").write_bytes(b"")
    found = zs.find_installation(environ, tmp_path / "nowhere")
    assert found.classpath == (f"{home}/lib/*", f"{home}/*", f"{home}/conf")


def test_not_installed_messages(tmp_path: Path) -> None:
    with pytest.raises(zs.NotInstalledError) as no_jar:
        zs.find_installation(fake_java(tmp_path), tmp_path / "nowhere")
    assert str(no_jar.value) == "ZooKeeper is not installed: apt-get install zookeeper, or set ZOOKEEPER_HOME"
    jars = tmp_path / "java"
    jars.mkdir()
    (jars / "zookeeper.jar").write_bytes(b"")
    with pytest.raises(zs.NotInstalledError, match=r"apt-get install zookeeper.*\(java not found\)"):
        zs.find_installation({"PATH": str(tmp_path / "empty")}, jars)


def test_java_command_follows_kafka_run_class(tmp_path: Path) -> None:
    install = zs.Installation("/usr/bin/java", ("/a.jar", "/b.jar"), ("-Dx=1",))
    command = zs.java_command(install, "cfg/zookeeper.properties", {})
    assert command[:3] == ["/usr/bin/java", "-Xmx512M", "-Xms512M"]
    assert "-XX:+UseG1GC" in command and zs.MARKER in command and "-Dx=1" in command
    assert command[-4:] == ["-cp", "/a.jar:/b.jar", zs.MAIN_CLASS, str(Path("cfg/zookeeper.properties").resolve())]
    custom = zs.java_command(install, "z.properties", {"KAFKA_HEAP_OPTS": "-Xmx64M", "KAFKA_OPTS": "-Dy=2",
                                                       "KAFKA_JVM_PERFORMANCE_OPTS": "-server"})
    assert custom[1:3] == ["-Xmx64M", "-server"] and "-Dy=2" in custom and "-Xms512M" not in custom


@pytest.mark.parametrize("argv", [[], ["-daemon"], ["a", "b"], ["--nope"]])
def test_start_usage(argv: list[str]) -> None:
    e = env()
    assert zs.run_start(argv, e) == 1
    assert text(e.stderr) == "USAGE: zookeeper-server-start [-daemon] zookeeper.properties\n"


def test_start_help_and_bad_files(tmp_path: Path) -> None:
    e = env()
    assert zs.run_start(["--help"], e) == 0
    assert text(e.stdout).startswith("USAGE: zookeeper-server-start [-daemon] zookeeper.properties\n")
    e = env()
    assert zs.run_start([str(tmp_path / "missing.properties")], e) == 1
    assert text(e.stderr).startswith("zookeeper-server-start: ") and text(e.stderr).count("\n") == 1
    cfg = tmp_path / "zk.properties"
    cfg.write_text("clientPort=2181\n")
    e = env()
    assert zs.run_start(["-daemon", str(cfg)], e) == 1
    assert text(e.stderr) == f"zookeeper-server-start: {cfg}: dataDir is not set\n"
    cfg.write_text("dataDir=/tmp/x\nclientPort=abc\n")
    e = env()
    assert zs.run_start([str(cfg)], e) == 1
    assert "clientPort must be a number" in text(e.stderr)


def test_start_without_zookeeper_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "zk.properties"
    cfg.write_text("dataDir=/tmp/x\nclientPort=2181\n")
    monkeypatch.setattr(zs, "DEBIAN_JARS", tmp_path / "nowhere")
    monkeypatch.delenv("ZOOKEEPER_HOME", raising=False)
    e = env()
    assert zs.run_start(["-daemon", str(cfg)], e) == 1
    assert text(e.stderr) == (
        "zookeeper-server-start: ZooKeeper is not installed: apt-get install zookeeper, or set ZOOKEEPER_HOME\n"
    )


def write_proc(root: Path, pid: int, argv: list[str]) -> None:
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))


def test_find_zookeepers_only_ours(tmp_path: Path) -> None:
    ours = ["/usr/bin/java", "-Xmx512M", zs.MARKER, "-cp", "x", zs.MAIN_CLASS, "/etc/a.properties"]
    write_proc(tmp_path, 101, ours)
    write_proc(tmp_path, 102, [*ours[:-1], "/etc/b.properties"])
    write_proc(tmp_path, 103, ["/usr/bin/java", "-cp", "x", zs.MAIN_CLASS, "/etc/zookeeper/conf/zoo.cfg"])  # system
    write_proc(tmp_path, 104, ["python", "-c", f"print('{zs.MAIN_CLASS} {zs.MARKER}')"])
    (tmp_path / "self").mkdir()
    assert zs.find_zookeepers(tmp_path) == [101, 102]
    assert zs.find_zookeepers(tmp_path, "/etc/b.properties") == [102]
    e = env()
    assert zs.run_stop(["/etc/c.properties"], e, tmp_path) == 1
    assert text(e.stdout) == "No zookeeper server to stop\n"


def test_stop_arguments(tmp_path: Path) -> None:
    e = env()
    assert zs.run_stop(["--force"], e, tmp_path) == 1
    assert text(e.stderr) == "zookeeper-server-stop: error: --force is not a recognized option\n"
    e = env()
    assert zs.run_stop(["--help"], e, tmp_path) == 0
    assert "USAGE: zookeeper-server-stop [zookeeper.properties]" in text(e.stdout)
