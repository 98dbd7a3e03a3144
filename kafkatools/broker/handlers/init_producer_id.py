"""InitProducerId (key 22).

Versions: 0-5.
Behaviour: without a transactional id, allocates a fresh producer id with epoch 0 (idempotent
producers; the Java producer >= 3.0 does this by default).  v3+ with an existing id/epoch bumps
the epoch of that producer (KIP-360) so it can recover from UNKNOWN_PRODUCER_ID and sequence
gaps.  With a transactional id: transactions are not implemented yet, so the answer is
TRANSACTIONAL_ID_AUTHORIZATION_FAILED rather than a half-working coordinator.
Notes: ids are allocated from a counter persisted with the cluster metadata, so they never repeat
across restarts.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 22
MIN_VERSION = 0
MAX_VERSION = 5

MAX_EPOCH = 32767


async def handle(ctx: RequestContext, req: messages.InitProducerIdRequest) -> messages.InitProducerIdResponse:
    R = messages.InitProducerIdResponse
    if req.transactional_id is not None:
        return R(error_code=errors.BY_NAME["TRANSACTIONAL_ID_AUTHORIZATION_FAILED"].code, producer_id=-1,
                 producer_epoch=-1)
    producers = ctx.broker.producer_ids
    if ctx.version >= 3 and req.producer_id >= 0:
        if req.producer_epoch < 0:
            return R(error_code=errors.INVALID_REQUEST.code, producer_id=-1, producer_epoch=-1)
        if req.producer_epoch + 1 < MAX_EPOCH:
            return R(error_code=0, producer_id=req.producer_id, producer_epoch=req.producer_epoch + 1)
    return R(error_code=0, producer_id=producers.allocate(), producer_epoch=0)
