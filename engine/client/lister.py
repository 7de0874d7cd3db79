"""Listers (client-go's generated listers, e.g. ``listers/core/v1.PodLister``): reads from an informer's cache.

A controller's ``sync(key)`` reads the world through listers, never through
the API server: ``lister.get("default", "web")`` and
``lister.list(namespace="default", selector="app=web")`` answer from the
informer's ``Indexer`` at once, with what the informer has seen so far (which
may be a little behind the API server: that is the nature of a cache).

Promises:
- objects returned are the cache's frozen objects, shared with every other
  reader: copy one with ``engine.api.thaw`` before changing it;
- ``get`` returns None for an object the cache does not hold (client-go
  returns a NotFound error; ``None`` reads better in Python, and a sync
  treats both the same way: the object is gone, nothing to do);
- ``list`` with a namespace uses the ``namespace`` index, not a scan.

A selector may be a label selector string (``"app=web,tier!=db"``), an API
``LabelSelector`` dict (``{"matchLabels": {...}, "matchExpressions": [...]}``)
or an ``engine.api.selectors.LabelSelector``. ``None`` lists everything, as
``labels.Everything()`` does; note that an API object whose ``selector``
field is *missing* selects nothing, so pass ``from_label_selector(None)``
(``NOTHING``) if that is what you mean.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api.meta import split_key
from engine.api.selectors import LabelSelector, from_label_selector, parse
from engine.client.cache import NAMESPACE_INDEX, Indexer

Selector = str | Mapping[str, Any] | LabelSelector | None


def as_label_selector(selector: Selector) -> LabelSelector | None:
    """The ``LabelSelector`` a lister argument means; None when it selects everything."""
    if selector is None:
        return None
    if isinstance(selector, LabelSelector):
        resolved = selector
    elif isinstance(selector, str):
        resolved = parse(selector)
    else:
        resolved = from_label_selector(selector)
    return None if resolved.empty else resolved


class Lister:
    """Read-only queries over one informer's cache."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer

    def list(self, namespace: str | None = None, selector: Selector = None) -> list[dict]:
        """Objects in ``namespace`` (all namespaces if None) whose labels match ``selector``."""
        matcher = as_label_selector(selector)
        if namespace is None:
            objects = self.indexer.list()
        else:
            objects = self.indexer.by_index(NAMESPACE_INDEX, namespace)
        if matcher is None:
            return objects
        return [obj for obj in objects if matcher.matches((obj.get("metadata") or {}).get("labels"))]

    def get(self, namespace_or_key: str | None, name: str | None = None) -> dict | None:
        """One object: ``get("default", "web")``, ``get("default/web")``, or ``get(None, "node-1")``."""
        if name is None:
            if namespace_or_key is None:
                raise TypeError("get() needs a key (\"namespace/name\") or a namespace and a name")
            namespace, name = split_key(namespace_or_key)
        else:
            namespace = namespace_or_key
        return self.indexer.get_by_key(f"{namespace}/{name}" if namespace else name)

    def by_index(self, index_name: str, value: str) -> list[dict]:
        """Objects whose ``index_name`` values include ``value`` (an informer's custom index)."""
        return self.indexer.by_index(index_name, value)

    def __len__(self) -> int:
        return len(self.indexer)
