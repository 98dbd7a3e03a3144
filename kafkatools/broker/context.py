"""What a handler sees of the request it answers: the header, the peer, and the broker.

Handlers are ``async def handle(ctx, request) -> response | None`` (one module per API under
``handlers/``); they reach shared state only through ``ctx.broker`` so a test can hand them a
broker assembled in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkatools.codec import RequestHeader

if TYPE_CHECKING:
    from kafkatools.broker.state import BrokerState


@dataclass(slots=True)
class RequestContext:
    header: RequestHeader
    broker: BrokerState
    client_host: str

    @property
    def version(self) -> int:
        return self.header.api_version

    @property
    def client_id(self) -> str:
        return self.header.client_id or ""
