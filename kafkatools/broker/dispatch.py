"""The dispatch table: API key -> handler, and the version range the broker honours for it.

The table is the single source for what ApiVersions advertises.  Ranges start at 0 where a real
client insists on seeing an old version before it enables a feature (librdkafka <= 2.11 checks
that Produce 0/2/3/7, Fetch 2/4/10, ListOffsets 1, FindCoordinator 0, ... fall inside the range;
see the reference's g.5), and each handler really answers every version in its range.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kafkatools.broker.context import RequestContext
from kafkatools.broker.handlers import HANDLER_MODULES

Handler = Callable[[RequestContext, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    api_key: int
    name: str
    min_version: int
    max_version: int
    handle: Handler


def _route(module: ModuleType) -> Route:
    return Route(
        api_key=module.API_KEY,
        name=module.__name__.rsplit(".", 1)[-1],
        min_version=module.MIN_VERSION,
        max_version=module.MAX_VERSION,
        handle=module.handle,
    )


ROUTES: dict[int, Route] = {r.api_key: r for r in map(_route, HANDLER_MODULES)}


def supported_versions() -> list[tuple[int, int, int]]:
    """``(api_key, min, max)`` for every routed API, sorted by key (what ApiVersions lists)."""
    return sorted((r.api_key, r.min_version, r.max_version) for r in ROUTES.values())
