"""ApiVersions (key 18).

Versions: 0-4.
Behaviour: lists every routed API with the range the broker honours (the dispatch table).  An
unknown ApiVersions version never reaches here: the connection answers it in v0 format with
UNSUPPORTED_VERSION (KIP-511).  v3+ client software name/version must match Kafka's pattern,
else INVALID_REQUEST.
Notes: no SupportedFeatures are listed (a feature with min version 0 would break pre-v4
clients, KAFKA-17011), and no tagged fields are written with default values.
"""

from __future__ import annotations

import re

from kafkatools import errors
from kafkatools.broker.context import RequestContext
from kafkatools.codec import messages

API_KEY = 18
MIN_VERSION = 0
MAX_VERSION = 4

_SOFTWARE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$")


async def handle(ctx: RequestContext, req: messages.ApiVersionsRequest) -> messages.ApiVersionsResponse:
    from kafkatools.broker.dispatch import supported_versions

    keys = [
        messages.ApiVersionsResponse.ApiVersion(api_key=k, min_version=lo, max_version=hi)
        for k, lo, hi in supported_versions()
    ]
    error = errors.NONE
    if ctx.version >= 3 and not (
        _SOFTWARE.match(req.client_software_name) and _SOFTWARE.match(req.client_software_version)
    ):
        error = errors.INVALID_REQUEST
    return messages.ApiVersionsResponse(error_code=error.code, api_keys=keys)
