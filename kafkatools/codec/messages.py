"""Every generated message class by its Kafka JSON name,
``messages.ProduceRequest``, ``messages.FetchResponse``.


Classes load lazily, one generated module per JSON file on first access, so a CLI that speaks five
APIs imports five small modules rather than the whole protocol.  ``load_all()`` imports everything
(the broker and the tests call it once).  Type checkers see the eager imports in ``_generated/_all``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from kafkatools.codec._generated import MODULE_OF

if TYPE_CHECKING:
    from kafkatools.codec._base import Message
    from kafkatools.codec._generated._all import *  # noqa: F403

_PACKAGE = "kafkatools.codec._generated"


def __getattr__(name: str) -> type[Message]:
    module = MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls: type[Message] = getattr(importlib.import_module(f"{_PACKAGE}.{module}"), name)
    globals()[name] = cls
    return cls


def __dir__() -> list[str]:
    return sorted([*MODULE_OF, "load_all", "by_name"])


def by_name(name: str) -> type[Message]:
    """The class for a JSON message name, e.g. ``"ProduceRequest"``; KeyError if there is none."""
    if name not in MODULE_OF:
        raise KeyError(name)
    return __getattr__(name)


def load_all() -> dict[str, type[Message]]:
    """Import every generated class; name -> class."""
    return {name: by_name(name) for name in MODULE_OF}
