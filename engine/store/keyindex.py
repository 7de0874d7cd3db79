"""A map from keys to values that can also be read in key order: the index behind etcd's ``kvindex`` (its
B-tree of keys) and the watch cache's ``store`` of current objects.

etcd and the watch cache read one key far more often than a range of keys, and a write of a new key need not
pay for an ordered insert until someone asks for an order. ``KeyIndex`` keeps:

- ``data``: a plain dict, the source of truth for point reads and writes (``get``, ``in``, ``[]``); a caller
  may replace the value of a key already present straight in ``data`` (the order of keys does not change), but
  adds and removes keys only through the index;
- a ``SortedList`` of the keys, brought up to date only when an ordered read needs it: keys added since the
  last ordered read wait in an insertion-ordered set and are merged in one ``SortedList.update``.

Promises: every ordered read (``bisect_left``, ``keys_between``, ``values_between``, ``irange``, ``items``)
sees exactly the keys in ``data``, in sorted order; point operations cost one dict operation (plus one for a
new key or a delete). It never copies the whole collection on a write.
"""

from __future__ import annotations

from typing import Any, Iterator

from sortedcontainers import SortedList

_MISSING = object()


class KeyIndex:
    """A dict of ``str`` keys with ordered reads on demand."""

    __slots__ = ("data", "_sorted", "_fresh")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._sorted = SortedList()
        self._fresh: dict[str, None] = {}        # keys in ``data`` not yet in ``_sorted``

    # -- point operations -------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __setitem__(self, key: str, value: Any) -> None:
        data = self.data
        if key not in data:
            self._fresh[key] = None
        data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        if self._fresh.pop(key, _MISSING) is _MISSING:
            self._sorted.remove(key)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self.data[key]
        del self[key]
        return value

    # -- ordered reads ----------------------------------------------------------
    def _ordered(self) -> SortedList:
        if self._fresh:
            self._sorted.update(self._fresh)
            self._fresh.clear()
        return self._sorted

    def bisect_left(self, key: str) -> int:
        """The position ``key`` would take among the sorted keys."""
        return self._ordered().bisect_left(key)

    def keys_between(self, start: int, stop: int) -> list[str]:
        """The sorted keys from position ``start`` to ``stop`` (exclusive)."""
        return self._ordered()[start:stop]

    def values_between(self, start: int, stop: int) -> list[Any]:
        """The values of the sorted keys from position ``start`` to ``stop`` (exclusive)."""
        data = self.data
        return [data[key] for key in self._ordered()[start:stop]]

    def irange(self, minimum: str, maximum: str | None) -> Iterator[str]:
        """The keys ``minimum <= key < maximum`` (no upper bound when ``maximum`` is None), in order."""
        return self._ordered().irange(minimum, maximum, inclusive=(True, False))

    def keys(self) -> list[str]:
        """Every key, sorted."""
        return list(self._ordered())

    def items(self) -> list[tuple[str, Any]]:
        """Every (key, value), in key order."""
        data = self.data
        return [(key, data[key]) for key in self._ordered()]

    def values(self) -> list[Any]:
        """Every value, in key order."""
        data = self.data
        return [data[key] for key in self._ordered()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())
