"""The fields of every built-in kind, for field validation: which fields of an object are unknown.

The real API server decodes a request body into the kind's Go type. A field the
type does not have cannot be kept: it is dropped (pruned), and what the server
says about it depends on the request's ``fieldValidation``:

- ``Strict`` (what kubectl sends by default since 1.27): the request fails with
  400 BadRequest, ``Pod in version "v1" cannot be handled as a Pod: strict
  decoding error: unknown field "spec.containers[0].imagee"``;
- ``Warn`` (the server's default): the field is dropped and each one comes back
  as a warning (kubectl prints ``Warning: unknown field "spec.foo"``);
- ``Ignore``: the field is dropped silently.

The types come from ``schema.json``, generated from the official client's
models by ``scripts/generate_api_schema.py``: every built-in kind, and for each type its JSON field names
and their types (``string``, ``integer``, ``number``, ``boolean``, ``object`` for
free-form values such as IntOrString or RawExtension, ``[]T``, ``map[string]T``,
or another type's name). A kind outside the built-in groups (a learner's own kind) keeps
every field, as a CustomResourceDefinition with
``x-kubernetes-preserve-unknown-fields`` does. Only field *names* are checked
here; values are checked by validation, which names the field in a 422.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from engine.api.frozen import thaw

STRICT = "Strict"
WARN = "Warn"
IGNORE = "Ignore"
DIRECTIVES = (STRICT, WARN, IGNORE)


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("schema.json").read_text())


BUILT_IN_GROUPS = frozenset({
    "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
    "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io",
    "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io"})
"""The groups Kubernetes itself serves. Any other group is a custom resource's: its fields are its own."""


@functools.lru_cache(maxsize=1024)
def type_of(api_version: str, kind: str) -> str | None:
    """The schema type of a kind (``V1Pod``, ``CoreV1Event``), or None when the kind has no schema.

    The client names a model ``<Version><Kind>``, prefixed with the group (``Core``, ``Events``,
    ``Authentication``) where two groups have a kind of the same name and version.
    """
    group, _, version = api_version.rpartition("/")
    if group not in BUILT_IN_GROUPS or not version:
        return None
    prefix = "".join(part.capitalize() for part in group.removesuffix(".k8s.io").split(".")) if group else "Core"
    kinds = _kinds()
    for name in (f"{prefix}{version.capitalize()}{kind}", f"{version.capitalize()}{kind}"):
        if name in kinds:
            return name
    return None


@functools.cache
def _kinds() -> frozenset[str]:
    return frozenset(_data()["kinds"])


def unknown_fields(obj: dict[str, Any], *, prune: bool = False) -> list[str]:
    """Paths of the fields ``obj`` has that its kind does not (``spec.containers[0].imagee``), in document order.

    With ``prune=True`` the fields are also removed from ``obj`` (which must be a mutable dict).
    """
    root = type_of(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    found: list[str] = []
    if root is not None and _has_unknown(obj, root):      # most objects have none: no paths to spell
        _walk(obj, root, "", found, prune)
    return found


_LEAVES = frozenset({str, int, float, bool, type(None)})
_LIST, _MAP, _OBJECT = 1, 2, 3
_shapes: dict[str, tuple[int, Any] | None] = {}
"""Each type name read once: ``(_LIST, item type)``, ``(_MAP, item type)``, ``(_OBJECT, fields)`` or None
(a scalar or a type without fields), so the walk below costs one dict lookup per value."""


def _shape(type_: str) -> tuple[int, Any] | None:
    shape = _shapes.get(type_, _shapes)
    if shape is not _shapes:
        return shape
    if type_.startswith("[]"):
        shape = (_LIST, type_[2:])
    elif type_.startswith("map[string]"):
        shape = (_MAP, type_[len("map[string]"):])
    else:
        fields = _data()["types"].get(type_)
        shape = None if fields is None else (_OBJECT, fields)
    _shapes[type_] = shape
    return shape


def _has_unknown(value: Any, type_: str) -> bool:
    """Whether ``_walk`` would find an unknown field under ``value`` (the same walk, without paths)."""
    if type(value) in _LEAVES:
        return False
    shape = _shapes.get(type_) if type_ in _shapes else _shape(type_)
    if shape is None:
        return False
    tag, detail = shape
    if tag == _OBJECT:
        if not isinstance(value, dict):
            return False
        for key, item in value.items():
            if key not in detail:
                return True
            if type(item) not in _LEAVES and _has_unknown(item, detail[key]):
                return True
        return False
    if tag == _LIST:
        return isinstance(value, list) and any(_has_unknown(item, detail) for item in value)
    return isinstance(value, dict) and any(_has_unknown(item, detail) for item in value.values())


def thaw_known(value: Any, type_: str) -> tuple[Any, bool]:
    """``(thaw(value), _has_unknown(thaw(value), type_))`` in one walk: the plain copy, and whether it has a
    field its type does not (then ``unknown_fields`` names them)."""
    if type(value) is dict and len(value) >= _COPIED_WHOLE:        # a wide object (an Event): copied at once
        shape = _shapes.get(type_) if type_ in _shapes else _shape(type_)
        if shape is not None and shape[0] == _OBJECT:
            return _thaw_wide(value, shape[1])
    return _thaw_known(value, type_)


def _thaw_known(value: Any, type_: str) -> tuple[Any, bool]:
    """``thaw_known``, field by field."""
    if type(value) in _LEAVES:
        return value, False
    shape = _shapes.get(type_) if type_ in _shapes else _shape(type_)
    if isinstance(value, dict):
        if shape is None or shape[0] == _LIST:
            return thaw(value), False
        tag, detail = shape
        out, unknown = {}, False
        for key, item in value.items():
            if tag == _OBJECT:
                if key not in detail:
                    unknown = True
                    out[key] = item if type(item) in _LEAVES else thaw(item)
                    continue
                item_type = detail[key]
            else:
                item_type = detail
            if type(item) in _LEAVES:
                out[key] = item
            else:
                out[key], found = _thaw_known(item, item_type)
                unknown = unknown or found
        return out, unknown
    if isinstance(value, list | tuple):
        if shape is None or shape[0] != _LIST:
            return thaw(value), False
        item_type, items, unknown = shape[1], [], False
        for item in value:
            if type(item) in _LEAVES:
                items.append(item)
            else:
                copy, found = _thaw_known(item, item_type)
                items.append(copy)
                unknown = unknown or found
        return items, unknown
    return value, False


_COPIED_WHOLE = 8
"""From this many fields on, ``thaw_known`` copies a top-level object at once and replaces its containers (fewer
steps per leaf); a smaller one is copied field by field (fewer steps in all)."""


def _thaw_wide(value: dict, fields: dict[str, str]) -> tuple[dict, bool]:
    """``thaw_known`` of a wide dict of an object type with these ``fields``."""
    out = dict(value)                   # leaves as they are; containers replaced by their copies below
    unknown = not value.keys() <= fields.keys()
    for key, item in value.items():
        if type(item) not in _LEAVES:
            item_type = fields.get(key)
            if item_type is None:
                out[key] = thaw(item)
            else:
                out[key], found = _thaw_known(item, item_type)
                unknown = unknown or found
    return out, unknown


@functools.cache
def knows(type_: str, names: tuple[str, ...]) -> bool:
    """Whether the object type ``type_`` has every field of ``names``."""
    shape = _shape(type_)
    return shape is not None and shape[0] == _OBJECT and all(name in shape[1] for name in names)


def _walk(value: Any, type_: str, path: str, found: list[str], prune: bool) -> None:
    if type_.startswith("[]"):
        if isinstance(value, list):
            for index, item in enumerate(value):
                _walk(item, type_[2:], f"{path}[{index}]", found, prune)
        return
    if type_.startswith("map[string]"):
        if isinstance(value, dict):
            for key, item in value.items():
                _walk(item, type_[len("map[string]"):], _join(path, key), found, prune)
        return
    fields = _data()["types"].get(type_)
    if fields is None or not isinstance(value, dict):
        return
    unknown = [key for key in value if key not in fields]
    for key in value:
        if key in fields:
            _walk(value[key], fields[key], _join(path, key), found, prune)
        else:
            found.append(_join(path, key))
    if prune:
        for key in unknown:
            del value[key]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def strict_error_text(paths: list[str]) -> str:
    """``strict decoding error: unknown field "a", unknown field "b"`` as apimachinery words it."""
    return "strict decoding error: " + ", ".join(f'unknown field "{path}"' for path in paths)
