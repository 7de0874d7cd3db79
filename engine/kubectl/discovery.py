"""What the server serves, as the running kubectl command learned it from discovery.

The real kubectl reads discovery before resolving ``crontabs`` or ``ct`` to a
resource, so a kind a CustomResourceDefinition added is known to the next
command. ``served_kinds()`` is the kind registry of the cluster the command in
progress talks to (``run`` sets it for the length of one command); outside a
command it is the built-in registry.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from engine.api.kinds import REGISTRY, KindRegistry

_SERVED: ContextVar[KindRegistry] = ContextVar("kubectl_served_kinds", default=REGISTRY)


def served_kinds() -> KindRegistry:
    """The kinds the current command's server serves (built-in and custom)."""
    return _SERVED.get()


@contextmanager
def discovered(registry: KindRegistry) -> Iterator[None]:
    """Resolve names against ``registry`` while one command runs."""
    token = _SERVED.set(registry)
    try:
        yield
    finally:
        _SERVED.reset(token)
