"""Bootstrap, the metadata cache, and one connection per broker.

``KafkaClient`` is the object the tools hold: it connects to the first reachable bootstrap
address, learns the brokers and partition leaders from Metadata, and hands out the connection to
the node a request must go to (the leader of a partition, the controller, any broker).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kafkatools import errors
from kafkatools.client.connection import BrokerConnection, ConnectionClosedError
from kafkatools.codec import messages


@dataclass(frozen=True, slots=True)
class Node:
    node_id: int
    host: str
    port: int
    rack: str | None = None


def parse_bootstrap(servers: str) -> list[tuple[str, int]]:
    """``host:port[,host:port...]`` -> addresses; raises ValueError with a one-line reason."""
    out: list[tuple[str, int]] = []
    for item in servers.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"Please provide valid host:port like host1:9091,host2:9092 (got '{item}')")
        out.append((host, int(port)))
    if not out:
        raise ValueError("No bootstrap servers given")
    return out


class KafkaClient:
    def __init__(
        self, bootstrap: str | list[tuple[str, int]], client_id: str = "kafkatools", request_timeout: float = 30.0
    ) -> None:
        self.bootstrap = parse_bootstrap(bootstrap) if isinstance(bootstrap, str) else bootstrap
        self.client_id = client_id
        self.request_timeout = request_timeout
        self.nodes: dict[int, Node] = {}
        self.cluster_id: str | None = None
        self.controller_id: int = -1
        self.topics: dict[str, messages.MetadataResponse.MetadataResponseTopic] = {}
        self._conns: dict[int, BrokerConnection] = {}
        self._bootstrap_conn: BrokerConnection | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> KafkaClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _new_conn(self, host: str, port: int) -> BrokerConnection:
        return BrokerConnection(host, port, client_id=self.client_id, request_timeout=self.request_timeout)

    async def connect(self) -> None:
        last: Exception | None = None
        for host, port in self.bootstrap:
            conn = self._new_conn(host, port)
            try:
                await conn.connect()
            except (ConnectionClosedError, errors.KafkaError) as e:
                last = e
                continue
            self._bootstrap_conn = conn
            await self.refresh_metadata(None)
            return
        where = ",".join(f"{h}:{p}" for h, p in self.bootstrap)
        raise ConnectionClosedError(f"Could not connect to any bootstrap server ({where}): {last}")

    async def any_connection(self) -> BrokerConnection:
        if self._bootstrap_conn is None:
            await self.connect()
        assert self._bootstrap_conn is not None
        return self._bootstrap_conn

    async def refresh_metadata(
        self, topics: list[str] | None, allow_auto_create: bool = False
    ) -> messages.MetadataResponse:
        conn = await self.any_connection()
        req = messages.MetadataRequest(
            topics=None if topics is None else [messages.MetadataRequest.MetadataRequestTopic(name=t) for t in topics],
            allow_auto_topic_creation=allow_auto_create,
        )
        resp: messages.MetadataResponse = await conn.request(req)
        self.nodes = {b.node_id: Node(b.node_id, b.host, b.port, b.rack) for b in resp.brokers}
        self.cluster_id = resp.cluster_id
        self.controller_id = resp.controller_id
        if topics is None:
            self.topics = {}
        for t in resp.topics:
            if t.name is not None and t.error_code == 0:
                self.topics[t.name] = t
        return resp

    async def connection(self, node_id: int) -> BrokerConnection:
        async with self._lock:
            conn = self._conns.get(node_id)
            if conn is not None and conn._closed_error is None:
                return conn
            node = self.nodes.get(node_id)
            if node is None:
                raise errors.KafkaError(errors.BY_NAME["BROKER_NOT_AVAILABLE"], f"Unknown broker id {node_id}")
            boot = self._bootstrap_conn
            if boot is not None and (boot.host, boot.port) == (node.host, node.port) and boot._closed_error is None:
                conn = boot
            else:
                conn = self._new_conn(node.host, node.port)
                await conn.connect()
            self._conns[node_id] = conn
            return conn

    async def controller(self) -> BrokerConnection:
        if self.controller_id < 0:
            return await self.any_connection()
        return await self.connection(self.controller_id)

    def leader_of(self, topic: str, partition: int) -> int:
        t = self.topics.get(topic)
        if t is None:
            raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Unknown topic {topic}")
        for p in t.partitions:
            if p.partition_index == partition:
                return p.leader_id
        raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Unknown partition {topic}-{partition}")

    async def leader_connection(self, topic: str, partition: int) -> BrokerConnection:
        leader = self.leader_of(topic, partition)
        if leader < 0:
            raise errors.KafkaError(errors.LEADER_NOT_AVAILABLE, f"No leader for {topic}-{partition}")
        return await self.connection(leader)

    async def close(self) -> None:
        conns = {id(c): c for c in self._conns.values()}
        if self._bootstrap_conn is not None:
            conns[id(self._bootstrap_conn)] = self._bootstrap_conn
        for c in conns.values():
            await c.close()
        self._conns.clear()
        self._bootstrap_conn = None
