"""Transactional offset commits: logged at once as transactional records of the producer, pending
until the COMMIT/ABORT marker on the group's __consumer_offsets partition, and replayed the same way
after a restart (including a restart between PrepareCommit and the markers).  Replay of hand-built
batches, the coordinator with its in-memory store, and a real BrokerState on a tmp dir (no sockets)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kafkatools import errors
from kafkatools.broker.config import load_config
from kafkatools.broker.groups import records as rec
from kafkatools.broker.groups.coordinator import GroupCoordinator, MemoryStore, partition_for
from kafkatools.broker.groups.store import OFFSETS_TOPIC, load_groups
from kafkatools.broker.state import BrokerState
from kafkatools.broker.txn import host
from kafkatools.broker.txn.metadata import TxnState
from kafkatools.wire.records import build_batch, build_control_batch

E = errors.BY_NAME
GROUP = "etl"
PARTITIONS = 3


def offsets_batch(offset: int, producer_id: int = -1, *, partition: int = 0) -> bytes:
    key = rec.offset_key(GROUP, "src", partition)
    value = rec.offset_value(rec.OffsetValue(offset, -1, "", 1))
    txn = producer_id >= 0
    return build_batch([(key, value)], producer_id=producer_id, producer_epoch=0 if txn else -1,
                       base_sequence=0 if txn else -1, is_transactional=txn)


def marker(producer_id: int, commit: bool) -> bytes:
    return build_control_batch("COMMIT" if commit else "ABORT", producer_id=producer_id, producer_epoch=0,
                               coordinator_epoch=0)


def test_replay_applies_transactional_offsets_only_after_their_commit_marker() -> None:
    groups = load_groups([
        offsets_batch(1),
        offsets_batch(10, 5),                 # committed below
        offsets_batch(20, 6, partition=1),    # aborted below
        marker(5, True),
        marker(6, False),
        offsets_batch(30, 7, partition=2),    # no marker yet: still pending
        marker(8, True),                      # a marker of a producer without offsets here: nothing
    ])
    group = groups[GROUP]
    assert {k: v.offset for k, v in group.offsets.items()} == {("src", 0): 10}
    assert {pid: {k: v.offset for k, v in per.items()} for pid, per in group.pending_txn.items()} == {
        7: {("src", 2): 30}}


def test_replay_keeps_a_group_known_only_by_pending_offsets() -> None:
    groups = load_groups([offsets_batch(4, 9)])
    assert groups[GROUP].offsets == {} and groups[GROUP].pending_txn[9][("src", 0)].offset == 4


def test_coordinator_pending_until_marker_and_member_checks() -> None:
    store = MemoryStore()
    c = GroupCoordinator(store)

    async def run() -> None:
        assert await c.txn_offsets.commit(GROUP, 11, 0, -1, "", [("src", 0, 5, -1, "m")]) == {("src", 0): errors.NONE}
        assert store.writes[-1][0] == "txn_offsets" and store.writes[-1][1][:3] == (GROUP, 11, 0)
        assert c.fetch_offsets(GROUP, [("src", 0)]) == {("src", 0): None}, "pending offsets must stay invisible"
        assert c.txn_offsets.unstable(GROUP, [("src", 0), ("src", 1)]) == {("src", 0)}
        assert c.txn_offsets.complete(11, True) == 1
        found = c.fetch_offsets(GROUP, [("src", 0)])[("src", 0)]
        assert found is not None and (found.offset, found.metadata) == (5, "m")
        assert c.txn_offsets.unstable(GROUP, [("src", 0)]) == set()

        await c.txn_offsets.commit(GROUP, 12, 0, -1, "", [("src", 0, 99, -1, None)])
        assert c.txn_offsets.complete(12, False, lambda gid: gid != GROUP) == 0  # another partition's marker
        assert c.txn_offsets.complete(12, False) == 1
        assert c.fetch_offsets(GROUP, [("src", 0)])[("src", 0)].offset == 5  # type: ignore[union-attr]

        assert (await c.txn_offsets.commit(GROUP, 13, 0, 4, "", [("src", 0, 1, -1, None)]))[("src", 0)] is \
            E["ILLEGAL_GENERATION"]
        assert (await c.txn_offsets.commit(GROUP, 13, 0, 0, "ghost", [("src", 0, 1, -1, None)]))[("src", 0)] is \
            E["UNKNOWN_MEMBER_ID"]
        assert (await c.txn_offsets.commit(GROUP, 13, 0, -1, "", [("src", 0, 1, -1, "x" * 5000)]))[("src", 0)] is \
            E["OFFSET_METADATA_TOO_LARGE"]
        assert (await c.txn_offsets.commit("", 13, 0, -1, "", [("src", 0, 1, -1, None)]))[("src", 0)] is \
            E["INVALID_GROUP_ID"]
        assert c.txn_offsets.pending(GROUP) == {}

    asyncio.run(run())


# -- a real broker state ---------------------------------------------------------------------------

def open_state(tmp_path: Path) -> BrokerState:
    config = load_config({"log.dirs": str(tmp_path / "data"), "broker.id": "1",
                          "offsets.topic.num.partitions": str(PARTITIONS), "listeners": "PLAINTEXT://127.0.0.1:0"})
    state = BrokerState.open(config)
    assert state.transactions is not None
    asyncio.run(host.start(state.transactions))
    return state


def begin(state: BrokerState, txn_id: str, offset: int) -> tuple[int, int]:
    """InitProducerId, AddOffsetsToTxn and TxnOffsetCommit as the handlers run them."""
    txns = state.transactions
    assert txns is not None
    pid, epoch = txns.init_producer_id(txn_id, 60000)
    assert state.ensure_offsets_topic() and state.groups.group_error(GROUP) is None
    txns.add_offsets(txn_id, pid, epoch, GROUP, (OFFSETS_TOPIC, partition_for(GROUP, PARTITIONS)))
    txns.txn_offset_commit(txn_id, GROUP, pid, epoch)
    result = asyncio.run(state.groups.txn_offsets.commit(GROUP, pid, epoch, -1, "", [("src", 0, offset, -1, "")]))
    assert result == {("src", 0): errors.NONE}
    return pid, epoch


def committed(state: BrokerState) -> int | None:
    assert state.groups.group_error(GROUP) is None
    found = state.groups.fetch_offsets(GROUP, [("src", 0)])[("src", 0)]
    return None if found is None else found.offset


def test_committed_and_aborted_transactions_across_restarts(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    state.create_topic("src", [[1]], {})
    pid, epoch = begin(state, "t-commit", 42)
    assert committed(state) is None and state.groups.txn_offsets.unstable(GROUP, [("src", 0)]) == {("src", 0)}
    assert state.transactions is not None
    asyncio.run(state.transactions.end_txn("t-commit", pid, epoch, True))
    assert committed(state) == 42
    pid2, epoch2 = begin(state, "t-abort", 77)
    asyncio.run(state.transactions.end_txn("t-abort", pid2, epoch2, False))
    assert committed(state) == 42 and state.groups.txn_offsets.pending(GROUP) == {}
    state.close()

    again = open_state(tmp_path)
    try:
        assert committed(again) == 42, "the committed transaction's offset must come back from the log"
        assert again.groups.txn_offsets.pending(GROUP) == {}
    finally:
        again.close()


def test_crash_after_prepare_commit_keeps_the_offsets(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    state.create_topic("src", [[1]], {})
    txns = state.transactions
    assert txns is not None
    pid, epoch = begin(state, "t", 13)
    meta = txns.txns["t"]
    meta.state = TxnState.PREPARE_COMMIT
    txns.host.write_state(meta)  # the broker dies here: no markers, no CompleteCommit
    pid_open, epoch_open = begin(state, "t-open", 0)  # ...and this transaction is left Ongoing
    state.close()

    config = load_config({"log.dirs": str(tmp_path / "data"), "broker.id": "1",
                          "offsets.topic.num.partitions": str(PARTITIONS), "listeners": "PLAINTEXT://127.0.0.1:0"})
    again = BrokerState.open(config)
    try:
        assert committed(again) is None
        assert set(again.groups.txn_offsets.pending(GROUP)) == {("src", 0)}, "replay must keep both pending"
        assert again.transactions is not None
        asyncio.run(host.start(again.transactions))  # recovery: commit "t", abort "t-open" (epoch bump)
        assert committed(again) == 13 and again.groups.txn_offsets.pending(GROUP) == {}
        assert again.transactions.txns["t-open"].state is TxnState.COMPLETE_ABORT
        # the fenced producer can no longer log offsets on the offsets partition
        late = asyncio.run(again.groups.txn_offsets.commit(GROUP, pid_open, epoch_open, -1, "",
                                                           [("src", 0, 5, -1, "")]))
        assert late == {("src", 0): errors.INVALID_PRODUCER_EPOCH}
    finally:
        again.close()
    assert pid != pid_open and epoch == 0
