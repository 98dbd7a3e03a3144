"""The broker's log cleaner thread (Kafka's ``LogCleaner.CleanerThread``), as one asyncio task.

Each round picks the dirtiest compacted log (``storage.cleaner.filthiest_log``); when none needs
cleaning it sleeps ``log.cleaner.backoff.ms``.  The slow part — mapping keys, filtering and
writing the ``.cleaned`` segments — runs in a worker thread (``asyncio.to_thread``): it only reads
inactive segments, which appends never touch.  Swapping the cleaned segments in is a handful of
renames done back on the event loop, so no append, truncation or retention can interleave with
it; a plan whose segments were deleted or truncated meanwhile is thrown away.  A log whose data
cannot be parsed is marked uncleanable (Kafka's ``LogCleaningState`` "uncleanable partitions")
until the broker restarts.  In ZooKeeper mode every replica compacts its own copy, as in Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kafkatools import errors
from kafkatools.broker.config import BrokerConfig
from kafkatools.storage.cleaner import CleanPlan, commit_clean, discard_plan, filthiest_log, plan_clean
from kafkatools.storage.errors import StorageError
from kafkatools.storage.manager import LogManager
from kafkatools.storage.names import TopicPartition

log = logging.getLogger("kafkatools.broker.log_cleaner")


class LogCleaner:
    """Cleans one log at a time, dirtiest first, until none is above its ``min.cleanable.dirty.ratio``."""

    def __init__(self, logs: LogManager, config: BrokerConfig) -> None:
        self.logs = logs
        self.backoff_s = config.log_cleaner_backoff_ms / 1000
        self.enabled = config.log_cleaner_enable and config.log_cleaner_threads > 0
        self.uncleanable: set[TopicPartition] = set()
        self.rounds = 0  # logs cleaned since start (tests and metrics)

    async def run(self) -> None:
        if not self.enabled:
            return
        while True:
            try:
                cleaned = await self.clean_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the cleaner must never stop the broker
                log.exception("Log cleaner round failed")
                cleaned = False
            if not cleaned:
                await asyncio.sleep(self.backoff_s)

    async def clean_once(self, now_ms: int | None = None) -> bool:
        """Clean the dirtiest log, if any needs it; True when one was cleaned (or tried and skipped)."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        found = filthiest_log(self.logs, now, skip=self.uncleanable)
        if found is None:
            return False
        tp, plog, rng = found
        started = time.monotonic()
        try:
            plan: CleanPlan = await asyncio.to_thread(plan_clean, plog, rng, now)
        except errors.CorruptRecordError as e:
            log.error("Marking %s uncleanable: %s", tp, e)
            self.uncleanable.add(tp)
            return False
        except (StorageError, OSError, ValueError) as e:  # segments deleted or closed under the cleaner
            log.info("Cleaning of %s abandoned: %s", tp, e)
            return True
        if self.logs.get_log(tp) is not plog:
            discard_plan(plog, plan)
            return True
        try:
            commit_clean(plog, plan)
        except StorageError as e:
            log.info("Cleaning of %s abandoned: %s", tp, e)
            return True
        self.logs.update_cleaner_checkpoint(tp, rng.first_uncleanable)
        self.rounds += 1
        log.info("Cleaned %s: %d keys, %d -> %d bytes, first dirty offset now %d (%.1f ms)", tp, plan.map_size,
                 plan.bytes_read, plan.bytes_written, rng.first_uncleanable, (time.monotonic() - started) * 1000)
        return True
