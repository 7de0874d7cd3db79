"""The informer's local cache (client-go tools/cache: ThreadSafeStore + Indexer).

An ``Indexer`` keeps the objects an informer has seen, keyed by
``namespace/name`` (``name`` for cluster-scoped objects: client-go's
``MetaNamespaceKeyFunc``), plus any number of named indexes: an index function
maps an object to a list of values (its namespace, its node name, its
owner's uid...) and ``by_index(name, value)`` finds every object with that
value without scanning the whole cache. The ``namespace`` index is built in.

Promises:
- every object stored is frozen (``engine.api.frozen``): readers share it,
  and an attempt to change it raises ``TypeError`` ("NEVER modify objects
  from the store. It's a read-only, local cache");
- indexes always agree with the objects: ``add``/``update``/``delete``/
  ``replace`` update both together;
- iteration order is deterministic: objects and index entries keep the order
  in which their keys were first stored (client-go's Go maps have no order;
  ours must, so that the same seed gives the same history).

``DeletedFinalStateUnknown`` is the tombstone an informer hands to
``on_delete`` when it learns of a deletion only by relisting, so it never saw
the object's final state; ``deletion_handling_key`` gives the key of an
object or of a tombstone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from engine.api.frozen import FrozenDict, freeze
from engine.api.meta import object_key

IndexFunc = Callable[[dict], list[str]]

NAMESPACE_INDEX = "namespace"
"""client-go's ``cache.NamespaceIndex``."""


@dataclass(frozen=True)
class DeletedFinalStateUnknown:
    """A deletion seen only as an absence: ``obj`` is the last state the cache had, maybe stale."""

    key: str
    obj: dict


def meta_namespace_key(obj: dict) -> str:
    """``namespace/name`` or ``name``: the key of an object in every cache and work queue."""
    return object_key(obj)


def deletion_handling_key(obj: Any) -> str:
    """The key of an object, or of a ``DeletedFinalStateUnknown`` tombstone (its recorded key)."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return object_key(obj)


def namespace_index_func(obj: dict) -> list[str]:
    """client-go's MetaNamespaceIndexFunc: the object's namespace ("" for cluster-scoped objects)."""
    return [(obj.get("metadata") or {}).get("namespace") or ""]


class Indexer:
    """A keyed store of frozen objects with named secondary indexes."""

    def __init__(self, indexers: dict[str, IndexFunc] | None = None, *, namespace_index: bool = True) -> None:
        self._items: dict[str, dict] = {}
        self._indexers: dict[str, IndexFunc] = {}
        self._indices: dict[str, dict[str, dict[str, None]]] = {}
        self.resource_version = ""
        """The resourceVersion given to the last ``replace`` (the list it came from)."""
        wanted = {NAMESPACE_INDEX: namespace_index_func} if namespace_index else {}
        wanted.update(indexers or {})
        self.add_indexers(wanted)

    # -- objects ------------------------------------------------------------------
    def add(self, obj: dict) -> None:
        """Store ``obj`` under its key (replacing what was there)."""
        self._put(meta_namespace_key(obj), obj)

    def update(self, obj: dict) -> None:
        self._put(meta_namespace_key(obj), obj)

    def put(self, key: str, obj: dict) -> dict | None:
        """Store ``obj`` under ``key`` (its ``meta_namespace_key``, which the caller has: client-go's
        ``ThreadSafeStore.Update(key, obj)``); returns the object it replaced, if any."""
        return self._put(key, obj)

    def delete(self, obj: Any) -> None:
        """Remove the object (or the object a tombstone names); a missing key is not an error."""
        self.delete_key(deletion_handling_key(obj))

    def delete_key(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._update_indices(old, None, key)

    def get(self, obj: dict) -> dict | None:
        """The stored object with the same key as ``obj``."""
        return self._items.get(deletion_handling_key(obj))

    def get_by_key(self, key: str) -> dict | None:
        return self._items.get(key)

    def list(self) -> list[dict]:
        return list(self._items.values())

    def list_keys(self) -> list[str]:
        return list(self._items)

    def replace(self, objects: Iterable[dict], resource_version: str = "") -> None:
        """Make the store hold exactly ``objects`` (from a list at ``resource_version``)."""
        fresh = {meta_namespace_key(obj): freeze(obj) for obj in objects}
        self._items = {}
        self._indices = {name: {} for name in self._indexers}
        for key, obj in fresh.items():
            self._put(key, obj)
        self.resource_version = resource_version

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- indexes ------------------------------------------------------------------
    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        """Add named index functions; objects already stored are indexed at once."""
        for name in indexers:
            if name in self._indexers:
                raise ValueError(f"indexer conflict: an index named {name!r} already exists")
        for name, func in indexers.items():
            self._indexers[name] = func
            index: dict[str, dict[str, None]] = {}
            self._indices[name] = index
            for key, obj in self._items.items():
                for value in func(obj):
                    index.setdefault(value, {})[key] = None

    def get_indexers(self) -> dict[str, IndexFunc]:
        return dict(self._indexers)

    def _index(self, index_name: str) -> dict[str, dict[str, None]]:
        try:
            return self._indices[index_name]
        except KeyError:
            raise KeyError(f"index with name {index_name!r} does not exist") from None

    def index_keys(self, index_name: str, value: str) -> list[str]:
        """Keys of the objects whose ``index_name`` values include ``value``."""
        return list(self._index(index_name).get(value, ()))

    def by_index(self, index_name: str, value: str) -> list[dict]:
        """The objects whose ``index_name`` values include ``value``."""
        items = self._items
        return [items[key] for key in self._index(index_name).get(value, ())]

    def index(self, index_name: str, obj: dict) -> list[dict]:
        """The objects sharing any ``index_name`` value with ``obj``."""
        index = self._index(index_name)
        keys: dict[str, None] = {}
        for value in self._indexers[index_name](obj):
            keys.update(index.get(value, {}))
        return [self._items[key] for key in keys]

    def list_index_func_values(self, index_name: str) -> list[str]:
        """Every value the index currently holds."""
        return list(self._index(index_name))

    # -- internals ----------------------------------------------------------------
    def _put(self, key: str, obj: dict) -> dict | None:
        if type(obj) is not FrozenDict:
            obj = freeze(obj)
        items = self._items
        old = items.get(key)
        items[key] = obj
        self._update_indices(old, obj, key)
        return old

    def _update_indices(self, old: dict | None, new: dict | None, key: str) -> None:
        for name, func in self._indexers.items():
            if func is namespace_index_func and old is not None and new is not None:
                continue                # one key, one namespace: the built-in index never changes on update
            old_values = func(old) if old is not None else []
            new_values = func(new) if new is not None else []
            if old_values == new_values:
                continue
            index = self._indices[name]
            for value in old_values:
                if value in new_values:
                    continue
                keys = index.get(value)
                if keys is not None:
                    keys.pop(key, None)
                    if not keys:
                        del index[value]
            for value in new_values:
                index.setdefault(value, {})[key] = None
