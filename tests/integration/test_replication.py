"""Replication between in-process brokers: acks=all, catch-up, failover truncation, ISR shrink, min ISR."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confluent_kafka import Producer

from kafkatools import errors
from kafkatools.broker.producer_state import ProducerStates, iter_log_headers
from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from kafkatools.storage.producer_snapshot import list_snapshots
from tests.integration.replication_cluster import Cluster, epochs, eventually, log_bytes, produce

pytestmark = pytest.mark.timeout(120)


def run(coro_fn):  # type: ignore[no-untyped-def]
    asyncio.run(coro_fn())


def test_acks_all_through_confluent_kafka_and_identical_replicas(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 3).start()
        try:
            cluster.create_topic("orders", [0, 1, 2], {"min.insync.replicas": "2"})
            cluster.assign("orders", leader=0, epoch=1, replicas=[0, 1, 2], isr=[0, 1, 2])
            leader = cluster.nodes[0]
            results: list[object] = []

            def send() -> None:
                p = Producer({"bootstrap.servers": leader.bootstrap, "acks": "all", "linger.ms": 5,
                              "enable.idempotence": False})
                for i in range(300):
                    p.produce("orders", b"m%03d" % i, partition=0, on_delivery=lambda e, m: results.append(e))
                assert p.flush(30) == 0, "messages still in flight after 30 s"

            await asyncio.to_thread(send)
            assert len(results) == 300 and all(e is None for e in results), results[:3]
            parts = [n.partition("orders") for n in cluster.nodes.values()]
            await eventually(lambda: all(p.log_end_offset == 300 and p.high_watermark == 300 for p in parts),
                             "every replica at log end and HW 300")
            assert log_bytes(parts[1]) == log_bytes(parts[0]) == log_bytes(parts[2])
            assert epochs(parts[0]) == epochs(parts[1]) == epochs(parts[2]) == [(1, 0)]
            assert parts[0].state.isr == [0, 1, 2]
            # the followers refuse clients
            refused = await produce(cluster.nodes[1], "orders", [b"x"], acks=1)
            assert refused.error_code == errors.NOT_LEADER_OR_FOLLOWER.code
        finally:
            await cluster.stop()
    run(go)


def test_failover_truncates_the_old_leaders_uncommitted_tail(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 3).start()
        try:
            cluster.create_topic("t", [0, 1, 2])
            cluster.assign("t", leader=0, epoch=1, replicas=[0, 1, 2], isr=[0, 1, 2])
            ok = await produce(cluster.nodes[0], "t", [b"a%d" % i for i in range(10)], acks=-1)
            assert ok.error_code == 0 and ok.base_offset == 0
            # brokers 1 and 2 lose the leader: broker 0 goes on alone and appends an uncommitted tail
            cluster.controller.offline.add(0)
            for b in (1, 2):
                cluster.nodes[b].state.stop_replica("t", 0, delete=False)
            tail = await produce(cluster.nodes[0], "t", [b"lost%d" % i for i in range(5)], acks=1)
            assert tail.error_code == 0 and tail.base_offset == 10
            old = cluster.nodes[0].partition("t")
            assert old.log_end_offset == 15 and old.high_watermark == 10
            # the controller elects broker 1 in epoch 2; it takes new writes from offset 10
            cluster.assign("t", leader=1, epoch=2, replicas=[0, 1, 2], isr=[1, 2])
            new = await produce(cluster.nodes[1], "t", [b"b%d" % i for i in range(3)], acks=-1)
            assert new.error_code == 0 and new.base_offset == 10
            # broker 0 comes back as a follower: OffsetForLeaderEpoch(1) -> 10, so offsets 10-14 go
            cluster.controller.offline.discard(0)
            cluster.assign("t", leader=1, epoch=2, replicas=[0, 1, 2], isr=[1, 2], to=[0])
            parts = [n.partition("t") for n in cluster.nodes.values()]
            await eventually(lambda: all(p.log_end_offset == 13 for p in parts) and parts[1].state.isr == [1, 2, 0],
                             "old leader truncated, caught up and back in the ISR")
            await eventually(lambda: all(p.high_watermark == 13 for p in parts), "HW 13 everywhere")
            assert log_bytes(parts[0]) == log_bytes(parts[1]) == log_bytes(parts[2])
            assert epochs(parts[0]) == epochs(parts[1]) == [(1, 0), (2, 10)]
            assert b"lost" not in log_bytes(parts[0])
            assert not parts[0].is_leader and parts[1].is_leader
        finally:
            await cluster.stop()
    run(go)


def test_isr_shrinks_then_not_enough_replicas_then_rejoin(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 3, {"replica.lag.time.max.ms": "1000"}).start()
        try:
            cluster.create_topic("s", [0, 1, 2], {"min.insync.replicas": "2"})
            cluster.assign("s", leader=0, epoch=1, replicas=[0, 1, 2], isr=[0, 1, 2])
            leader = cluster.nodes[0].partition("s")
            assert (await produce(cluster.nodes[0], "s", [b"x"], acks=-1)).error_code == 0
            # broker 2 stops fetching: after replica.lag.time.max.ms behind, it leaves the ISR
            cluster.controller.offline.add(2)
            cluster.nodes[2].state.stop_replica("s", 0, delete=False)
            assert (await produce(cluster.nodes[0], "s", [b"y"], acks=1)).error_code == 0
            await eventually(lambda: leader.state.isr == [0, 1], "ISR [0, 1] on the leader")
            assert cluster.controller.states[("s", 0)].isr == [0, 1]
            assert cluster.nodes[1].partition("s").state.isr == [0, 1]
            assert (await produce(cluster.nodes[0], "s", [b"z"], acks=-1)).error_code == 0
            # broker 1 stops too: ISR [0] < min.insync.replicas=2
            cluster.controller.offline.add(1)
            cluster.nodes[1].state.stop_replica("s", 0, delete=False)
            assert (await produce(cluster.nodes[0], "s", [b"w"], acks=1)).error_code == 0
            await eventually(lambda: leader.state.isr == [0], "ISR [0] on the leader")
            refused = await produce(cluster.nodes[0], "s", [b"nope"], acks=-1)
            assert refused.error_code == errors.NOT_ENOUGH_REPLICAS.code
            before = leader.log_end_offset
            assert (await produce(cluster.nodes[0], "s", [b"one"], acks=1)).error_code == 0
            assert leader.log_end_offset == before + 1
            # both come back: they catch up and rejoin, acks=all works again
            cluster.controller.offline.clear()
            cluster.assign("s", leader=0, epoch=1, replicas=[0, 1, 2], isr=[0], to=[1, 2])
            await eventually(lambda: sorted(leader.state.isr) == [0, 1, 2], "ISR back to [0, 1, 2]")
            ok = await produce(cluster.nodes[0], "s", [b"back"], acks=-1)
            assert ok.error_code == 0
            parts = [n.partition("s") for n in cluster.nodes.values()]
            await eventually(lambda: all(p.log_end_offset == leader.log_end_offset for p in parts), "caught up")
            assert log_bytes(parts[0]) == log_bytes(parts[1]) == log_bytes(parts[2])
        finally:
            await cluster.stop()
    run(go)


def test_acks_all_times_out_when_the_isr_follower_is_gone(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2).start()
        try:
            cluster.create_topic("q", [0, 1])
            cluster.assign("q", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            assert (await produce(cluster.nodes[0], "q", [b"x"], acks=-1)).error_code == 0
            cluster.controller.offline.add(1)
            cluster.nodes[1].state.stop_replica("q", 0, delete=False)
            late = await produce(cluster.nodes[0], "q", [b"y"], acks=-1, timeout_ms=300)
            assert late.error_code == errors.REQUEST_TIMED_OUT.code and late.base_offset == 1
        finally:
            await cluster.stop()
    run(go)


def test_restarted_follower_starts_from_checkpointed_hw_and_catches_up(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 3).start()
        try:
            cluster.create_topic("h", [0, 1, 2])
            cluster.assign("h", leader=0, epoch=1, replicas=[0, 1, 2], isr=[0, 1, 2])
            assert (await produce(cluster.nodes[0], "h", [b"v%d" % i for i in range(40)], acks=-1)).error_code == 0
            await eventually(lambda: cluster.nodes[2].partition("h").high_watermark == 40, "follower HW 40")
            cluster.controller.offline.add(2)
            await cluster.stop_node(2)
            checkpoint = (tmp_path / "broker-2" / "replication-offset-checkpoint").read_text().split("\n")
            assert "h 0 40" in checkpoint
            assert (await produce(cluster.nodes[0], "h", [b"w%d" % i for i in range(7)], acks=1)).error_code == 0
            node = await cluster.start_node(2)
            part = node.partition("h")
            assert part.high_watermark == 40 and part.log_end_offset == 40
            assert not part.is_leader  # no role until the controller says
            cluster.controller.offline.discard(2)
            cluster.assign("h", leader=0, epoch=1, replicas=[0, 1, 2], isr=cluster.controller.states[("h", 0)].isr,
                           to=[2])
            leader = cluster.nodes[0].partition("h")
            await eventually(lambda: part.log_end_offset == 47 and part.high_watermark == 47, "restarted replica at 47")
            assert log_bytes(part) == log_bytes(leader)
        finally:
            await cluster.stop()
    run(go)


def test_follower_behind_the_leaders_log_start_restarts_there(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2, {"replica.lag.time.max.ms": "500"}).start()
        try:
            cluster.create_topic("d", [0, 1])
            cluster.assign("d", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            assert (await produce(cluster.nodes[0], "d", [b"a", b"b"], acks=-1)).error_code == 0
            cluster.controller.offline.add(1)
            cluster.nodes[1].state.stop_replica("d", 0, delete=False)
            assert (await produce(cluster.nodes[0], "d", [b"c%d" % i for i in range(6)], acks=1)).error_code == 0
            leader = cluster.nodes[0].partition("d")
            await eventually(lambda: leader.state.isr == [0], "ISR [0]")
            assert leader.high_watermark == 8
            assert leader.delete_records_before(6) == 6  # the follower (log end 2) is now below the log start
            cluster.controller.offline.discard(1)
            cluster.assign("d", leader=0, epoch=1, replicas=[0, 1], isr=[0], to=[1])
            follower = cluster.nodes[1].partition("d")
            await eventually(lambda: follower.log_start_offset == 6 and follower.log_end_offset == 8,
                             "follower restarted at the leader's log start and caught up")
            await eventually(lambda: leader.state.isr == [0, 1], "ISR [0, 1]")
        finally:
            await cluster.stop()
    run(go)


def test_follower_fetch_with_diverged_epoch_gets_diverging_epoch(tmp_path: Path) -> None:
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2).start()
        try:
            cluster.create_topic("v", [0, 1])
            cluster.assign("v", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            assert (await produce(cluster.nodes[0], "v", [b"a"] * 4, acks=-1)).error_code == 0
            cluster.assign("v", leader=0, epoch=3, replicas=[0, 1], isr=[0, 1])
            assert (await produce(cluster.nodes[0], "v", [b"b"] * 2, acks=-1)).error_code == 0
            conn = BrokerConnection("127.0.0.1", cluster.nodes[0].port)
            await conn.connect()
            try:
                F = messages.FetchRequest
                req = F(replica_id=1, max_wait_ms=0, min_bytes=0, topics=[F.FetchTopic(topic="v", partitions=[
                    F.FetchPartition(partition=0, current_leader_epoch=3, fetch_offset=5, last_fetched_epoch=2,
                                     partition_max_bytes=1 << 20)])])
                resp = await conn.request(req, version=12)
                p = resp.responses[0].partitions[0]
                assert p.error_code == 0 and len(p.records or b"") == 0
                assert (p.diverging_epoch.epoch, p.diverging_epoch.end_offset) == (1, 4)
                # not a replica of the partition: refused
                req.replica_id = 7
                req.topics[0].partitions[0].last_fetched_epoch = 3
                resp = await conn.request(req, version=12)
                assert resp.responses[0].partitions[0].error_code == errors.NOT_LEADER_OR_FOLLOWER.code
            finally:
                await conn.close()
        finally:
            await cluster.stop()
    run(go)


def test_retried_idempotent_batch_is_acknowledged_only_once_committed(tmp_path: Path) -> None:
    """A retry of a batch the leader holds but the ISR does not yet answers like the original would:
    acks=all waits for the high watermark (Kafka's DelayedProduce on the duplicate's offsets)."""
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2).start()
        try:
            cluster.create_topic("i", [0, 1])
            cluster.assign("i", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            first = await produce(cluster.nodes[0], "i", [b"a", b"b"], acks=-1, producer=(7, 0, 0))
            assert (first.error_code, first.base_offset) == (0, 0)
            cluster.controller.offline.add(1)
            cluster.nodes[1].state.stop_replica("i", 0, delete=False)
            batch = [b"c", b"d", b"e"]
            late = await produce(cluster.nodes[0], "i", batch, acks=-1, timeout_ms=300, producer=(7, 0, 2))
            assert (late.error_code, late.base_offset) == (errors.REQUEST_TIMED_OUT.code, 2)
            retry = await produce(cluster.nodes[0], "i", batch, acks=-1, timeout_ms=300, producer=(7, 0, 2))
            assert (retry.error_code, retry.base_offset) == (errors.REQUEST_TIMED_OUT.code, 2)
            leader = cluster.nodes[0].partition("i")
            assert leader.log_end_offset == 5 and leader.high_watermark == 2  # appended once, not committed
            cluster.controller.offline.discard(1)
            cluster.assign("i", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1], to=[1])
            done = await produce(cluster.nodes[0], "i", batch, acks=-1, producer=(7, 0, 2))
            assert (done.error_code, done.base_offset) == (0, 2)
            assert leader.log_end_offset == 5 and leader.high_watermark == 5
        finally:
            await cluster.stop()
    run(go)


def test_truncated_follower_promoted_later_forgets_producer_snapshots_of_its_divergent_tail(tmp_path: Path) -> None:
    """Broker 0 leads, appends an unreplicated tail (rolling a segment per batch, so producer snapshots
    of that tail are written), loses leadership, truncates and re-fetches broker 1's history, and is
    elected again: its producer state must describe broker 1's history, not its own dropped tail."""
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2).start()
        try:
            cluster.create_topic("p", [0, 1], {"segment.bytes": "100"})
            cluster.assign("p", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            assert (await produce(cluster.nodes[0], "p", [b"a0"], acks=-1, producer=(7, 0, 0))).error_code == 0
            cluster.controller.offline.add(1)
            cluster.nodes[1].state.stop_replica("p", 0, delete=False)
            for seq in (1, 2, 3):  # the divergent tail, one segment per batch
                r = await produce(cluster.nodes[0], "p", [b"lost%d" % seq], acks=1, producer=(7, 0, seq))
                assert (r.error_code, r.base_offset) == (0, seq)
            # broker 0 is gone; broker 1 leads epoch 2 and takes another producer's batches
            cluster.controller.offline.discard(1)
            cluster.controller.offline.add(0)
            cluster.nodes[0].state.stop_replica("p", 0, delete=False)
            cluster.assign("p", leader=1, epoch=2, replicas=[0, 1], isr=[1])
            for seq in range(4):
                r = await produce(cluster.nodes[1], "p", [b"b%d" % seq], acks=1, producer=(8, 0, seq))
                assert (r.error_code, r.base_offset) == (0, 1 + seq)
            # broker 0 returns as a follower: truncates to 1 and fetches offsets 1-4 from broker 1
            cluster.controller.offline.discard(0)
            cluster.assign("p", leader=1, epoch=2, replicas=[0, 1], isr=[1], to=[0])
            old = cluster.nodes[0].partition("p")
            await eventually(lambda: cluster.nodes[1].partition("p").state.isr == [1, 0], "broker 0 back in the ISR")
            assert log_bytes(old) == log_bytes(cluster.nodes[1].partition("p"))
            # broker 0 leads again (epoch 3): producer 7 resumes at sequence 1, producer 8 at 4
            cluster.assign("p", leader=0, epoch=3, replicas=[0, 1], isr=[0, 1])
            resumed = await produce(cluster.nodes[0], "p", [b"a1"], acks=-1, producer=(7, 0, 1))
            assert (resumed.error_code, resumed.base_offset) == (0, 5)
            more = await produce(cluster.nodes[0], "p", [b"b4"], acks=-1, producer=(8, 0, 4))
            assert (more.error_code, more.base_offset) == (0, 6)
        finally:
            await cluster.stop()
    run(go)


def test_followers_track_producers_and_write_roll_snapshots(tmp_path: Path) -> None:
    """A follower keeps the producer table of what it replicates (and snapshots it when its log rolls),
    so a promotion replays at most the active segment; the table equals a replay of the whole log."""
    async def go() -> None:
        cluster = await Cluster(tmp_path, 2).start()
        try:
            cluster.create_topic("f", [0, 1], {"segment.bytes": "400"})
            cluster.assign("f", leader=0, epoch=1, replicas=[0, 1], isr=[0, 1])
            seqs = {7: 0, 8: 0}
            for i in range(24):
                pid = 7 if i % 3 else 8
                r = await produce(cluster.nodes[0], "f", [b"v%02d" % i] * (1 + i % 2), acks=-1,
                                  producer=(pid, 0, seqs[pid]))
                assert r.error_code == 0
                seqs[pid] += 1 + i % 2
            follower = cluster.nodes[1].partition("f")
            leader = cluster.nodes[0].partition("f")
            await eventually(lambda: follower.log_end_offset == leader.log_end_offset, "follower caught up")
            assert len(follower.log.segments) > 2
            assert list_snapshots(follower.log.directory), "the follower wrote no snapshot when its log rolled"
            expected = ProducerStates()
            for h in iter_log_headers(follower.log, 0):
                expected.replay(h)
            assert follower.producers.snapshot_entries() == expected.snapshot_entries()
            # promoted: producer 7 and 8 continue where they were
            cluster.assign("f", leader=1, epoch=2, replicas=[0, 1], isr=[0, 1])
            assert follower.producers.snapshot_entries() == expected.snapshot_entries()
            for pid in (7, 8):
                r = await produce(cluster.nodes[1], "f", [b"next"], acks=-1, producer=(pid, 0, seqs[pid]))
                assert r.error_code == 0, (pid, r.error_code)
        finally:
            await cluster.stop()
    run(go)
