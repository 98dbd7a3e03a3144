"""Group coordinator figures: OffsetCommit throughput and rebalance time for a group of 10 members.

Starts its own broker (kafka-server-start on a free port, temporary log dir) and prints:

* commits/s, sequential synchronous OffsetCommit from one client (one partition per commit);
* commits/s, pipelined (``--depth`` commits in flight on one connection);
* rebalance time for 10 ``GroupMember``s: from the 10th member's join to every member holding an
  assignment of the new generation, and again after one member leaves.

Usage: ``python benchmarks/groups.py [--commits N] [--depth D] [--members M]``.  No assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafkatools.client.admin import create_topic
from kafkatools.client.cluster import KafkaClient
from kafkatools.client.group_member import GroupMember
from kafkatools.client.groups import GroupsAdmin, commit_on
from tests.integration.broker_process import BrokerProcess


async def commits(bootstrap: str, n: int, depth: int) -> tuple[float, float]:
    async with KafkaClient(bootstrap) as client:
        await create_topic(client, "bench-commits", partitions=6, replication_factor=1)
        admin = GroupsAdmin(client)
        conn = await admin.coordinator("bench-commit-group")
        await commit_on(conn, "bench-commit-group", {("bench-commits", 0): 0})
        t0 = time.perf_counter()
        for i in range(n):
            await commit_on(conn, "bench-commit-group", {("bench-commits", i % 6): i})
        sequential = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for start in range(0, n, depth):
            await asyncio.gather(*(commit_on(conn, "bench-commit-group", {("bench-commits", i % 6): i})
                                   for i in range(start, min(start + depth, n))))
        pipelined = n / (time.perf_counter() - t0)
        return sequential, pipelined


async def rebalance(bootstrap: str, count: int) -> tuple[float, float]:
    async with KafkaClient(bootstrap) as client:
        await create_topic(client, "bench-rebalance", partitions=20, replication_factor=1)
        members = [GroupMember(client, "bench-rebalance-group", ["bench-rebalance"], session_timeout_ms=10000,
                               rebalance_timeout_ms=10000, heartbeat_interval_ms=200) for _ in range(count)]
        for m in members[:-1]:
            await m.start()
        await asyncio.gather(*(m.poll_assignment(60) for m in members[:-1]))
        t0 = time.perf_counter()
        await members[-1].start()
        await _all_in_one_generation(members)
        joined = time.perf_counter() - t0
        t0 = time.perf_counter()
        await members[0].close()
        await _all_in_one_generation(members[1:])
        left = time.perf_counter() - t0
        for m in members[1:]:
            await m.close()
        return joined, left


async def _all_in_one_generation(members: list[GroupMember]) -> None:
    """Wait until every member holds an assignment and all agree on the generation."""
    while True:
        await asyncio.gather(*(m.poll_assignment(60) for m in members))
        generations = {m.generation for m in members}
        if len(generations) == 1 and sum(len(m.assignment) for m in members) > 0:
            return
        await asyncio.sleep(0.005)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=3000)
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--members", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = BrokerProcess(Path(tmp), overrides={"group.initial.rebalance.delay.ms": "0"}).start()
        try:
            seq, pipe = asyncio.run(commits(broker.bootstrap, args.commits, args.depth))
            print(f"OffsetCommit sequential:            {seq:10.0f} commits/s ({args.commits} commits)")
            print(f"OffsetCommit pipelined (depth {args.depth:>3}): {pipe:10.0f} commits/s")
            joined, left = asyncio.run(rebalance(broker.bootstrap, args.members))
            print(f"rebalance, {args.members}th member joins:      {joined * 1000:10.1f} ms")
            print(f"rebalance, one of {args.members} leaves:       {left * 1000:10.1f} ms")
        finally:
            broker.kill()


if __name__ == "__main__":
    main()
