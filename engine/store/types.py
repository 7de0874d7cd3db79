"""The etcd v3 data model and the one interface every store backend implements.

Kubernetes keeps all cluster state in etcd, a multi-version (MVCC) key-value
store. These types follow etcd's ``mvccpb`` and ``etcdserverpb`` messages:
every write makes a new global *revision*; each key remembers the revision
that created it, the one that last modified it, and how many times it has
changed (*version*). Reads can be made at any revision not yet compacted,
and watches replay history from a revision before following live changes.

Interface of a backend (``Store``), as etcd's KV, Watch and Lease services:

    range(key, range_end=None, *, revision=0, limit=0, keys_only=False, count_only=False) -> RangeResponse
    put(key, value, *, lease=0, prev_kv=False) -> PutResponse
    delete_range(key, range_end=None, *, prev_kv=False) -> DeleteResponse
    txn(compare, success, failure) -> TxnResponse
    watch(key, range_end=None, *, start_revision=0, prev_kv=False, callback) -> WatchHandle
    compact(revision) -> None
    lease_grant(ttl, lease_id=0) -> LeaseGrant
    lease_revoke(lease_id) -> None
    lease_keep_alive(lease_id) -> int               (the TTL again)
    lease_time_to_live(lease_id) -> LeaseStatus
    revision                                         current revision (property)
    compact_revision                                 last compaction (property)

Key ranges use etcd's conventions: ``range_end=None`` means the single key,
``range_end="\\0"`` means every key >= key, otherwise the half-open
``[key, range_end)``; ``prefix_end(p)`` gives the range end of a prefix.
Keys are ``str`` and values ``bytes`` (the API server stores JSON).

The messages a caller builds or gets back and never changes (``KeyValue``, ``Event``, ``Compare``, the ops,
``LeaseGrant``, ``LeaseStatus``) are named tuples: immutable, hashable, compared by value, and several times
cheaper to build than frozen dataclasses (one of each is made per write, and a store keeps its KeyValues).
The responses (``RangeResponse``...) are plain slotted dataclasses.

Guarantees a caller may rely on: revisions strictly increase by one per
write transaction (a txn with several writes makes one revision); a watch
callback receives events in revision order, each call carrying the events
of one revision, and never misses or repeats one; a read or watch below the
compaction point raises ``CompactedError`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, NamedTuple, Protocol, Union


class StoreError(Exception):
    """Base of the errors a store backend raises (etcd's rpctypes)."""


class CompactedError(StoreError):
    """The requested revision has been compacted (etcd: ``mvcc: required revision has been compacted``)."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(f"mvcc: required revision has been compacted (requested {requested}, "
                         f"compacted at {compact_revision})")
        self.requested = requested
        self.compact_revision = compact_revision


class FutureRevisionError(StoreError):
    """The requested revision is newer than the store (etcd: ``mvcc: required revision is a future revision``)."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"mvcc: required revision is a future revision (requested {requested}, current {current})")


class LeaseNotFoundError(StoreError):
    """The lease does not exist or has expired (etcd: ``etcdserver: requested lease not found``)."""

    def __init__(self, lease_id: int) -> None:
        super().__init__(f"etcdserver: requested lease not found ({lease_id})")
        self.lease_id = lease_id


class KeyValue(NamedTuple):
    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0


class Event(NamedTuple):
    type: Literal["PUT", "DELETE"]
    kv: KeyValue                 # for DELETE: the key with mod_revision = deletion revision, empty value
    prev_kv: KeyValue | None = None


@dataclass(slots=True)
class RangeResponse:
    revision: int                # the store's revision when the read was served (header revision)
    kvs: list[KeyValue]
    count: int                   # keys in the range, ignoring limit
    more: bool                   # True when limit cut the result short


@dataclass(slots=True)
class PutResponse:
    revision: int
    prev_kv: KeyValue | None = None


@dataclass(slots=True)
class DeleteResponse:
    revision: int
    deleted: int
    prev_kvs: list[KeyValue] = field(default_factory=list)


class Compare(NamedTuple):
    """One guard of a transaction: ``target`` of ``key`` compared with ``value``.

    target: "VERSION", "CREATE" (create revision), "MOD" (mod revision), "VALUE" or "LEASE".
    result: "=", "!=", "<" or ">". A missing key has version, create and mod revision 0.
    """

    key: str
    target: Literal["VERSION", "CREATE", "MOD", "VALUE", "LEASE"]
    result: Literal["=", "!=", "<", ">"]
    value: int | bytes


class RangeOp(NamedTuple):
    key: str
    range_end: str | None = None
    revision: int = 0
    limit: int = 0


class PutOp(NamedTuple):
    key: str
    value: bytes
    lease: int = 0
    prev_kv: bool = False


class DeleteOp(NamedTuple):
    key: str
    range_end: str | None = None
    prev_kv: bool = False


Op = Union[RangeOp, PutOp, DeleteOp]


@dataclass(slots=True)
class TxnResponse:
    revision: int
    succeeded: bool
    responses: list[Union[RangeResponse, PutResponse, DeleteResponse]]


class LeaseGrant(NamedTuple):
    id: int
    ttl: int


class LeaseStatus(NamedTuple):
    id: int
    ttl: float                   # seconds left; -1 when the lease is gone
    granted_ttl: int
    keys: tuple[str, ...] = ()


WatchCallback = Callable[[list[Event]], None]


class WatchHandle(Protocol):
    id: int

    def cancel(self) -> None: ...


class Store(Protocol):
    """What every backend (in-memory, real etcd) offers; one conformance suite tests both."""

    @property
    def revision(self) -> int: ...

    @property
    def compact_revision(self) -> int: ...

    def range(self, key: str, range_end: str | None = None, *, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse: ...

    def put(self, key: str, value: bytes, *, lease: int = 0, prev_kv: bool = False) -> PutResponse: ...

    def delete_range(self, key: str, range_end: str | None = None, *, prev_kv: bool = False) -> DeleteResponse: ...

    def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResponse: ...

    def watch(self, key: str, range_end: str | None = None, *, start_revision: int = 0,
              prev_kv: bool = False, callback: WatchCallback) -> WatchHandle: ...

    def compact(self, revision: int) -> None: ...

    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant: ...

    def lease_revoke(self, lease_id: int) -> None: ...

    def lease_keep_alive(self, lease_id: int) -> int: ...

    def lease_time_to_live(self, lease_id: int) -> LeaseStatus: ...


def prefix_end(prefix: str) -> str:
    """The ``range_end`` that selects every key starting with ``prefix`` (etcd's GetPrefixRangeEnd)."""
    if not prefix:
        return "\0"
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1)
