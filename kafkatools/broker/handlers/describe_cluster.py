"""DescribeCluster (key 60).

Versions: 0-1.
Behaviour: this broker's cluster id, the controller id and every live broker.  v1's endpoint
type 1 (brokers) is the only type a broker serves; asking for controllers (2) gets
UNSUPPORTED_ENDPOINT_TYPE, as on a Kafka broker.
Notes: the Java admin client (>= 2.8) prefers this over Metadata for describeCluster().
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 60
MIN_VERSION = 0
MAX_VERSION = 1

BROKERS_ENDPOINT_TYPE = 1


async def handle(
    ctx: RequestContext, req: messages.DescribeClusterRequest
) -> messages.DescribeClusterResponse:
    b = ctx.broker
    if ctx.version >= 1 and req.endpoint_type != BROKERS_ENDPOINT_TYPE:
        return messages.DescribeClusterResponse(
            error_code=errors.BY_NAME["UNSUPPORTED_ENDPOINT_TYPE"].code,
            error_message="The request was sent to an endpoint of type BROKER, but we wanted an "
            "endpoint of type CONTROLLER",
            cluster_id=b.cluster.cluster_id,
        )
    return messages.DescribeClusterResponse(
        cluster_id=b.cluster.cluster_id,
        controller_id=b.cluster.controller_id,
        brokers=[
            messages.DescribeClusterResponse.DescribeClusterBroker(
                broker_id=n.node_id, host=n.host, port=n.port, rack=n.rack
            )
            for n in b.live_brokers()
        ],
    )
