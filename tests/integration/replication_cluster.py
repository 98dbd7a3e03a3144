"""In-process brokers for replication tests: several BrokerStates in one event loop on 127.0.0.1.

Each broker has its own tmp log dir and a listener on a free port; a StaticController plays the
ZooKeeper controller (creates the topic on every broker with the same assignment and pushes roles).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafkatools.broker.cluster import PartitionState
from kafkatools.broker.config import load_config
from kafkatools.broker.connection import BrokerProtocol
from kafkatools.broker.partition import Partition
from kafkatools.broker.replication.static_controller import StaticController
from kafkatools.broker.state import BrokerState
from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages
from kafkatools.wire.records import build_batch


@dataclass
class Node:
    state: BrokerState
    server: asyncio.Server
    housekeeping: asyncio.Task[None]
    connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def partition(self, topic: str, index: int = 0) -> Partition:
        part = self.state.partition(topic, index)
        assert part is not None, f"broker {self.state.node_id} does not host {topic}-{index}"
        return part


class Cluster:
    def __init__(self, root: Path, size: int, overrides: dict[str, str] | None = None) -> None:
        self.root = root
        self.size = size
        self.overrides = overrides or {}
        self.nodes: dict[int, Node] = {}
        self.controller = StaticController()

    async def start(self) -> Cluster:
        for i in range(self.size):
            await self.start_node(i)
        return self

    async def start_node(self, i: int) -> Node:
        props = {"broker.id": str(i), "listeners": "PLAINTEXT://127.0.0.1:0",
                 "log.dirs": str(self.root / f"broker-{i}"), "offsets.topic.replication.factor": "1",
                 "replica.fetch.wait.max.ms": "100", "replica.fetch.backoff.ms": "50",
                 "replica.high.watermark.checkpoint.interval.ms": "200", **self.overrides}
        state = BrokerState.open(load_config(props))
        conns: set[asyncio.Task[None]] = set()
        server = await asyncio.get_running_loop().create_server(
            lambda s=state, c=conns: BrokerProtocol(s, c), "127.0.0.1", 0)  # type: ignore[misc]
        node = Node(state, server, asyncio.create_task(state.housekeeping()), conns)
        state.bound(node.port)
        self.nodes[i] = node
        self.controller.register(state.replicas, "127.0.0.1", node.port)
        return node

    async def stop_node(self, i: int) -> None:
        node = self.nodes.pop(i)
        node.server.close()
        node.housekeeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await node.housekeeping
        for t in list(node.connections):
            t.cancel()
        node.state.close()
        self.controller.managers.pop(i, None)

    def create_topic(self, name: str, replicas: list[int], configs: dict[str, str] | None = None) -> None:
        for node in self.nodes.values():
            node.state.create_topic(name, [replicas], dict(configs or {}))

    def assign(self, topic: str, leader: int, epoch: int, replicas: list[int], isr: list[int],
               to: list[int] | None = None) -> None:
        outcome = self.controller.assign(topic, 0, PartitionState(leader, epoch, replicas, isr), to)
        assert all(e is None for e in outcome.values()), outcome

    async def stop(self) -> None:
        for i in list(self.nodes):
            await self.stop_node(i)


async def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.05)


async def produce(node: Node, topic: str, values: list[bytes], acks: int, timeout_ms: int = 10_000,
                  producer: tuple[int, int, int] | None = None) -> Any:
    """One raw Produce request (one batch) to ``node``; returns the partition response.

    ``producer``: (producer id, epoch, base sequence) for an idempotent batch."""
    pid, epoch, seq = producer or (-1, -1, -1)
    conn = BrokerConnection("127.0.0.1", node.port, request_timeout=timeout_ms / 1000 + 10)
    await conn.connect()
    try:
        P = messages.ProduceRequest
        req = P(acks=acks, timeout_ms=timeout_ms, topic_data=[P.TopicProduceData(
            name=topic, partition_data=[P.PartitionProduceData(index=0, records=build_batch(
                [(None, v) for v in values], producer_id=pid, producer_epoch=epoch, base_sequence=seq))])])
        resp = await conn.request(req)
        return resp.responses[0].partition_responses[0]
    finally:
        await conn.close()


def log_bytes(part: Partition) -> bytes:
    """Every segment's raw bytes, in order (identical on all in-sync replicas)."""
    return b"".join(Path(seg.log_path).read_bytes()[: seg.size] for seg in part.log.segments)


def epochs(part: Partition) -> list[tuple[int, int]]:
    return [(e.epoch, e.start_offset) for e in part.log.leader_epoch_cache.entries]
