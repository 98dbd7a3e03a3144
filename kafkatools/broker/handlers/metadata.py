"""Metadata (key 3).

Versions: 0-12.
Behaviour: brokers, cluster id, controller, and the requested topics (null or, for v0, an empty
list = all topics).  Unknown topics are auto-created when the request allows it (v4+ flag, always
for v0-3) and ``auto.create.topics.enable`` is on.  Creation is synchronous here, so the new
topic's partitions are returned at once (Kafka first answers LEADER_NOT_AVAILABLE and makes the
client ask again; clients accept both).  v10+ carries topic ids; v12 may ask by id (unknown id ->
UNKNOWN_TOPIC_ID).
Notes: leader epochs (v7+) let the Java consumer validate positions with OffsetForLeaderEpoch.
"""

from __future__ import annotations

import uuid

from kafkatools import errors
from kafkatools.broker.cluster import TopicState, topic_name_problem
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 3
MIN_VERSION = 0
MAX_VERSION = 12

M = messages.MetadataResponse
ZERO_UUID = uuid.UUID(int=0)


def _topic(t: TopicState) -> messages.MetadataResponse.MetadataResponseTopic:
    return M.MetadataResponseTopic(
        error_code=0,
        name=t.name,
        topic_id=t.topic_id,
        is_internal=t.internal,
        partitions=[
            M.MetadataResponsePartition(
                error_code=0 if p.leader >= 0 else errors.LEADER_NOT_AVAILABLE.code,
                partition_index=i,
                leader_id=p.leader,
                leader_epoch=p.leader_epoch,
                replica_nodes=list(p.replicas),
                isr_nodes=list(p.isr),
                offline_replicas=[],
            )
            for i, p in enumerate(t.partitions)
        ],
    )


def _error_topic(name: str | None, error: errors.ErrorCode, topic_id: uuid.UUID = ZERO_UUID) -> M.MetadataResponseTopic:
    return M.MetadataResponseTopic(error_code=error.code, name=name, topic_id=topic_id, partitions=[])


async def handle(ctx: RequestContext, req: messages.MetadataRequest) -> messages.MetadataResponse:
    b = ctx.broker
    cluster = b.cluster
    topics: list[messages.MetadataResponse.MetadataResponseTopic] = []
    all_topics = req.topics is None or (ctx.version == 0 and not req.topics)
    if all_topics:
        topics = [_topic(t) for _, t in sorted(cluster.topics.items())]
    else:
        allow_auto = req.allow_auto_topic_creation if ctx.version >= 4 else True
        for wanted in req.topics or []:
            if wanted.name is None:
                found = cluster.topic_by_id(wanted.topic_id)
                topics.append(_topic(found) if found else _error_topic(None, errors.UNKNOWN_TOPIC_ID, wanted.topic_id))
                continue
            t = cluster.topics.get(wanted.name)
            if t is not None:
                topics.append(_topic(t))
            elif topic_name_problem(wanted.name) is not None:
                topics.append(_error_topic(wanted.name, errors.INVALID_TOPIC_EXCEPTION))
            elif allow_auto and b.config.auto_create_topics_enable:
                created = await b.auto_create_topic(wanted.name)
                if created is None:
                    topics.append(_error_topic(wanted.name, errors.UNKNOWN_TOPIC_OR_PARTITION))
                else:
                    topics.append(_topic(created))
            else:
                topics.append(_error_topic(wanted.name, errors.UNKNOWN_TOPIC_OR_PARTITION))
    return M(
        brokers=[
            M.MetadataResponseBroker(node_id=n.node_id, host=n.host, port=n.port, rack=n.rack)
            for n in b.live_brokers()
        ],
        cluster_id=cluster.cluster_id,
        controller_id=cluster.controller_id,
        topics=topics,
    )
