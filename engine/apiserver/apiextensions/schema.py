"""The structural schema of a custom resource: pruning, defaulting and validation.

A CRD's ``openAPIV3Schema`` is *structural*: every field has a ``type`` and
every object says its ``properties`` (or keeps whatever comes with
``x-kubernetes-preserve-unknown-fields: true``). The API server applies it to
every custom resource it decodes, in this order, as the apiextensions
handlers do:

1. ``prune``: fields the schema does not declare are dropped (and reported,
   so ``fieldValidation`` can warn about them or refuse them);
2. ``apply_defaults``: a missing field with a ``default`` gets it;
3. ``validate``: types, ``required``, ``enum``, ``minimum``/``maximum``,
   ``minLength``/``maxLength``, ``pattern``, ``minItems``/``maxItems``,
   ``nullable``, with the messages kube-openapi writes (``spec.replicas in
   body must be of type integer: "string"``), each naming the field.

``apiVersion``, ``kind`` and ``metadata`` at the root are the API server's
own and are never pruned here. Every function takes plain dicts and never
raises on a malformed object: a wrong value becomes a cause.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from engine.api.validation.fields import Errors

ROOT_FIELDS = ("apiVersion", "kind", "metadata")

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _preserves(schema: dict) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def _map_values(schema: dict) -> dict | None:
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


# -- pruning ------------------------------------------------------------------------------------
def prune(schema: dict | None, obj: dict, *, remove: bool = True) -> list[str]:
    """Paths of the fields ``schema`` does not declare, in document order; removed when ``remove``."""
    found: list[str] = []
    if isinstance(schema, dict):
        _prune(obj, schema, "", found, remove, root=True)
    return found


def _prune(value: Any, schema: dict, path: str, found: list[str], remove: bool, root: bool = False) -> None:
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _prune(item, items, f"{path}[{index}]", found, remove)
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties") or {}
    extra = _map_values(schema)
    keep_unknown = _preserves(schema) or schema.get("additionalProperties") is True
    unknown = []
    for key in list(value):
        if root and key in ROOT_FIELDS:
            continue
        if key in properties:
            _prune(value[key], properties[key], _join(path, key), found, remove)
        elif extra is not None:
            _prune(value[key], extra, _join(path, key), found, remove)
        elif not keep_unknown:
            unknown.append(key)
            found.append(_join(path, key))
    if remove:
        for key in unknown:
            del value[key]


# -- defaulting ---------------------------------------------------------------------------------
def apply_defaults(schema: dict | None, obj: Any) -> None:
    """Fill every missing field that has a ``default`` (a copy of it), at any depth."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(schema["items"], item)
        return
    if not isinstance(obj, dict):
        return
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if key not in obj and "default" in prop:
            obj[key] = copy.deepcopy(prop["default"])
        if key in obj:
            apply_defaults(prop, obj[key])
    extra = _map_values(schema)
    if extra is not None:
        for key, item in obj.items():
            if key not in (schema.get("properties") or {}):
                apply_defaults(extra, item)


# -- validation ---------------------------------------------------------------------------------
def validate(schema: dict | None, obj: dict) -> list[dict]:
    """The causes of a 422 for ``obj`` under ``schema`` (empty when it is valid)."""
    errs = Errors()
    if isinstance(schema, dict):
        for key, prop in (schema.get("properties") or {}).items():
            if key in ROOT_FIELDS or key not in obj or not isinstance(prop, dict):
                continue
            _check(obj[key], prop, key, errs)
        for key in schema.get("required") or ():
            if key not in obj and key not in ROOT_FIELDS:
                errs.required(key)
    return list(errs)


def _check(value: Any, schema: dict, path: str, errs: Errors) -> None:
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            errs.type_invalid(path, value, schema["type"])
        return
    type_ = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _TYPES["integer"](value)):
            errs.type_invalid(path, value, "integer,string")
            return
    elif type_ in _TYPES and not _TYPES[type_](value):
        errs.type_invalid(path, value, type_)
        return
    if "enum" in schema and value not in schema["enum"]:
        errs.not_supported(path, value, [v if isinstance(v, str) else str(v) for v in schema["enum"]])
    if isinstance(value, str):
        _check_string(value, schema, path, errs)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(value, schema, path, errs)
    elif isinstance(value, list):
        _check_array(value, schema, path, errs)
    elif isinstance(value, dict):
        _check_object(value, schema, path, errs)


def _check_string(value: str, schema: dict, path: str, errs: Errors) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errs.too_long(path, schema["maxLength"])
    if "minLength" in schema and len(value) < schema["minLength"]:
        errs.invalid(path, value, f"{path} in body should be at least {schema['minLength']} chars long")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errs.invalid(path, value, f"{path} in body should match '{schema['pattern']}'")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _check_number(value: float, schema: dict, path: str, errs: Errors) -> None:
    if "minimum" in schema:
        low = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= low:
            errs.invalid(path, value, f"{path} in body should be greater than {_number(low)}")
        elif value < low:
            errs.invalid(path, value, f"{path} in body should be greater than or equal to {_number(low)}")
    if "maximum" in schema:
        high = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= high:
            errs.invalid(path, value, f"{path} in body should be less than {_number(high)}")
        elif value > high:
            errs.invalid(path, value, f"{path} in body should be less than or equal to {_number(high)}")


def _check_array(value: list, schema: dict, path: str, errs: Errors) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append({"reason": "FieldValueTooMany", "field": path,
                     "message": f"Too many: {len(value)}: must have at most {schema['maxItems']} items"})
    if "minItems" in schema and len(value) < schema["minItems"]:
        errs.invalid(path, value, f"{path} in body should have at least {schema['minItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _check(item, items, f"{path}[{index}]", errs)


def _check_object(value: dict, schema: dict, path: str, errs: Errors) -> None:
    properties = schema.get("properties") or {}
    for key, prop in properties.items():
        if key in value and isinstance(prop, dict):
            _check(value[key], prop, _join(path, key), errs)
    extra = _map_values(schema)
    if extra is not None:
        for key, item in value.items():
            if key not in properties:
                _check(item, extra, _join(path, key), errs)
    for key in schema.get("required") or ():
        if key not in value:
            errs.required(_join(path, key))


def describe(schema: dict | None, path: list[str]) -> dict | None:
    """The sub-schema at a field path (``["spec", "replicas"]``), for ``kubectl explain``; None if undeclared."""
    node = schema
    for name in path:
        if not isinstance(node, dict):
            return None
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            node = node["items"]
        node = (node.get("properties") or {}).get(name)
    return node if isinstance(node, dict) else None

