"""The audit log: one entry per request the API server answered, in order.

Like kube-apiserver's audit backend at the ``Metadata`` level, each entry
says who asked (user and groups), what (verb, resource, namespace, name,
subresource), what came of it (HTTP code), the store revision after it and
the virtual time. The request-trace diagrams of the course are drawn from
this log; two clusters run with the same seed and inputs produce identical
logs, entry for entry.

The log keeps the newest ``capacity`` entries, as a rotating audit file
would; ``total`` counts every entry ever written.

``RowLog`` (the entries here, and the API server's watch deliveries) keeps
each entry as a plain tuple of atoms, which CPython's cyclic garbage collector
stops tracking the first time it sees it, and hands it out as its named tuple
(``AuditEvent``, ``WatchDelivery``) on every read: a full log is 100,000
entries that no collection has to walk again. Readers see named tuples only.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Iterable, Iterator, NamedTuple

from engine.api.meta import micro_timestamp


class AuditEvent(NamedTuple):
    """One entry: immutable and compared by value, as a frozen dataclass would be, but a named tuple, several
    times cheaper to build (the log keeps the plain tuple and builds this on each read, see ``RowLog``)."""

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


class RowLog:
    """A bounded deque of rows, newest last: kept as plain tuples, read as ``row`` (a named tuple class).

    ``append`` takes a plain tuple or a ``row``; iterating (forwards or ``reversed``), indexing and ``len``
    behave as on a ``deque`` of ``row``; the oldest row goes once ``maxlen`` are kept.
    """

    __slots__ = ("rows",)
    row: ClassVar[Any] = tuple

    def __init__(self, iterable: Iterable[tuple] = (), maxlen: int | None = None) -> None:
        self.rows: deque[tuple] = deque(maxlen=maxlen)
        for item in iterable:
            self.append(item)

    @property
    def maxlen(self) -> int | None:
        return self.rows.maxlen

    def append(self, item: tuple) -> None:
        self.rows.append(item if type(item) is tuple else tuple(item))

    def clear(self) -> None:
        self.rows.clear()

    def __iter__(self) -> Iterator[Any]:
        return map(self.row._make, self.rows)

    def __reversed__(self) -> Iterator[Any]:
        return map(self.row._make, reversed(self.rows))

    def __getitem__(self, index: int) -> Any:
        return self.row._make(self.rows[index])

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r}, maxlen={self.maxlen})"


class AuditEntries(RowLog):
    """The audit log's entries: ``AuditEvent`` rows."""

    __slots__ = ()
    row = AuditEvent


class AuditLog:
    """An append-only, bounded sequence of ``AuditEvent``."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.entries = AuditEntries(maxlen=capacity)
        self.total = 0

    def record(self, time: float, user: str, groups: tuple[str, ...], verb: str, resource: str, api_group: str,
               namespace: str | None, name: str | None, subresource: str | None, code: int, revision: int,
               resource_version: str | None = None) -> AuditEvent:
        """Append one entry (its fields in ``AuditEvent``'s order, or by name) and return it."""
        self.total += 1
        row = (self.total, time, user, groups, verb, resource, api_group, namespace, name, subresource, code,
               revision, resource_version)
        self.entries.rows.append(row)
        return AuditEvent._make(row)

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def since(self, audit_id: int) -> list[AuditEvent]:
        """Entries written after ``audit_id`` (for traces that follow one request)."""
        return [AuditEvent._make(row) for row in self.entries.rows if row[0] > audit_id]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [event.to_dict() for event in self.entries]
