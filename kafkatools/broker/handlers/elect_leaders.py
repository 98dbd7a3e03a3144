"""ElectLeaders (key 43).

Versions: 0-2 (v1 adds election_type and the top-level error code; v2 is flexible).
Behaviour: answered by the active controller of a ZooKeeper-mode cluster: election type 0 puts
the preferred (first) replica in charge when it is alive and in the ISR, type 1 (unclean) elects
a live replica for a partition without a live in-sync leader.  Per partition: NONE when elected,
ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE or
UNKNOWN_TOPIC_OR_PARTITION.  A null topic list means every partition, and then -- as Kafka does --
partitions that needed no election are left out of the answer.  The election runs in a worker
thread (ZooKeeper calls never run on the event loop), bounded by timeout_ms (REQUEST_TIMED_OUT).
Other brokers answer NOT_CONTROLLER (per partition, and top-level from v1): as Kafka's ZK brokers
do, a client sends this to the controller named by Metadata.  An unknown election type is
INVALID_REQUEST.  A standalone broker is its own controller and each partition's only replica:
every election there is ELECTION_NOT_NEEDED.
"""

from __future__ import annotations

import asyncio

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 43
MIN_VERSION = 0
MAX_VERSION = 2

Result = tuple[errors.ErrorCode, str | None]


def _response(results: dict[tuple[str, int], Result], top: errors.ErrorCode = errors.NONE
              ) -> messages.ElectLeadersResponse:
    by_topic: dict[str, list[messages.ElectLeadersResponse.PartitionResult]] = {}
    for (topic, partition), (code, message) in results.items():
        by_topic.setdefault(topic, []).append(messages.ElectLeadersResponse.PartitionResult(
            partition_id=partition, error_code=code.code, error_message=message))
    return messages.ElectLeadersResponse(error_code=top.code, replica_election_results=[
        messages.ElectLeadersResponse.ReplicaElectionResult(topic=t, partition_result=r) for t, r in by_topic.items()])


async def handle(ctx: RequestContext, req: messages.ElectLeadersRequest) -> messages.ElectLeadersResponse:
    keys = None if req.topic_partitions is None else [
        (tp.topic, p) for tp in req.topic_partitions for p in tp.partitions]
    election_type = req.election_type if ctx.version >= 1 else 0
    zk = ctx.broker.zk
    if zk is None:  # standalone: this broker is the controller and every partition's only replica leads already
        topics = ctx.broker.cluster.topics
        wanted = keys if keys is not None else [(t, p) for t, st in topics.items() for p in range(len(st.partitions))]
        found: dict[tuple[str, int], Result] = {
            (t, p): (errors.BY_NAME["ELECTION_NOT_NEEDED"], "Leader election not needed for topic partition.")
            if t in topics and 0 <= p < len(topics[t].partitions)
            else (errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.") for t, p in wanted}
        return _response(found if keys is not None else {})
    if zk.controller.claim is None:
        return _response({k: (errors.NOT_CONTROLLER, None) for k in keys or []}, errors.NOT_CONTROLLER)
    if election_type not in (0, 1):
        return _response({k: (errors.INVALID_REQUEST, f"Unknown election type {election_type}")
                          for k in keys or []}, errors.INVALID_REQUEST)
    timeout = max(req.timeout_ms, 1) / 1000
    try:
        results = await asyncio.wait_for(asyncio.to_thread(zk.controller.elect_leaders, keys, election_type),
                                         timeout)
    except TimeoutError:
        return _response({k: (errors.REQUEST_TIMED_OUT, None) for k in keys or []}, errors.REQUEST_TIMED_OUT)
    zk.wake()
    if keys is None:
        results = {k: r for k, r in results.items() if r[0].name != "ELECTION_NOT_NEEDED"}
    return _response(results)
