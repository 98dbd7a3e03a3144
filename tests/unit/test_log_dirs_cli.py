"""kafka-log-dirs without a broker: options and the exact JSON line."""

from __future__ import annotations

import io
import json

from kafkatools.cli import log_dirs as ld
from kafkatools.cli._common import Env, run_app
from kafkatools.client.admin import LogDirInfo


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = run_app(ld.app, "kafka-log-dirs", list(args), Env(io.StringIO(), out, err))
    return rc, out.getvalue(), err.getvalue()


def test_required_options() -> None:
    assert run("--describe")[0] == 1 and 'Missing required argument "[bootstrap-server]"' in run("--describe")[2]
    rc, out, err = run("--bootstrap-server", "h:1")
    assert rc == 1 and out == "" and 'Missing required argument "[describe]"' in err
    rc, _, err = run("--bootstrap-server", "h:1", "--describe", "--broker-list", "1,x")
    assert rc == 1 and "--broker-list" in err


def test_lists() -> None:
    assert ld.parse_broker_list("3,1,,3") == (1, 3)
    assert ld.parse_broker_list(None) == ()
    assert ld.split_list("a,,b") == ["a", "b"]


def test_json_line_has_kafkas_key_order() -> None:
    infos = {2: [LogDirInfo("/d2", 0, [("t", 1, 10, 0, False)])],
             1: [LogDirInfo("/d1", 0, [("t", 0, 83, 0, False), ("other", 0, 5, 2, True)]),
                 LogDirInfo("/bad", 56, [])]}
    text = ld.render(infos, ())
    assert text == (
        '{"brokers":[{"broker":1,"logDirs":[{"partitions":[{"partition":"other-0","size":5,"offsetLag":2,'
        '"isFuture":true},{"partition":"t-0","size":83,"offsetLag":0,"isFuture":false}],"error":null,'
        '"logDir":"/d1"},{"partitions":[],"error":"org.apache.kafka.common.errors.KafkaStorageException",'
        '"logDir":"/bad"}]},{"broker":2,"logDirs":[{"partitions":[{"partition":"t-1","size":10,"offsetLag":0,'
        '"isFuture":false}],"error":null,"logDir":"/d2"}]}],"version":1}')
    only_t = json.loads(ld.render(infos, ("t",)))
    assert [p["partition"] for b in only_t["brokers"] for d in b["logDirs"] for p in d["partitions"]] == ["t-0", "t-1"]
