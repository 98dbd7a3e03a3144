"""IncrementalAlterConfigs (key 44).

Versions: 0-1.
Behaviour: per topic, applies SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) to the current
overrides (APPEND/SUBTRACT only for list-typed configs such as cleanup.policy, else
INVALID_CONFIG), validates the result and stores it; what ``kafka-configs --alter
--add-config/--delete-config`` sends.  Broker resources -> INVALID_REQUEST (no dynamic broker
configs).
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker import topic_configs
from kafkatools.broker.context import RequestContext
from kafkatools.broker.handlers.alter_configs import apply_topic_configs
from kafkatools.codec import messages

API_KEY = 44
MIN_VERSION = 0
MAX_VERSION = 1

TOPIC = 2
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def _merge(
    current: dict[str, str], ops: list[messages.IncrementalAlterConfigsRequest.AlterableConfig]
) -> dict[str, str]:
    new = dict(current)
    for op in ops:
        row = topic_configs.TOPIC_CONFIGS.get(op.name)
        if op.config_operation == SET:
            new[op.name] = op.value or ""
        elif op.config_operation == DELETE:
            new.pop(op.name, None)
        elif op.config_operation in (APPEND, SUBTRACT):
            if row is None or row.type != topic_configs.LIST:
                raise errors.KafkaError(errors.INVALID_CONFIG, f"Config value append is not allowed for config "
                                        f"key: {op.name}")
            base = new.get(op.name, row.default)
            items = [x for x in base.split(",") if x]
            values = [x for x in (op.value or "").split(",") if x]
            if op.config_operation == APPEND:
                items += [v for v in values if v not in items]
            else:
                items = [x for x in items if x not in values]
            new[op.name] = ",".join(items)
        else:
            raise errors.KafkaError(errors.INVALID_REQUEST, f"Unknown config operation {op.config_operation}")
    return new


async def handle(ctx: RequestContext,
                 req: messages.IncrementalAlterConfigsRequest) -> messages.IncrementalAlterConfigsResponse:
    R = messages.IncrementalAlterConfigsResponse
    out: list[messages.IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
    for res in req.resources:
        code, message = 0, None
        try:
            if res.resource_type != TOPIC:
                raise errors.KafkaError(errors.INVALID_REQUEST, "Only topic configs can be altered on this broker")
            topic = ctx.broker.cluster.topics.get(res.resource_name)
            if topic is None:
                raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic {res.resource_name} does not exist")
            apply_topic_configs(ctx, res.resource_name, _merge(topic.configs, res.configs), req.validate_only)
        except errors.KafkaError as e:
            code, message = e.code, e.message
        out.append(R.AlterConfigsResourceResponse(error_code=code, error_message=message,
                                                  resource_type=res.resource_type, resource_name=res.resource_name))
    return R(responses=out)
