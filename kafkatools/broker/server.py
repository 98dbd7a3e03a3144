"""The broker process: open the log dirs, listen, serve until SIGTERM, shut down cleanly.

``run(config)`` is what ``kafka-server-start`` calls.  Shutdown on SIGTERM or Ctrl-C is orderly:
in ZooKeeper mode first a controlled shutdown (leadership moves to other replicas), then stop
accepting, let in-flight requests finish (briefly), flush and write every checkpoint and the
``.kafka_cleanshutdown`` marker, release the log-dir lock — so the next start skips recovery.
A failure during start-up logs ``Exiting Kafka due to fatal exception during startup.`` and exits
1, as Kafka does.  Log lines follow Kafka's layout (``[2026-01-01 10:00:00,123] INFO ...``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
import weakref
from typing import Any

from kafkatools.broker.connection import BrokerProtocol
from kafkatools.broker.state import BrokerState

log = logging.getLogger("kafkatools.broker")

SHUTDOWN_GRACE_SECONDS = 5.0


class _KafkaFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        t = time.localtime(record.created)
        return time.strftime("%Y-%m-%d %H:%M:%S", t) + f",{int(record.msecs):03d}"


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_KafkaFormatter("[%(asctime)s] %(levelname)s %(message)s (%(name)s)"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kazoo warns on every reconnect attempt; the broker says "lost the connection" / "session expired" once
    logging.getLogger("kazoo.client").setLevel(logging.ERROR)


def run(config: Any) -> int:
    """Run a broker until it is told to stop; returns the process exit status."""
    setup_logging()
    try:
        if config.zookeeper_connect is not None:
            from kafkatools.broker.zk.broker_id import resolve_broker_id

            configured = config.broker_id
            config = resolve_broker_id(config)
            if configured < 0:
                log.info("Using broker.id %d (%s)", config.broker_id,
                         "generated from /brokers/seqid" if configured != config.broker_id and
                         config.broker_id > config.reserved_broker_max_id else "from meta.properties")
        state = BrokerState.open(config)
    except Exception as e:
        log.error("Exiting Kafka due to fatal exception during startup. %s: %s", type(e).__name__, e)
        return 1
    try:
        return asyncio.run(_serve(state))
    except KeyboardInterrupt:
        return 0
    finally:
        state.close()


def _quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Out of file descriptors, one warning a second instead of thousands of tracebacks.

    asyncio reports ``socket.accept() out of system resource`` with a traceback for every pending
    accept (up to the backlog, 1024) and retries a second later, so a broker at its open-file limit
    wrote ~2,500 tracebacks a second.  It keeps retrying either way; we only say so once a second.
    """
    last = [-1.0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - last[0] >= 1.0:
            last[0] = now
            log.warning("Cannot accept new connections (retrying): %s", context.get("exception"))

    loop.set_exception_handler(handler)


async def _serve(state: BrokerState) -> int:
    loop = asyncio.get_running_loop()
    _quiet_accept_errors(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    connections: set[asyncio.Task[None]] = set()
    protocols: weakref.WeakSet[BrokerProtocol] = weakref.WeakSet()

    def accept() -> BrokerProtocol:
        protocol = BrokerProtocol(state, connections)
        protocols.add(protocol)
        return protocol

    host, port = state.listen_address()
    try:
        server = await loop.create_server(accept, host or None, port, reuse_address=True, backlog=1024)
    except OSError as e:
        log.error("Exiting Kafka due to fatal exception during startup. Socket server failed to bind to "
                  "%s:%d: %s.", host, port, e)
        return 1
    bound = server.sockets[0].getsockname()
    state.bound(int(bound[1]))
    housekeeping = asyncio.create_task(state.housekeeping())
    log.info("[KafkaServer id=%d] started (kafkatools, listening on %s:%d, cluster id %s)",
             state.node_id, host or "0.0.0.0", bound[1], state.cluster.cluster_id)
    await stop.wait()
    log.info("[KafkaServer id=%d] shutting down", state.node_id)
    if state.zk is not None:  # move leadership away while we still answer clients (broker/zk/shutdown.py)
        from kafkatools.broker.zk.shutdown import controlled_shutdown

        await controlled_shutdown(state.zk)
    server.close()
    housekeeping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await housekeeping
    for protocol in list(protocols):
        protocol.close_when_idle()
    if connections:
        _, pending = await asyncio.wait(connections, timeout=SHUTDOWN_GRACE_SECONDS)
        for t in pending:
            t.cancel()
    if state.zk is not None:  # end the session now: it also fails ZooKeeper calls still waiting in worker threads,
        with contextlib.suppress(Exception):  # which asyncio.run would otherwise wait for at exit
            await asyncio.wait_for(asyncio.to_thread(state.zk.close), SHUTDOWN_GRACE_SECONDS)
    log.info("[KafkaServer id=%d] shut down completed", state.node_id)
    return 0
