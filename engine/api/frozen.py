"""Read-only API objects, for caches that hand the same object to many readers.

client-go's rule for informer caches is "NEVER modify objects from the store.
It's a read-only, local cache": a controller that edits a cached Pod in place
corrupts what every other reader sees. With plain dicts that mistake would be
silent, so shared objects (watch events, informer caches) are frozen: they are
still ``dict`` and ``list`` (JSON and YAML dump them, ``obj["spec"]`` reads as
usual), but any attempt to change one raises a ``TypeError`` that says what to
do instead. ``thaw`` makes the deep, plain, mutable copy to change and write
back, like ``obj.DeepCopy()`` in Go.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

_ADVICE = ("objects from an informer cache or a watch are read-only and shared: make a copy with "
           "engine.api.thaw(obj) (Go: obj.DeepCopy()), change the copy, and write it through the client")


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError(_ADVICE)


class FrozenDict(dict):
    """A dict that refuses every change."""

    __slots__ = ()
    __setitem__ = __delitem__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> Any:
        return thaw(self)

    def __reduce__(self):  # pickles (and copy.deepcopy) as a plain dict
        return (dict, (thaw(self),))


class FrozenList(list):
    """A list that refuses every change."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore[assignment]

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> Any:
        return thaw(self)

    def __reduce__(self):
        return (list, (thaw(self),))


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types ``freeze`` and ``thaw`` return as they are: checked inline, so a leaf costs no call."""


def freeze(value: Any) -> Any:
    """A read-only deep copy of a JSON-shaped value (shares nothing mutable with the input)."""
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, dict):
        return FrozenDict({key: item if type(item) in _SCALARS else freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList([item if type(item) in _SCALARS else freeze(item) for item in value])
    return value


def _frozen_pairs(pairs: list[tuple[str, Any]]) -> FrozenDict:
    return FrozenDict([(key, _freeze_list(value) if type(value) is list else value) for key, value in pairs])


def _freeze_list(items: list) -> FrozenList:
    """A decoded array, frozen (its objects already are: the decoder's hook made them)."""
    return FrozenList([_freeze_list(item) if type(item) is list else item for item in items])


_FROZEN_DECODER = json.JSONDecoder(object_pairs_hook=_frozen_pairs)
"""One decoder for every call: ``json.loads`` with a hook builds a new decoder (and scanner) each time."""


def loads_frozen(text: str | bytes) -> Any:
    """Decode JSON straight into frozen objects: one pass, as cheap as a plain ``json.loads``."""
    value = _FROZEN_DECODER.decode(text if isinstance(text, str) else text.decode())
    return _freeze_list(value) if type(value) is list else value


class _NotJSON(Exception):
    """A value JSON would not give back as it is (a tuple, a subclass, a non-string key)."""


def _as_decoded(value: Any) -> Any:
    kind = type(value)
    if kind is dict or kind is FrozenDict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotJSON
            out[key] = item if type(item) in _SCALARS else _as_decoded(item)
        return FrozenDict(out)
    if kind is list or kind is FrozenList:
        return FrozenList([item if type(item) in _SCALARS else _as_decoded(item) for item in value])
    raise _NotJSON


def frozen_as_decoded(obj: dict, drop_version: bool = True) -> FrozenDict | None:
    """What ``loads_frozen`` gives for the JSON of ``obj`` (``metadata.resourceVersion`` left out when
    ``drop_version``), built without encoding and decoding: same keys in the same order, same values, frozen,
    sharing nothing mutable with ``obj``. None when ``obj`` holds anything JSON would not give back as it is
    (a tuple, a subclass of str or int, a key that is not a str, a metadata that is not an object): the caller
    then decodes the bytes as usual."""
    try:
        frozen = _as_decoded(obj)
    except (_NotJSON, RecursionError):
        return None
    metadata = frozen.get("metadata")
    if type(metadata) is not FrozenDict:
        return None
    if drop_version and "resourceVersion" in metadata:
        dict.__delitem__(metadata, "resourceVersion")     # not yet shared with anyone
    return frozen


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of a JSON-shaped value (frozen or not)."""
    if isinstance(value, dict):
        return {key: item if type(item) in _SCALARS else thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [item if type(item) in _SCALARS else thaw(item) for item in value]
    return value

