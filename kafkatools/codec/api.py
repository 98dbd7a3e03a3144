"""The API table: one :class:`ApiSpec` per API key of Kafka 3.9, from the generated index.

``request``/``response`` import their generated module on first access, so reading the table (e.g.
to answer ApiVersions) costs no message modules.
"""

from __future__ import annotations

from typing import Final

from kafkatools.codec._base import Message
from kafkatools.codec._generated import APIS
from kafkatools.codec.messages import by_name


class ApiSpec:
    """One API: key, name (``"Produce"``), message classes, version range, first flexible version."""

    __slots__ = ("flexible_min", "key", "max_version", "min_version", "name", "request_name", "response_name")

    def __init__(
        self,
        key: int,
        name: str,
        request_name: str,
        response_name: str,
        min_version: int,
        max_version: int,
        flexible_min: int | None,
    ) -> None:
        self.key = key
        self.name = name
        self.request_name = request_name
        self.response_name = response_name
        self.min_version = min_version
        self.max_version = max_version
        self.flexible_min = flexible_min

    @property
    def request(self) -> type[Message]:
        return by_name(self.request_name)

    @property
    def response(self) -> type[Message]:
        return by_name(self.response_name)

    def is_flexible(self, version: int) -> bool:
        return self.flexible_min is not None and version >= self.flexible_min

    def supports(self, version: int) -> bool:
        return self.min_version <= version <= self.max_version

    def __repr__(self) -> str:
        return f"ApiSpec({self.key}, {self.name!r}, v{self.min_version}-{self.max_version})"


API_BY_KEY: Final[dict[int, ApiSpec]] = {row[0]: ApiSpec(*row) for row in APIS}
API_BY_NAME: Final[dict[str, ApiSpec]] = {spec.name: spec for spec in API_BY_KEY.values()}
