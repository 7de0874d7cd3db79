"""The audit log: one entry per request the API server answered, in order.

Like kube-apiserver's audit backend at the ``Metadata`` level, each entry
says who asked (user and groups), what (verb, resource, namespace, name,
subresource), what came of it (HTTP code), the store revision after it and
the virtual time. The request-trace diagrams of the course are drawn from
this log; two clusters run with the same seed and inputs produce identical
logs, entry for entry.

The log keeps the newest ``capacity`` entries, as a rotating audit file
would; ``total`` counts every entry ever written.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator, NamedTuple

from engine.api.meta import micro_timestamp


class AuditEvent(NamedTuple):
    """One entry: immutable and compared by value, as a frozen dataclass would be, but a named tuple, several
    times cheaper to build (the API server writes one per request)."""

    audit_id: int
    time: float
    user: str
    groups: tuple[str, ...]
    verb: str
    resource: str
    api_group: str
    namespace: str | None
    name: str | None
    subresource: str | None
    code: int
    revision: int
    resource_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry in the shape of an ``audit.k8s.io/v1`` Event (Metadata level)."""
        object_ref: dict[str, Any] = {"resource": self.resource, "apiGroup": self.api_group}
        for key, value in (("namespace", self.namespace), ("name", self.name),
                           ("subresource", self.subresource), ("resourceVersion", self.resource_version)):
            if value:
                object_ref[key] = value
        return {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": f"{self.audit_id:08d}",
            "stage": "ResponseComplete",
            "verb": self.verb,
            "user": {"username": self.user, "groups": list(self.groups)},
            "objectRef": object_ref,
            "responseStatus": {"code": self.code},
            "stageTimestamp": micro_timestamp(self.time),
        }


class AuditLog:
    """An append-only, bounded sequence of ``AuditEvent``."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.entries: deque[AuditEvent] = deque(maxlen=capacity)
        self.total = 0

    def record(self, time: float, user: str, groups: tuple[str, ...], verb: str, resource: str, api_group: str,
               namespace: str | None, name: str | None, subresource: str | None, code: int, revision: int,
               resource_version: str | None = None) -> AuditEvent:
        """Append one entry (its fields in ``AuditEvent``'s order, or by name) and return it."""
        self.total += 1
        event = AuditEvent(self.total, time, user, groups, verb, resource, api_group, namespace, name, subresource,
                           code, revision, resource_version)
        self.entries.append(event)
        return event

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def since(self, audit_id: int) -> list[AuditEvent]:
        """Entries written after ``audit_id`` (for traces that follow one request)."""
        return [event for event in self.entries if event.audit_id > audit_id]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [event.to_dict() for event in self.entries]
