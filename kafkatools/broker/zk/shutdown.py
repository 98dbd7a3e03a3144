"""Controlled shutdown of a ZooKeeper-mode broker (``controlled.shutdown.enable``, on SIGTERM).

Before the broker closes, it asks the controller to move away the leadership of every partition it
leads and its ISR seats, so clients switch to another replica while this broker still answers,
instead of timing out on a dead one.  Kafka's reference design, which we follow: a
ControlledShutdown request (key 7) to the controller, which answers with the partitions it could
not move; up to ``controlled.shutdown.max.retries`` attempts, ``controlled.shutdown.retry.backoff.ms``
apart; when all fail we shut down anyway ("unclean" in Kafka's words).  If this broker *is* the
controller it does the same in-process, then resigns so another broker takes over at once.

The whole procedure is bounded by ``BUDGET_S`` (ZooKeeper may be unreachable, the controller may be
dying), so a SIGTERM always ends the process well under 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from kafkatools import errors
from kafkatools.broker.zk.elections import Key
from kafkatools.client.connection import BrokerConnection
from kafkatools.codec import messages

if TYPE_CHECKING:
    from kafkatools.broker.zk.sync import ZkSync

log = logging.getLogger("kafkatools.broker")

BUDGET_S = 15.0  # the whole controlled shutdown, retries included
REQUEST_TIMEOUT_S = 6.0  # one attempt (Kafka's controller.socket.timeout.ms is 30 s; we must stay well under)


async def controlled_shutdown(sync: ZkSync) -> bool:
    """Move leadership away before closing; True when the controller confirmed nothing is left here."""
    config, node = sync.state.config, sync.state.node_id
    if not config.controlled_shutdown_enable or config.controlled_shutdown_max_retries < 1:
        return False  # (Kafka makes max.retries attempts: 0 means none)
    if not sync.connected:  # the controller acts through ZooKeeper: nothing can move now
        log.warning("[KafkaServer id=%d] ZooKeeper is unreachable: skipping controlled shutdown", node)
        return False
    start = time.monotonic()
    deadline = start + BUDGET_S
    sync.begin_shutdown()  # never claim /controller again; stop following; stop what moves away
    log.info("[KafkaServer id=%d] Starting controlled shutdown", node)
    attempts = config.controlled_shutdown_max_retries
    backoff = config.controlled_shutdown_retry_backoff_ms / 1000
    done = False
    for attempt in range(1, attempts + 1):
        try:
            error, remaining = await asyncio.wait_for(_attempt(sync), max(0.1, deadline - time.monotonic()))
        except Exception as e:  # any failure (a timeout too) is one failed attempt
            error, remaining = errors.UNKNOWN_SERVER_ERROR, []
            log.warning("[KafkaServer id=%d] Controlled shutdown attempt %d failed: %s", node, attempt,
                        f"{type(e).__name__}: {e}".rstrip(": "))
        if error is errors.NONE and not remaining:
            done = True
            break
        if error is errors.NONE:
            log.info("[KafkaServer id=%d] Remaining partitions to move: %s", node,
                     ", ".join(f"{t}-{p}" for t, p in remaining))
        elif error is not errors.UNKNOWN_SERVER_ERROR:
            log.info("[KafkaServer id=%d] Controlled shutdown attempt %d: error %s", node, attempt, error.name)
        if attempt == attempts or time.monotonic() + backoff >= deadline:
            break
        log.warning("[KafkaServer id=%d] Retrying controlled shutdown after the previous attempt failed...", node)
        await asyncio.sleep(backoff)
    if done:
        with contextlib.suppress(Exception):  # apply the new states here (stop what moved away), bounded
            await asyncio.wait_for(sync.sync_once(), max(0.1, min(5.0, deadline - time.monotonic())))
        log.info("[KafkaServer id=%d] Controlled shutdown request returned successfully after %.0f ms", node,
                 (time.monotonic() - start) * 1000)
    else:
        log.warning("[KafkaServer id=%d] Proceeding to do an unclean shutdown as all the controlled shutdown "
                    "attempts failed", node)
    if sync.controller.claim is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.to_thread(sync.controller.resign), max(0.1, deadline - time.monotonic()))
    return done


async def _attempt(sync: ZkSync) -> tuple[errors.ErrorCode, list[Key]]:
    node = sync.state.node_id
    controller_id = sync.cluster.controller_id  # the cache, kept current by the /controller watch
    if controller_id < 0:
        found = await asyncio.to_thread(sync.registry.controller_id)
        controller_id = -1 if found is None else found
    if controller_id < 0:
        raise ConnectionError("no controller is elected")
    if controller_id == node:
        if sync.controller.claim is None:
            raise ConnectionError("the /controller znode names this broker but this session holds no claim")
        return await asyncio.to_thread(sync.controller.controlled_shutdown, node, sync.broker_epoch)
    reg = sync.cluster.brokers.get(controller_id)
    endpoint = None if reg is None else (reg.plaintext or (reg.endpoints[0] if reg.endpoints else None))
    if endpoint is None:
        raise ConnectionError(f"no address known for controller {controller_id}")
    conn = BrokerConnection(endpoint.host, endpoint.port, client_id=f"broker-{node}-controlled-shutdown",
                            request_timeout=REQUEST_TIMEOUT_S)
    await conn.connect(timeout=REQUEST_TIMEOUT_S)
    try:
        resp = await conn.request(messages.ControlledShutdownRequest(broker_id=node, broker_epoch=sync.broker_epoch))
    finally:
        await conn.close()
    remaining = [(r.topic_name, r.partition_index) for r in resp.remaining_partitions]
    return errors.BY_CODE.get(resp.error_code, errors.UNKNOWN_SERVER_ERROR), remaining
