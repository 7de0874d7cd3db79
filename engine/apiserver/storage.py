"""Generic REST storage of one kind on etcd (k8s.io/apiserver/pkg/registry/generic/registry.Store).

This is the only code that writes API objects to the store. It encodes an
object as JSON under the kind's etcd key (``/registry/pods/default/web``),
and makes every write a compare-and-swap transaction on the key's
``mod_revision``: that is optimistic concurrency, the reason a stale update
gets 409 Conflict. The object's ``metadata.resourceVersion`` is never stored;
it is the etcd ``mod_revision``, set when the object is read back.

Reads come from the kind's watch cache, which is never behind the store.
Events get an etcd lease so they expire (``--event-ttl``, one hour), as in
Kubernetes; the lease is reused for a minute of writes, as the real lease
manager does, so a burst of events does not make a burst of leases.
"""

from __future__ import annotations

import json

from engine.api import errors
from engine.api.frozen import FrozenDict, frozen_as_decoded
from engine.api.kinds import Kind
from engine.apiserver.watchcache import Cacher
from engine.sim.loop import Loop
from engine.store.types import Compare, DeleteOp, PutOp, RangeOp, Store, TxnResponse
from engine import flags

_LEASE_REUSE_SECONDS = 60.0
_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""``json.dumps(obj, separators=...)`` without building an encoder per call."""


def encode(obj: dict) -> bytes:
    """The bytes stored in etcd: the object without its resourceVersion."""
    metadata = obj.get("metadata", {})
    version = metadata.pop("resourceVersion", None)
    try:
        return _ENCODER.encode(obj).encode()
    finally:
        if version is not None:
            metadata["resourceVersion"] = version


class ResourceStorage:
    """Create, update and delete one kind's objects in etcd, compare-and-swap style."""

    def __init__(self, kind: Kind, store: Store, cacher: Cacher, loop: Loop) -> None:
        self.kind = kind
        self.store = store
        self.cacher = cacher
        self.loop = loop
        self.ttl = flags.event_ttl if kind.plural == "events" else 0
        self._lease: tuple[int, float] | None = None

    def key(self, namespace: str | None, name: str) -> str:
        return self.kind.key(namespace, name)

    def get(self, namespace: str | None, name: str) -> dict | None:
        """The current object (frozen, shared) or None."""
        return self.cacher.get(self.key(namespace, name))

    def require(self, namespace: str | None, name: str) -> dict:
        current = self.get(namespace, name)
        if current is None:
            raise errors.not_found(self.kind.plural, name, self.kind.group)
        return current

    def _lease_id(self) -> int:
        if not self.ttl:
            return 0
        now = self.loop.now
        if self._lease is not None and now - self._lease[1] < _LEASE_REUSE_SECONDS:
            return self._lease[0]
        grant = self.store.lease_grant(int(self.ttl + _LEASE_REUSE_SECONDS))
        self._lease = (grant.id, now)
        return grant.id

    def create(self, obj: dict) -> dict:
        """Store a new object; 409 AlreadyExists if the key is taken."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        response = self._put(key, obj, Compare(key, "CREATE", "=", 0), [])
        if not response.succeeded:
            raise errors.already_exists(self.kind.plural, metadata["name"], self.kind.group)
        metadata["resourceVersion"] = str(response.revision)
        return obj

    def update(self, obj: dict, expected_revision: int) -> dict:
        """Replace the object if its key is still at ``expected_revision``; else 409 Conflict."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        response = self._put(key, obj, Compare(key, "MOD", "=", expected_revision), [RangeOp(key)])
        if not response.succeeded:
            existing = response.responses[0].kvs if response.responses else []
            if not existing:
                raise errors.not_found(self.kind.plural, metadata["name"], self.kind.group)
            raise errors.conflict(self.kind.plural, metadata["name"], errors.STALE_OBJECT, self.kind.group)
        metadata["resourceVersion"] = str(response.revision)
        return obj

    def _put(self, key: str, obj: dict, guard: Compare, failure: list) -> TxnResponse:
        """The compare-and-put of ``obj``'s JSON; the watch cache is told what those bytes decode to (a frozen
        copy made without decoding them: ``frozen_as_decoded``), so it need not decode them again."""
        value = encode(obj)
        decoded = frozen_as_decoded(obj)
        if decoded is None:
            return self.store.txn([guard], [PutOp(key, value, lease=self._lease_id())], failure)
        self.cacher.expect(value, decoded)
        try:
            return self.store.txn([guard], [PutOp(key, value, lease=self._lease_id())], failure)
        finally:
            self.cacher.expect(None, None)

    def update_frozen(self, obj: FrozenDict, expected_revision: int) -> None:
        """``update`` for a frozen object without a resourceVersion, shaped as decoding its JSON would shape it:
        the watch cache takes it as the decoded object of this write (the in-memory store hands back the very
        bytes written), instead of decoding them again."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        value = _ENCODER.encode(obj).encode()
        self.cacher.expect(value, obj)
        try:
            response = self.store.txn([Compare(key, "MOD", "=", expected_revision)],
                                      [PutOp(key, value, lease=self._lease_id())], [RangeOp(key)])
        finally:
            self.cacher.expect(None, None)
        if not response.succeeded:
            existing = response.responses[0].kvs if response.responses else []
            if not existing:
                raise errors.not_found(self.kind.plural, metadata["name"], self.kind.group)
            raise errors.conflict(self.kind.plural, metadata["name"], errors.STALE_OBJECT, self.kind.group)

    def remove(self, obj: dict, expected_revision: int) -> dict:
        """Delete the object from etcd if it is still at ``expected_revision``."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        response = self.store.txn([Compare(key, "MOD", "=", expected_revision)], [DeleteOp(key)], [])
        if not response.succeeded:
            if self.get(metadata.get("namespace"), metadata["name"]) is None:
                raise errors.not_found(self.kind.plural, metadata["name"], self.kind.group)
            raise errors.conflict(self.kind.plural, metadata["name"], errors.STALE_OBJECT, self.kind.group)
        metadata["resourceVersion"] = str(response.revision)
        return obj
