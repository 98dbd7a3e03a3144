"""AlterConfigs (key 33) and the shared topic-config update used by IncrementalAlterConfigs.

Versions: 0-2.
Behaviour: replaces a topic's whole set of overrides with the given configs (Kafka's legacy,
non-incremental semantics); each is validated (INVALID_CONFIG); unknown topic ->
UNKNOWN_TOPIC_OR_PARTITION; ``validate_only`` changes nothing.  Broker resources are read-only
here (INVALID_REQUEST: dynamic broker configs are not supported).
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker import topic_configs
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 33
MIN_VERSION = 0
MAX_VERSION = 2

TOPIC = 2


def apply_topic_configs(ctx: RequestContext, name: str, new: dict[str, str], validate_only: bool) -> None:
    """Validate and store a topic's complete override set; raises KafkaError."""
    if name not in ctx.broker.cluster.topics:
        raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {name} does not exist")
    for key, value in new.items():
        problem = topic_configs.validate(key, value)
        if problem:
            raise errors.KafkaError(errors.INVALID_CONFIG, problem)
    if not validate_only:
        ctx.broker.set_topic_configs(name, new)


async def handle(ctx: RequestContext, req: messages.AlterConfigsRequest) -> messages.AlterConfigsResponse:
    R = messages.AlterConfigsResponse
    out: list[messages.AlterConfigsResponse.AlterConfigsResourceResponse] = []
    for res in req.resources:
        code, message = 0, None
        try:
            if res.resource_type != TOPIC:
                raise errors.KafkaError(errors.INVALID_REQUEST, "Only topic configs can be altered on this broker")
            apply_topic_configs(ctx, res.resource_name, {c.name: c.value or "" for c in res.configs},
                                req.validate_only)
        except errors.KafkaError as e:
            code, message = e.code, e.message
        out.append(R.AlterConfigsResourceResponse(error_code=code, error_message=message,
                                                  resource_type=res.resource_type, resource_name=res.resource_name))
    return R(responses=out)
