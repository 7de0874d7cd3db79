"""DefaultBinder: bind by POSTing a Binding to ``pods/<name>/binding`` through the scheduler's client.

The API server then sets ``spec.nodeName``; the scheduler itself never writes the pod.
"""

from __future__ import annotations

from typing import Any

from engine.api.errors import ApiError
from engine.scheduler.framework import ERROR, Status

NAME = "DefaultBinder"


class DefaultBinder:
    name = NAME

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def bind(self, state: dict, pod: dict, node: str) -> Status | None:
        metadata = pod["metadata"]
        try:
            self.handle.client.bind(metadata.get("namespace") or "default", metadata["name"], node)
        except ApiError as error:
            return Status(ERROR, [str(error)])
        return None


def new(args: dict[str, Any] | None = None, handle: Any = None) -> DefaultBinder:
    return DefaultBinder(handle)
