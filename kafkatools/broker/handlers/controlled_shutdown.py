"""ControlledShutdown (key 7).

Versions: 0-3 (v0 comes with request header v0, no client id; v2+ carry the broker epoch; v3 is flexible).
Behaviour: only the active controller of a ZooKeeper-mode cluster answers it: the broker is marked
as shutting down, a controller pass (in a worker thread: ZooKeeper calls never run on the event
loop) moves its leaderships to other ISR members and drops it from every ISR, and the response
lists the partitions it still leads (no other eligible replica).  Single-replica partitions stay
and are not listed.  Errors: NOT_CONTROLLER on any other broker (and in standalone mode),
BROKER_NOT_AVAILABLE when the broker is not registered, STALE_BROKER_EPOCH when its broker epoch
is not the registration's czxid.
"""

from __future__ import annotations

import asyncio

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 7
MIN_VERSION = 0
MAX_VERSION = 3


async def handle(ctx: RequestContext, req: messages.ControlledShutdownRequest
                 ) -> messages.ControlledShutdownResponse:
    zk = ctx.broker.zk
    if zk is None or zk.controller.claim is None:
        return messages.ControlledShutdownResponse(error_code=errors.NOT_CONTROLLER.code)
    epoch = req.broker_epoch if ctx.version >= 2 else -1
    error, remaining = await asyncio.to_thread(zk.controller.controlled_shutdown, req.broker_id, epoch)
    zk.wake()  # our own cache picks the new states up at once
    return messages.ControlledShutdownResponse(
        error_code=error.code,
        remaining_partitions=[messages.ControlledShutdownResponse.RemainingPartition(topic_name=t, partition_index=p)
                              for t, p in remaining],
    )
