"""The transaction coordinator's state machine with a recording host, and its __transaction_state records."""

from __future__ import annotations

import asyncio
import json

import pytest

from kafkatools import errors
from kafkatools.broker.txn.coordinator import TransactionCoordinator, client_error
from kafkatools.broker.txn.metadata import TxnMetadata, TxnState
from kafkatools.storage import transaction_log_records as tlr
from kafkatools.storage.coordinator_records import format_transaction_record

E = errors.BY_NAME


class Host:
    def __init__(self) -> None:
        self.next_pid = 1000
        self.states: list[tuple[str, TxnState, int, int, frozenset[tuple[str, int]]]] = []
        self.markers: list[tuple[str, int, int, int, bool]] = []
        self.log: dict[str, bytes] = {}  # the compacted topic: newest value per key

    def allocate_producer_id(self) -> int:
        self.next_pid += 1
        return self.next_pid

    def write_state(self, meta: TxnMetadata) -> None:
        self.states.append((meta.transactional_id, meta.state, meta.producer_id, meta.producer_epoch,
                            frozenset(meta.partitions)))
        self.log[meta.transactional_id] = tlr.encode_value(meta.to_log_value())

    def write_marker(self, topic: str, partition: int, producer_id: int, epoch: int, commit: bool) -> None:
        self.markers.append((topic, partition, producer_id, epoch, commit))

    def partition_exists(self, topic: str, partition: int) -> bool:
        return topic != "missing"

    def reload(self) -> dict[str, TxnMetadata]:
        return {k: TxnMetadata.from_log_value(k, tlr.decode_value(v)) for k, v in self.log.items()}


def coordinator(host: Host) -> TransactionCoordinator:
    c = TransactionCoordinator(host, max_timeout_ms=900_000)  # type: ignore[arg-type]
    asyncio.run(c.recover({}))
    return c


def code(exc: pytest.ExceptionInfo[errors.KafkaError]) -> str:
    return exc.value.error.name


def test_commit_flow_markers_and_offsets() -> None:
    host = Host()
    c = coordinator(host)
    pid, epoch = c.init_producer_id("t1", 60000)
    assert (pid, epoch) == (1001, 0)
    assert c.add_partitions("t1", pid, epoch, [("a", 0), ("b", 1)]) == {("a", 0): errors.NONE, ("b", 1): errors.NONE}
    c.verify_produce("t1", pid, epoch, "a", 0)
    with pytest.raises(errors.KafkaError) as info:
        c.verify_produce("t1", pid, epoch, "a", 1)
    assert code(info) == "INVALID_TXN_STATE"
    c.add_offsets("t1", pid, epoch, "g", ("__consumer_offsets", 7))  # the group's offsets partition joins
    c.txn_offset_commit("t1", "g", pid, epoch)
    with pytest.raises(errors.KafkaError) as info:
        c.txn_offset_commit("t1", "other", pid, epoch)
    assert code(info) == "INVALID_TXN_STATE"
    asyncio.run(c.end_txn("t1", pid, epoch, True))
    assert sorted(host.markers) == [("__consumer_offsets", 7, pid, 0, True), ("a", 0, pid, 0, True),
                                    ("b", 1, pid, 0, True)]
    assert [s[1] for s in host.states] == [TxnState.EMPTY, TxnState.ONGOING, TxnState.ONGOING,
                                           TxnState.PREPARE_COMMIT, TxnState.COMPLETE_COMMIT]
    asyncio.run(c.end_txn("t1", pid, epoch, True))  # a retry of the completed commit succeeds
    with pytest.raises(errors.KafkaError) as info:
        asyncio.run(c.end_txn("t1", pid, epoch, False))
    assert code(info) == "INVALID_TXN_STATE"


def test_abort_drops_offsets_and_unknown_partitions() -> None:
    host = Host()
    c = coordinator(host)
    pid, epoch = c.init_producer_id("t", 1000)
    res = c.add_partitions("t", pid, epoch, [("a", 0), ("missing", 0)])
    assert res[("missing", 0)] is errors.UNKNOWN_TOPIC_OR_PARTITION and res[("a", 0)] is E["OPERATION_NOT_ATTEMPTED"]
    c.add_partitions("t", pid, epoch, [("a", 0)])
    c.add_offsets("t", pid, epoch, "g", ("__consumer_offsets", 2))
    c.txn_offset_commit("t", "g", pid, epoch)
    asyncio.run(c.end_txn("t", pid, epoch, False))
    assert sorted(host.markers) == [("__consumer_offsets", 2, pid, epoch, False), ("a", 0, pid, epoch, False)]


def test_fencing_timeout_and_epoch_errors() -> None:
    host = Host()
    c = coordinator(host)
    with pytest.raises(errors.KafkaError) as info:
        c.init_producer_id("t", 900_001)
    assert code(info) == "INVALID_TRANSACTION_TIMEOUT"
    pid, e0 = c.init_producer_id("t", 60000)
    c.add_partitions("t", pid, e0, [("a", 0)])
    pid2, e1 = c.init_producer_id("t", 60000)  # a new instance: the open transaction is aborted, epoch bumped
    assert pid2 == pid and e1 > e0
    assert host.markers == [("a", 0, pid, e0 + 1, False)]
    for call in (lambda: c.add_partitions("t", pid, e0, [("a", 0)]), lambda: asyncio.run(c.end_txn("t", pid, e0, True)),
                 lambda: c.add_offsets("t", pid, e0, "g")):
        with pytest.raises(errors.KafkaError) as info:
            call()
        assert code(info) == "PRODUCER_FENCED"
        assert client_error(info.value.error, True) is errors.INVALID_PRODUCER_EPOCH
    with pytest.raises(errors.KafkaError) as info:
        c.add_partitions("t", pid + 1, e1, [("a", 0)])
    assert code(info) == "INVALID_PRODUCER_ID_MAPPING"
    with pytest.raises(errors.KafkaError) as info:
        c.verify_produce("t", pid, e0, "a", 0)
    assert info.value.error is errors.INVALID_PRODUCER_EPOCH
    # KIP-360: a fenced instance may not re-initialise with its old epoch; the current one may (retry-safe)
    with pytest.raises(errors.KafkaError) as info:
        c.init_producer_id("t", 60000, pid, e0)
    assert code(info) == "PRODUCER_FENCED"
    assert c.init_producer_id("t", 60000, pid, e1) == (pid, e1 + 1)
    assert c.init_producer_id("t", 60000, pid, e1) == (pid, e1 + 1)


def test_expired_transactions_are_aborted_with_a_bump() -> None:
    host = Host()
    c = coordinator(host)
    pid, epoch = c.init_producer_id("t", 100)
    c.add_partitions("t", pid, epoch, [("a", 0)])
    start = c.txns["t"].start_ms
    assert c.abort_expired(start + 50) == []
    assert c.abort_expired(start + 101) == ["t"]
    assert c.txns["t"].state is TxnState.COMPLETE_ABORT and c.txns["t"].producer_epoch == epoch + 1
    assert host.markers == [("a", 0, pid, epoch + 1, False)]


def test_recovery_completes_prepare_and_aborts_ongoing() -> None:
    host = Host()
    c = coordinator(host)
    p1, e1 = c.init_producer_id("open", 60000)
    c.add_partitions("open", p1, e1, [("a", 0)])
    p2, e2 = c.init_producer_id("preparing", 60000)
    c.add_partitions("preparing", p2, e2, [("b", 0)])
    meta = c.txns["preparing"]
    meta.state = TxnState.PREPARE_COMMIT
    host.write_state(meta)  # as if the broker died between PrepareCommit and the markers
    host.markers.clear()
    loaded = host.reload()
    assert loaded["open"].state is TxnState.ONGOING and loaded["open"].partitions == {("a", 0)}
    c2 = TransactionCoordinator(host)  # type: ignore[arg-type]
    with pytest.raises(errors.KafkaError) as info:
        c2.init_producer_id("open", 60000)
    assert code(info) == "COORDINATOR_LOAD_IN_PROGRESS"
    asyncio.run(c2.recover(loaded))
    assert sorted(host.markers) == [("a", 0, p1, e1 + 1, False), ("b", 0, p2, e2, True)]
    assert c2.txns["open"].state is TxnState.COMPLETE_ABORT
    assert c2.txns["preparing"].state is TxnState.COMPLETE_COMMIT


def test_transaction_log_record_round_trip_and_dump_decoder() -> None:
    value = tlr.TransactionLogValue(42, 3, 60000, int(TxnState.ONGOING), {"b": [1, 0], "a": [2]}, 1700, 1600)
    raw = tlr.encode_value(value)
    back = tlr.decode_value(raw)
    assert (back.producer_id, back.producer_epoch, back.timeout_ms, back.status) == (42, 3, 60000, 1)
    assert back.partitions == {"a": [2], "b": [0, 1]} and (back.last_update_ms, back.start_ms) == (1700, 1600)
    key = tlr.encode_key("my-txn")
    assert tlr.decode_key(key) == "my-txn"
    key_text, payload = format_transaction_record(key, raw)  # the dump-log decoder (Kafka's schema) agrees
    assert json.loads(key_text or "")["data"] == {"transactionalId": "my-txn"}
    data = json.loads(payload or "")["data"]
    assert data["producerId"] == 42 and data["transactionStatus"] == 1
    assert data["transactionPartitions"] == [{"topic": "a", "partitionIds": [2]},
                                             {"topic": "b", "partitionIds": [0, 1]}]
    with pytest.raises(errors.CorruptRecordError):
        tlr.decode_value(raw[:-3])
