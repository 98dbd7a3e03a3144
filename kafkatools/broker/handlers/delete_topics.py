"""DeleteTopics (key 20).

Versions: 0-6 (v6 may name topics by id).
Behaviour: unknown topic -> UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id);
``delete.topic.enable=false`` -> TOPIC_DELETION_DISABLED; internal topics are refused with
INVALID_REQUEST and a message saying why.  Otherwise the topic leaves the metadata first, then each
partition directory is renamed ``<topic>-<p>.<uuid>-delete`` and removed, as Kafka does.
"""

from __future__ import annotations

import uuid

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 20
MIN_VERSION = 0
MAX_VERSION = 6

R = messages.DeleteTopicsResponse
ZERO_UUID = uuid.UUID(int=0)


def _delete(ctx: RequestContext, name: str) -> tuple[errors.ErrorCode, str | None]:
    b = ctx.broker
    if name not in b.cluster.topics:
        return errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition."
    if not b.config.delete_topic_enable:
        return errors.TOPIC_DELETION_DISABLED, "Topic deletion is disabled."
    if b.cluster.topics[name].internal:
        return errors.INVALID_REQUEST, f"Topic {name} is an internal topic and cannot be deleted"
    b.delete_topic(name)
    return errors.NONE, None


async def handle(ctx: RequestContext, req: messages.DeleteTopicsRequest) -> messages.DeleteTopicsResponse:
    b = ctx.broker
    results: list[messages.DeleteTopicsResponse.DeletableTopicResult] = []
    if ctx.version >= 6:
        for t in req.topics:
            name = t.name
            if name is None:
                found = b.cluster.topic_by_id(t.topic_id)
                if found is None:
                    results.append(R.DeletableTopicResult(name=None, topic_id=t.topic_id,
                                                          error_code=errors.UNKNOWN_TOPIC_ID.code))
                    continue
                name = found.name
            state = b.cluster.topics.get(name)
            topic_id = state.topic_id if state is not None else ZERO_UUID
            error, message = _delete(ctx, name)
            results.append(R.DeletableTopicResult(name=name, topic_id=topic_id, error_code=error.code,
                                                  error_message=message))
    else:
        for name in req.topic_names:
            error, message = _delete(ctx, name)
            results.append(R.DeletableTopicResult(name=name, error_code=error.code, error_message=message))
    return R(responses=results)
