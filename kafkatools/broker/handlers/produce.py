"""Produce (key 0).

Versions: 0-11 (v0-2 carry legacy message sets, which are up-converted to RecordBatch v2 before
they are stored; v3+ must carry v2 batches).
Behaviour: per partition — unknown topic/partition -> UNKNOWN_TOPIC_OR_PARTITION; each batch is
validated at the header level (size, magic, CRC-32C, counts; no per-record decoding) and then
appended as opaque bytes with only the base offset and leader epoch patched (Partition.append).
acks must be -1, 0 or 1 (else INVALID_REQUIRED_ACKS); acks=0 gets no response at all; acks=-1
needs the ISR to hold ``min.insync.replicas`` (NOT_ENOUGH_REPLICAS).  Idempotent batches go
through the producer-state checks (duplicates answer with the original offsets).  A follower
answers NOT_LEADER_OR_FOLLOWER.  With acks=-1 on a replicated partition the answer waits until the
high watermark covers the batch (replication/delayed_produce.py: NOT_ENOUGH_REPLICAS_AFTER_APPEND,
REQUEST_TIMED_OUT after ``timeout_ms``).
Transactional batches (v3+ with a ``transactional_id``) must belong to the producer's open
transaction with this partition added (INVALID_TXN_STATE otherwise, INVALID_PRODUCER_EPOCH for an
old epoch; COORDINATOR_NOT_AVAILABLE on a broker without a transaction coordinator).
Notes: record-level errors (v8+) are reported for the batch that failed.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.broker.partition import TxnCheck
from kafkatools.broker.replication.delayed_produce import PendingAck, await_acks
from kafkatools.codec import messages
from kafkatools.wire import batch as wb

API_KEY = 0
MIN_VERSION = 0
MAX_VERSION = 11

R = messages.ProduceResponse


def _partition_error(index: int, error: errors.ErrorCode, message: str | None = None) -> R.PartitionProduceResponse:
    return R.PartitionProduceResponse(index=index, error_code=error.code, base_offset=-1, error_message=message)


def _txn_check(ctx: RequestContext, txn_id: str | None, topic: str, index: int) -> TxnCheck | None:
    """What a transactional batch must pass: the coordinator's view of the producer's transaction."""
    coordinator = ctx.broker.transactions
    if txn_id is None:
        return None
    if coordinator is None:
        def unavailable(_h: wb.BatchHeader) -> None:
            raise errors.KafkaError(errors.COORDINATOR_NOT_AVAILABLE, "This broker does not coordinate transactions")
        return unavailable

    def check(h: wb.BatchHeader) -> None:
        coordinator.verify_produce(txn_id, h.producer_id, h.producer_epoch, topic, index)
    return check


async def handle(ctx: RequestContext, req: messages.ProduceRequest) -> messages.ProduceResponse | None:
    b = ctx.broker
    acks = req.acks
    responses: list[messages.ProduceResponse.TopicProduceResponse] = []
    bad_acks = acks not in (-1, 0, 1)
    pending: list[tuple[messages.ProduceResponse.PartitionProduceResponse, PendingAck]] = []
    for topic in req.topic_data:
        parts: list[messages.ProduceResponse.PartitionProduceResponse] = []
        for pd in topic.partition_data:
            if bad_acks:
                parts.append(_partition_error(pd.index, errors.INVALID_REQUIRED_ACKS))
                continue
            part = b.partition(topic.name, pd.index)
            if part is None:
                parts.append(_partition_error(pd.index, errors.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            if not part.is_leader:
                parts.append(_partition_error(pd.index, errors.NOT_LEADER_OR_FOLLOWER))
                continue
            try:
                result = part.append_from_client(pd.records, acks=acks, legacy=ctx.version < 3,
                                                 txn_check=_txn_check(ctx, req.transactional_id, topic.name, pd.index))
            except errors.KafkaError as e:
                parts.append(_partition_error(pd.index, e.error, e.message))
                continue
            answer = R.PartitionProduceResponse(
                index=pd.index, error_code=0, base_offset=result.base_offset,
                log_append_time_ms=result.log_append_time, log_start_offset=result.log_start_offset)
            if acks == -1 and part.high_watermark <= result.last_offset:
                pending.append((answer, PendingAck(part, result.last_offset + 1, part.leader_epoch)))
            parts.append(answer)
        responses.append(R.TopicProduceResponse(name=topic.name, partition_responses=parts))
    if pending:
        await await_acks([p for _, p in pending], req.timeout_ms / 1000, b.wait_for_appends)
        for answer, p in pending:
            if p.error is not None:
                answer.error_code = p.error.code
    if acks == 0:
        return None
    return R(responses=responses)
