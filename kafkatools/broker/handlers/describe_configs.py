"""DescribeConfigs (key 32).

Versions: 0-4.
Behaviour: topics (resource type 2): every topic config with its value and source (override ->
DYNAMIC_TOPIC_CONFIG, primary broker synonym in server.properties -> STATIC_BROKER_CONFIG, else
DEFAULT_CONFIG), synonyms when asked (v1+), config types (v3+); unknown topic ->
UNKNOWN_TOPIC_OR_PARTITION.  Brokers (type 4): the broker's own settings from server.properties
(STATIC_BROKER_CONFIG), read-only.  Other resource types -> INVALID_REQUEST.
"""

from __future__ import annotations

from kafkatools import errors
from kafkatools.broker import topic_configs
from kafkatools.broker.context import RequestContext
from kafkatools.broker.state import BrokerState
from kafkatools.codec import messages
from kafkatools.storage.config import TOPIC_KEYS

API_KEY = 32
MIN_VERSION = 0
MAX_VERSION = 4

R = messages.DescribeConfigsResponse
TOPIC, BROKER = 2, 4


def topic_config_values(b: BrokerState, name: str) -> list[topic_configs.ConfigValue]:
    topic = b.cluster.topics[name]
    defaults = b.config.log_config
    effective = {key: str(getattr(defaults, attr)) for key, attr in TOPIC_KEYS.items()}
    return topic_configs.describe(topic.configs, b.config.props, effective)


Resource = messages.DescribeConfigsRequest.DescribeConfigsResource


def _topic(ctx: RequestContext, res: Resource) -> R.DescribeConfigsResult:
    out = R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=TOPIC,
                                  resource_name=res.resource_name)
    if res.resource_name not in ctx.broker.cluster.topics:
        out.error_code = errors.UNKNOWN_TOPIC_OR_PARTITION.code
        out.error_message = f"Topic {res.resource_name} does not exist"
        return out
    wanted = None if res.configuration_keys is None else set(res.configuration_keys)
    for c in topic_config_values(ctx.broker, res.resource_name):
        if wanted is not None and c.name not in wanted:
            continue
        out.configs.append(R.DescribeConfigsResourceResult(
            name=c.name, value=c.value, read_only=False, is_default=c.source == topic_configs.DEFAULT_CONFIG,
            config_source=c.source, is_sensitive=False, config_type=c.type,
            synonyms=[R.DescribeConfigsSynonym(name=n, value=v, source=s) for n, v, s in c.synonyms]))
    return out


def _broker(ctx: RequestContext, res: Resource) -> R.DescribeConfigsResult:
    out = R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=BROKER,
                                  resource_name=res.resource_name)
    if res.resource_name not in ("", str(ctx.broker.node_id)):
        out.error_code = errors.INVALID_REQUEST.code
        out.error_message = f"Unexpected broker id, expected {ctx.broker.node_id} or empty string"
        return out
    wanted = None if res.configuration_keys is None else set(res.configuration_keys)
    for key, value in sorted(ctx.broker.config.props.items()):
        if wanted is not None and key not in wanted:
            continue
        sensitive = "password" in key
        out.configs.append(R.DescribeConfigsResourceResult(
            name=key, value=None if sensitive else value, read_only=True, is_default=False,
            config_source=topic_configs.STATIC_BROKER_CONFIG, is_sensitive=sensitive,
            synonyms=[R.DescribeConfigsSynonym(name=key, value=value, source=topic_configs.STATIC_BROKER_CONFIG)]))
    return out


async def handle(ctx: RequestContext, req: messages.DescribeConfigsRequest) -> messages.DescribeConfigsResponse:
    results: list[messages.DescribeConfigsResponse.DescribeConfigsResult] = []
    for res in req.resources:
        if res.resource_type == TOPIC:
            out = _topic(ctx, res)
        elif res.resource_type == BROKER:
            out = _broker(ctx, res)
        else:
            out = R.DescribeConfigsResult(error_code=errors.INVALID_REQUEST.code,
                                          error_message=f"Unsupported resource type {res.resource_type}",
                                          resource_type=res.resource_type, resource_name=res.resource_name)
        if not (ctx.version >= 1 and req.include_synonyms):
            for c in out.configs:
                c.synonyms = []
        results.append(out)
    return R(results=results)
