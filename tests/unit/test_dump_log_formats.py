"""kafka-dump-log on files we build: exact lines per format, decoders, corruption, our own storage's files."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from crc32c import crc32c

from kafkatools.broker.groups import records as group_records
from kafkatools.storage import dump_lines
from kafkatools.storage.config import LogConfig
from kafkatools.storage.log import PartitionLog
from kafkatools.storage.names import TopicPartition
from kafkatools.wire import legacy
from kafkatools.wire.compression import Compression
from kafkatools.wire.records import RecordInput, build_batch, build_control_batch
from tests.unit.test_dump_log import run

LOG = "00000000000000000000.log"


def write(directory: Path, name: str, data: bytes) -> str:
    path = directory / name
    path.write_bytes(data)
    return str(path)


def test_magic0_and_magic1_lines(tmp_path: Path) -> None:
    v0 = legacy.build_message_set([(b"k", b"hello")], magic=0, base_offset=0)
    v1 = legacy.build_message_set([(None, b"v1")], magic=1, base_offset=1, timestamps=[1477000000000])
    path = write(tmp_path, LOG, v0 + v1)
    code, out, err = run("--files", path, "--print-data-log")
    crc0 = zlib.crc32(v0[16:])
    crc1 = zlib.crc32(v1[16:])
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        "Log starting offset: 0",
        f"offset: 0 position: 0 NoTimestampType: -1 size: 32 magic: 0 compresscodec: none crc: {crc0} isvalid: true",
        f"| offset: 0 NoTimestampType: -1 keySize: 1 valueSize: 5 isValid: true crc: {crc0}}} key: k payload: hello",
        f"offset: 1 position: 32 CreateTime: 1477000000000 size: 36 magic: 1 compresscodec: none crc: {crc1} "
        "isvalid: true",
        f"| offset: 1 CreateTime: 1477000000000 keySize: -1 valueSize: 2 isValid: true crc: {crc1}}} payload: v1",
    ]


@pytest.mark.parametrize("magic", [0, 1])
@pytest.mark.parametrize("codec", [Compression.GZIP, Compression.SNAPPY, Compression.LZ4])
def test_compressed_legacy_wrappers(tmp_path: Path, magic: int, codec: Compression) -> None:
    data = legacy.build_message_set([(b"a", b"x"), (b"b", b"y"), (None, b"z")], magic=magic, base_offset=10,
                                    compression=codec, timestamps=[5, 6, 7])
    code, out, err = run("--files", write(tmp_path, LOG, data), "--print-data-log")
    lines = out.splitlines()
    assert (code, err) == (0, "")
    ts_type, ts = ("CreateTime", 7) if magic else ("NoTimestampType", -1)
    assert re.fullmatch(rf"offset: 12 position: 0 {ts_type}: {ts} size: {len(data)} magic: {magic} "
                        rf"compresscodec: {codec.name.lower()} crc: \d+ isvalid: true", lines[2])
    tail = "isValid: true crc: C}"
    assert [re.sub(r"crc: \d+", "crc: C", line) for line in lines[3:]] == [
        f"| offset: 10 {ts_type}: {5 if magic else -1} keySize: 1 valueSize: 1 {tail} key: a payload: x",
        f"| offset: 11 {ts_type}: {6 if magic else -1} keySize: 1 valueSize: 1 {tail} key: b payload: y",
        f"| offset: 12 {ts_type}: {7 if magic else -1} keySize: -1 valueSize: 1 {tail} payload: z",
    ]


def test_idempotent_batch_control_marker_and_headers(tmp_path: Path) -> None:
    batch = build_batch([RecordInput(b"k", None, 1700000000000, [("h1", b"x"), ("h2", None)])] * 5, base_offset=10,
                        producer_id=1000, producer_epoch=0, base_sequence=0, compression=Compression.ZSTD)
    marker = build_control_batch("COMMIT", producer_id=1000, producer_epoch=0, coordinator_epoch=0, base_offset=15,
                                 timestamp=1700000001000)
    code, out, err = run("--files", write(tmp_path, "00000000000000000010.log", batch + marker), "--print-data-log")
    lines = out.splitlines()
    assert (code, err) == (0, "")
    assert lines[1] == "Log starting offset: 10"
    assert lines[2].startswith("baseOffset: 10 lastOffset: 14 count: 5 baseSequence: 0 lastSequence: 4 "
                               "producerId: 1000 producerEpoch: 0 partitionLeaderEpoch: -1 isTransactional: false")
    assert " compresscodec: zstd " in lines[2] and lines[2].endswith("isvalid: true")
    assert lines[3] == ("| offset: 10 CreateTime: 1700000000000 keySize: 1 valueSize: -1 sequence: 0 "
                        "headerKeys: [h1,h2] key: k")
    assert lines[7].startswith("| offset: 14 ") and " sequence: 4 " in lines[7]
    assert f"position: {len(batch)} " in lines[8] and "isTransactional: true isControl: true" in lines[8]
    assert lines[9] == ("| offset: 15 CreateTime: 1700000001000 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] "
                        "endTxnMarker: COMMIT coordinatorEpoch: 0")


def test_skip_record_metadata_and_decoders(tmp_path: Path) -> None:
    data = build_batch([(struct.pack(">i", 7), struct.pack(">q", -2)), (None, b"\xffok")], timestamps=[1, 2])
    path = write(tmp_path, LOG, data)
    _, out, _ = run("--files", path, "--skip-record-metadata", "--print-data-log")
    assert out.splitlines()[3:] == ["| key: \x00\x00\x00\x07 payload: " + _utf8(struct.pack(">q", -2)),
                                    " payload: \ufffdok"]
    code, out, _ = run("--files", path, "--skip-record-metadata", "--key-decoder-class",
                       "org.apache.kafka.tools.api.IntegerDecoder", "--value-decoder-class", "LongDecoder")
    assert code == 0 and out.splitlines()[3] == "| key: 7 payload: -2"
    code, out, _ = run("--files", path, "--value-decoder-class", "kafka.serializer.StringDecoder")
    assert code == 0 and "deprecated" in out.splitlines()[0]
    code, _, err = run("--files", path, "--value-decoder-class", "com.example.MyDecoder")
    assert code == 1 and err.count("\n") == 1 and "com.example.MyDecoder" in err


def _utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def test_offsets_decoder_matches_kafka_example(tmp_path: Path) -> None:
    key = group_records.offset_key("g1", "orders", 0)
    value = group_records.offset_value(group_records.OffsetValue(42, 0, "", 1700000000000))
    subscription = struct.pack(">hi", 1, 1) + struct.pack(">h", 6) + b"orders" + struct.pack(">ii", -1, 0)
    member = group_records.MemberValue("m-1", None, "c", "/127.0.0.1", 300000, 45000, subscription, b"\x00\x09")
    group = group_records.GroupValue("consumer", 3, "range", "m-1", 1700000000500, (member,))
    data = build_batch([(key, value), (key, None), (group_records.group_key("g1"), group_records.group_value(group))],
                       base_offset=3, timestamps=[1700000000000] * 3)
    code, out, err = run("--files", write(tmp_path, LOG, data), "--offsets-decoder")
    lines = out.splitlines()
    assert (code, err) == (0, "")
    assert lines[3] == (
        '| offset: 3 CreateTime: 1700000000000 keySize: 18 valueSize: 24 sequence: -1 headerKeys: [] '
        'key: {"type":"1","data":{"group":"g1","topic":"orders","partition":0}} '
        'payload: {"version":"3","data":{"offset":42,"leaderEpoch":0,"metadata":"","commitTimestamp":1700000000000}}')
    assert lines[4].endswith('"partition":0}} payload: <DELETE>')
    payload = json.loads(lines[5].split(" payload: ", 1)[1])
    assert payload["version"] == "3" and payload["data"]["protocol"] == "range"
    decoded_member = payload["data"]["members"][0]
    assert decoded_member["subscription"] == {"topics": ["orders"], "userData": None, "ownedPartitions": []}
    assert decoded_member["assignment"] == "AAk=" and decoded_member["groupInstanceId"] is None


def _compact_str(s: str) -> bytes:
    return bytes([len(s) + 1]) + s.encode()


def test_flexible_offset_value_and_transaction_log(tmp_path: Path) -> None:
    key = struct.pack(">h", 1) + struct.pack(">h", 1) + b"g" + struct.pack(">h", 1) + b"t" + struct.pack(">i", 2)
    v4 = struct.pack(">hqi", 4, 9, 1) + _compact_str("meta") + struct.pack(">q", 77) + b"\x00"
    path = write(tmp_path, LOG, build_batch([(key, v4)], timestamps=[1]))
    _, out, _ = run("--files", path, "--offsets-decoder")
    assert out.splitlines()[3].endswith(
        'payload: {"version":"4","data":{"offset":9,"leaderEpoch":1,"metadata":"meta","commitTimestamp":77}}')
    txn_key = struct.pack(">hh", 0, 3) + b"tx1"
    txn_v0 = (struct.pack(">qhib", 2000, 1, 60000, 2) + struct.pack(">i", 1) + struct.pack(">h", 1) + b"t"
              + struct.pack(">iii", 2, 0, 1) + struct.pack(">qq", 10, 5))
    txn_v1 = (struct.pack(">hqhib", 1, 2000, 1, 60000, 4) + b"\x00" + struct.pack(">qq", 11, 6) + b"\x00")
    path = write(tmp_path, LOG, build_batch([(txn_key, struct.pack(">h", 0) + txn_v0), (txn_key, txn_v1)],
                                             timestamps=[1, 2]))
    code, out, err = run("--files", path, "--transaction-log-decoder")
    lines = out.splitlines()
    assert (code, err) == (0, "")
    assert lines[3].endswith(
        'key: {"type":"0","data":{"transactionalId":"tx1"}} payload: {"version":"0","data":{"producerId":2000,'
        '"producerEpoch":1,"transactionTimeoutMs":60000,"transactionStatus":2,"transactionPartitions":'
        '[{"topic":"t","partitionIds":[0,1]}],"transactionLastUpdateTimestampMs":10,"transactionStartTimestampMs":5}}')
    assert '"version":"1"' in lines[4] and '"transactionPartitions":null' in lines[4]


def test_undecodable_coordinator_record_is_reported_in_line(tmp_path: Path) -> None:
    path = write(tmp_path, LOG, build_batch([(b"\x00\x01\x00", b"x"), (None, b"y")], timestamps=[1, 2]))
    code, out, err = run("--files", path, "--offsets-decoder")
    assert code == 0 and "Traceback" not in err
    assert "payload: <could not decode: " in out.splitlines()[3]
    assert out.splitlines()[4].endswith("payload: <could not decode: CORRUPT_MESSAGE: __consumer_offsets record "
                                        "has no key>")


def test_index_timeindex_snapshot_txnindex(tmp_path: Path) -> None:
    base = 100
    log = build_batch([(None, b"a")] * 36, base_offset=100, timestamps=list(range(1000, 1036)))
    log2 = build_batch([(None, b"b")] * 36, base_offset=136, timestamps=list(range(2000, 2036)))
    write(tmp_path, "00000000000000000100.log", log + log2)
    idx = write(tmp_path, "00000000000000000100.index",
                struct.pack(">ii", 35, 0) + struct.pack(">ii", 71, len(log)) + bytes(16))
    tidx = write(tmp_path, "00000000000000000100.timeindex",
                 struct.pack(">qi", 1035, 35) + struct.pack(">qi", 2035, 71) + struct.pack(">qi", 2000, 71))
    code, out, err = run("--files", f"{idx},{tidx}")
    assert out.splitlines() == [f"Dumping {idx}", "offset: 135 position: 0", f"offset: 171 position: {len(log)}",
                                f"Dumping {tidx}", "timestamp: 1035 offset: 135", "timestamp: 2035 offset: 171",
                                "timestamp: 2000 offset: 171"]
    assert code == 0
    assert err.splitlines() == [f"Found timestamp mismatch in :{tidx}", "  Index timestamp: 2000, log timestamp: 2035",
                                f"Found out of order timestamp in :{tidx}",
                                "  Index timestamp: 2000, Previously indexed timestamp: 2035"]
    code, out, err = run("--files", idx, "--verify-index-only")
    assert (code, out, err) == (0, f"Dumping {idx}\n", "")
    bad = write(tmp_path, "00000000000000000100.index", struct.pack(">ii", 35, 0) + struct.pack(">ii", 70, len(log)))
    code, out, err = run("--files", bad, "--verify-index-only")
    assert err == f"Mismatches in :{bad}\n  Index offset: 170, log offset: 171\n"
    assert run("--files", bad, "--index-sanity-check")[1].endswith(f"{bad} passed sanity check.\n")
    code, out, err = run("--files", write(tmp_path, "00000000000000000100.index", bytes(9)), "--index-sanity-check")
    assert code == 1 and "failed sanity check" in err and "multiple of 8" in err
    empty = write(tmp_path, "00000000000000000200.timeindex", b"")
    assert run("--files", empty)[1] == f"Dumping {empty}\n{empty} is empty.\n"
    del base

    entry = struct.pack(">qhiqiqiq", 1000, 0, 4, 14, 4, 1700000000000, -1, -1)
    body = struct.pack(">i", 1) + entry
    snap = write(tmp_path, "00000000000000000015.snapshot", struct.pack(">hI", 1, crc32c(body)) + body)
    txn = write(tmp_path, "00000000000000000015.txnindex", struct.pack(">hqqqq", 0, 2000, 20, 25, 26))
    code, out, err = run("--files", f"{snap},{txn}")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"Dumping {snap}",
        "producerId: 1000 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty "
        "lastTimestamp: 1700000000000 firstSequence: 0 lastSequence: 4 lastOffset: 14 offsetDelta: 4 "
        "timestamp: 1700000000000",
        f"Dumping {txn}",
        "version: 0 producerId: 2000 firstOffset: 20 lastOffset: 25 lastStableOffset: 26",
    ]
    corrupt = write(tmp_path, "00000000000000000016.snapshot", struct.pack(">hI", 1, 5) + body)
    code, out, err = run("--files", corrupt)
    assert code == 0 and err.startswith("Snapshot is corrupt (CRC is no longer valid). Stored crc: 5.")


def test_corrupt_batch_trailing_bytes_gaps_and_max_bytes(tmp_path: Path) -> None:
    first = build_batch([(b"k", b"v")] * 3, timestamps=[1, 2, 3])
    second = bytearray(build_batch([(b"k", b"v")], base_offset=5, timestamps=[4]))
    second[-2] ^= 0x01  # the value byte, inside the CRC: the batch is shown, marked invalid
    path = write(tmp_path, LOG, first + bytes(second) + b"\x00\x01garbage")
    code, out, err = run("--files", path, "--deep-iteration")
    lines = out.splitlines()
    assert code == 0
    assert lines[2].endswith("isvalid: true") and lines[6].endswith("isvalid: false")
    assert lines[-1] == f"Found 9 invalid bytes at the end of {LOG}"
    assert err == f"Non-consecutive offsets in {path}\n  2 is followed by 5\n"
    code, out, _ = run("--files", path, "--max-bytes", str(len(first) + 10))
    assert code == 0 and "invalid bytes" not in out and out.count("baseOffset:") == 1


def test_unknown_missing_and_usage(tmp_path: Path) -> None:
    other = write(tmp_path, "notes.txt", b"x")
    code, out, err = run("--files", other)
    assert (code, out, err) == (0, f"Dumping {other}\n", f"Ignoring unknown file {other}\n")
    missing = str(tmp_path / "00000000000000000000.log")
    code, out, err = run("--files", missing)
    assert code == 1 and err.count("\n") == 1 and "No such file" in err
    code, _, err = run("--print-data-log")
    assert code == 1 and err == 'kafka-dump-log: error: Missing required argument "[files]"\n'
    code, _, err = run()
    assert code == 1 and "--files" in err


def test_json_output(tmp_path: Path) -> None:
    path = write(tmp_path, LOG, build_batch([(b"k", b"v")], timestamps=[1]))
    code, out, _ = run("--files", path, "--print-data-log", "--output", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["kind"] for r in rows] == ["file", "log_start", "batch", "record"]
    assert rows[2]["isvalid"] is True and rows[3]["key"] == "k" and rows[3]["payload"] == "v"


@pytest.mark.parametrize("mapped", [False, True])
def test_files_written_by_our_storage_are_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool) -> None:
    if mapped:  # segments this small are normally read; force the mmap path big segments take
        monkeypatch.setattr(dump_lines, "MMAP_THRESHOLD", 0)
    config = LogConfig(segment_bytes=3000, index_interval_bytes=300)
    log = PartitionLog(str(tmp_path / "t-0"), TopicPartition("t", 0), config, clock=lambda: 1_700_000_000_000)
    codecs = list(Compression)
    for i in range(40):
        records = [RecordInput(f"k{i}-{j}".encode(), bytes(range(i % 7, 60)), 1_700_000_000_000 + i * 10 + j)
                   for j in range(4)]
        log.append(build_batch(records, compression=codecs[i % len(codecs)]), leader_epoch=3)
    log.close()
    files = sorted(str(p) for p in (tmp_path / "t-0").iterdir() if p.suffix in (".log", ".index", ".timeindex"))
    assert sum(f.endswith(".log") for f in files) >= 3, files
    code, out, err = run("--files", ",".join(files), "--deep-iteration")
    assert (code, err) == (0, ""), err
    assert out.count("isvalid: true") == 40 and "isvalid: false" not in out and "invalid bytes" not in out
    assert out.count("| offset:") == 160
    code, out, err = run("--files", ",".join(files), "--verify-index-only")
    assert (code, err) == (0, "")
    indexes = [f for f in files if not f.endswith(".log")]
    code, out, err = run("--files", ",".join(indexes), "--index-sanity-check")
    assert (code, err) == (0, "")
    assert out.count("passed sanity check.") + out.count("is empty.") == len(indexes)
