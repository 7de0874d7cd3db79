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
import operator

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
_C_ENCODER = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
"""The C encoder ``_ENCODER.encode`` builds on every call, built once, without the circular-reference markers
(what is written here was copied or built by the server: a tree, never a cycle)."""


if _C_ENCODER is None:
    def dumps(obj: object) -> str:
        """``_ENCODER.encode(obj)``."""
        return _ENCODER.encode(obj)
else:
    def dumps(obj: object) -> str:
        """``_ENCODER.encode(obj)``: the same text, from the encoder built once."""
        return "".join(_C_ENCODER(obj, 0))


def encode(obj: dict) -> bytes:
    """The bytes stored in etcd: the object without its resourceVersion."""
    metadata = obj.get("metadata", {})
    version = metadata.pop("resourceVersion", None)
    try:
        return dumps(obj).encode()
    finally:
        if version is not None:
            metadata["resourceVersion"] = version


_encode_str = json.encoder.encode_basestring_ascii
"""How the encoder writes a ``str`` key or value (``ensure_ascii``): one C call, no encoder run."""


def _member(key: object, value: object) -> str:
    """``"key":value`` as ``dumps`` writes that member inside an object."""
    if type(key) is not str:
        return dumps({key: value})[1:-1]
    return _encode_str(key) + ":" + (_encode_str(value) if type(value) is str else dumps(value))


def _members(obj: dict, keys: list[str]) -> str:
    """The JSON of ``obj``'s members ``keys``, comma-separated, without braces ("" for none)."""
    if len(keys) == 1:
        return _member(keys[0], obj[keys[0]])
    return ",".join([_member(key, obj[key]) for key in keys])


_SCALAR_TYPES = (str, int, bool, type(None))
"""Scalars whose equal values of one type are written alike (floats are not: 0.0 == -0.0)."""
_OBJECT_TYPES = (dict, FrozenDict)


def _alike(new: object, old: object) -> bool:
    """Whether ``new`` is written as ``old`` is, without writing either: the same object, or equal scalars
    of one type."""
    return new is old or (type(new) is type(old) and type(new) in _SCALAR_TYPES and new == old)


def _same_head(obj: dict, previous: dict, keys: list[str]) -> bool:
    """Whether ``obj``'s members ``keys`` are written as ``previous``'s were stored (its metadata without the
    resourceVersion, which is never stored): member by member, in order; the metadata's members must be the
    very same values (a copy of ``previous``'s)."""
    for key in keys:
        new, old = obj[key], previous[key]
        if new is old:
            continue
        if key != "metadata":
            if not _alike(new, old):
                return False
            continue
        if type(new) not in _OBJECT_TYPES or type(old) not in _OBJECT_TYPES:
            return False
        old_keys = list(old)
        if "resourceVersion" in old:
            if old_keys.pop() != "resourceVersion":       # a cached object's is always set last
                return False
        if list(new) != old_keys or not all(map(operator.is_, new.values(), old.values())):
            return False
    return True


def splice(obj: dict, previous: dict, stored: bytes, field: str, name: str, *, trusted: bool = False) -> bytes | None:
    """``encode(obj)`` made from ``stored`` (the bytes of ``previous``, whose resourceVersion they lack) when
    ``obj[field]`` is ``previous[field]`` plus the member ``name`` at its end: the members before ``field``
    are encoded and must open ``stored`` as they are, those after it are encoded from ``previous`` and must
    close it, and what lies between is ``previous[field]``'s JSON, reused. None when the bytes do not line up
    (the caller encodes ``obj``).

    ``trusted``: ``stored`` is known to be ``encode(previous)`` (this server wrote those very bytes for that
    very object), so the members before ``field`` need only be the same as ``previous``'s, member by member,
    not encoded again."""
    old_value, new_value = previous.get(field), obj.get(field)
    if not isinstance(old_value, dict) or not old_value or name in old_value or not isinstance(new_value, dict) \
            or len(new_value) != len(old_value) + 1:
        return None
    new_keys = list(new_value)
    if new_keys.pop() != name or new_keys != list(old_value) or \
            not all(map(operator.is_, new_value.values(), old_value.values())):
        return None         # the same members, in the same order, the very same values
    keys, old_keys = list(obj), list(previous)      # both hold ``field``: ``get`` found it in each
    at, old_at = keys.index(field), old_keys.index(field)
    old_after = old_keys[old_at + 1:]
    old_tail_bytes = (("," + _members(previous, old_after) + "}") if old_after else "}").encode()
    cut = len(stored) - len(old_tail_bytes)
    if trusted and keys[:at] == old_keys[:old_at] and _same_head(obj, previous, keys[:at]):
        if not stored.endswith(old_tail_bytes) or stored[cut - 1:cut] != b"}":
            return None
        head = stored[:cut - 1]
    else:
        before = _members(obj, keys[:at])
        head_bytes = (("{" + before + "," if before else "{") + _encode_str(field) + ":").encode()
        if not stored.startswith(head_bytes) or not stored.endswith(old_tail_bytes) or \
                cut < len(head_bytes) + 2 or stored[len(head_bytes):len(head_bytes) + 1] != b"{" or \
                stored[cut - 1:cut] != b"}":
            return None
        head = stored[:cut - 1]
    after = keys[at + 1:]
    rest = "," + _member(name, new_value[name]) + ("}," + _members(obj, after) + "}" if after else "}}")
    return head + rest.encode()


_WRITTEN_KEPT = 65_536
"""How many keys' last written bytes a ResourceStorage remembers (forgotten all at once beyond)."""


class ResourceStorage:
    """Create, update and delete one kind's objects in etcd, compare-and-swap style."""

    def __init__(self, kind: Kind, store: Store, cacher: Cacher, loop: Loop) -> None:
        self.kind = kind
        self.store = store
        self.cacher = cacher
        self.loop = loop
        self.ttl = flags.event_ttl if kind.plural == "events" else 0
        self._lease: tuple[int, float] | None = None
        self._written: dict[str, bytes] = {}
        self._written_objects: dict[str, dict] = {}
        """Per key, the last bytes this storage wrote (``_written``) and the frozen object it told the watch cache
        they decode to (``_written_objects``): while the store still holds those very bytes and the cache that very
        object, the bytes are ``encode(object)`` (``splice`` trusts them). Kept for pods only, the one kind whose
        writes are spliced (pods/binding): other kinds (Events, deleted by their lease) would only keep dead
        objects alive. Two dicts rather than one of pairs: no pair per pod for the garbage collector to walk."""
        self._remembering = kind.plural == "pods" and not kind.group

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
        """The compare-and-put of ``obj``'s JSON; when a watcher will be shown it at once, the watch cache is told
        what those bytes decode to (a frozen copy made without decoding them: ``frozen_as_decoded``), so it need
        not decode them again."""
        value = encode(obj)
        # Nobody watching: the watch cache keeps the bytes, decoded if ever read (most Events never are). Pods
        # are always handed over decoded: a binding splices their bytes only while it knows what they decode to.
        decoded = frozen_as_decoded(obj) if self._remembering or self.cacher.watched(key) else None
        if decoded is None:
            return self.store.txn([guard], [PutOp(key, value, lease=self._lease_id())], failure)
        self.cacher.expect(value, decoded)
        try:
            response = self.store.txn([guard], [PutOp(key, value, lease=self._lease_id())], failure)
        finally:
            self.cacher.expect(None, None)
        if response.succeeded:
            self._remember(key, value, decoded)
        return response

    def _remember(self, key: str, value: bytes, decoded: dict) -> None:
        if not self._remembering:
            return
        written = self._written
        if len(written) >= _WRITTEN_KEPT and key not in written:
            written.clear()
            self._written_objects.clear()
        written[key] = value
        self._written_objects[key] = decoded

    def update_frozen(self, obj: FrozenDict, expected_revision: int, *, previous: dict | None = None,
                      added: tuple[str, str] | None = None) -> None:
        """``update`` for a frozen object without a resourceVersion, shaped as decoding its JSON would shape it:
        the watch cache takes it as the decoded object of this write (the in-memory store hands back the very
        bytes written), instead of decoding them again.

        ``added`` = (top-level field, name) says that ``obj[field]`` is ``previous[field]`` (the cached object
        at ``expected_revision``) with one more member ``name`` at its end: that field's JSON is then the stored
        one with the member appended, not encoded again (``splice``; the same bytes)."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        value = None
        if previous is not None and added is not None:
            if self._written_objects.get(key) is previous and \
                    previous["metadata"].get("resourceVersion") == str(expected_revision):
                # The cache got ``previous`` from the write of ``_written[key]``, at ``expected_revision``: while
                # the key is still at that revision (the txn's guard) the store holds those very bytes.
                value = splice(obj, previous, self._written[key], *added, trusted=True)
            else:
                stored = self.store.range(key).kvs
                if stored and stored[0].mod_revision == expected_revision:
                    value = splice(obj, previous, stored[0].value, *added)
        if value is None:
            value = dumps(obj).encode()
        cacher = self.cacher
        cacher.expect(value, obj)
        try:
            response = self.store.txn([Compare(key, "MOD", "=", expected_revision)],
                                      [PutOp(key, value, self._lease_id() if self.ttl else 0)], [RangeOp(key)])
        finally:
            cacher.expect(None, None)
        if not response.succeeded:
            existing = response.responses[0].kvs if response.responses else []
            if not existing:
                raise errors.not_found(self.kind.plural, metadata["name"], self.kind.group)
            raise errors.conflict(self.kind.plural, metadata["name"], errors.STALE_OBJECT, self.kind.group)
        self._remember(key, value, obj)

    def remove(self, obj: dict, expected_revision: int) -> dict:
        """Delete the object from etcd if it is still at ``expected_revision``."""
        metadata = obj["metadata"]
        key = self.key(metadata.get("namespace"), metadata["name"])
        response = self.store.txn([Compare(key, "MOD", "=", expected_revision)], [DeleteOp(key)], [])
        self._written.pop(key, None)
        self._written_objects.pop(key, None)
        if not response.succeeded:
            if self.get(metadata.get("namespace"), metadata["name"]) is None:
                raise errors.not_found(self.kind.plural, metadata["name"], self.kind.group)
            raise errors.conflict(self.kind.plural, metadata["name"], errors.STALE_OBJECT, self.kind.group)
        metadata["resourceVersion"] = str(response.revision)
        return obj
