"""acks=all: a produce answer waits until the high watermark covers the appended batches.

Kafka's DelayedProduce, per partition: once the HW reaches the last appended offset + 1 the
partition succeeds, unless the ISR has meanwhile fallen below ``min.insync.replicas``
(NOT_ENOUGH_REPLICAS_AFTER_APPEND: the data is in the log, but not as durable as asked).  A
partition whose leadership moved away answers NOT_LEADER_OR_FOLLOWER, and one still waiting when
the request timeout runs out answers REQUEST_TIMED_OUT (keeping its base offset).  The waits park
on the partitions' wake-up futures, which fire on appends, HW moves and role changes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkatools import errors

if TYPE_CHECKING:
    from kafkatools.broker.partition import Partition


@dataclass(slots=True)
class PendingAck:
    partition: Partition
    required_offset: int  # last appended offset + 1
    leader_epoch: int
    error: errors.ErrorCode | None = None
    done: bool = False


def check(p: PendingAck) -> bool:
    """Settle ``p`` if its outcome is known now; True when settled."""
    part = p.partition
    if not part.is_leader or part.leader_epoch != p.leader_epoch:
        p.error, p.done = errors.NOT_LEADER_OR_FOLLOWER, True
    elif part.high_watermark >= p.required_offset:
        if len(part.state.isr) < int(part.config.min_insync_replicas):
            p.error = errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        p.done = True
    return p.done


async def await_acks(pending: list[PendingAck], timeout_s: float,
                     wait: Callable[[list[Partition], float], Awaitable[None]]) -> None:
    """Wait until every entry is settled or ``timeout_s`` passes; the rest get REQUEST_TIMED_OUT."""
    deadline = time.monotonic() + max(timeout_s, 0.0)
    open_ = [p for p in pending if not check(p)]
    while open_:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        await wait([p.partition for p in open_], left)
        open_ = [p for p in open_ if not check(p)]
    for p in open_:
        p.error, p.done = errors.REQUEST_TIMED_OUT, True
