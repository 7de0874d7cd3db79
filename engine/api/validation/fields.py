"""Field errors: Go's ``field.Error`` and ``field.Path``, rendered as the causes of a Status.

Mirrors ``k8s.io/apimachinery/pkg/util/validation/field``. ``Errors`` is an
``ErrorList`` whose items are already Status causes, ``{"reason", "message",
"field"}``: one method per Go constructor (``required``, ``invalid``,
``not_supported``, ``duplicate``, ``forbidden``, ``too_long``, ``not_found``,
``type_invalid``), each writing Go's ``ErrorBody()`` text, with the bad value
printed as Go prints it (``go_value``). ``child``, ``index`` and ``key`` build
paths as ``field.Path`` does (``spec.containers[0]``, ``data[key]``).

The typed getters (``get_string``, ``get_int``, ``get_object``, ...) read one
field of a manifest: a value of the wrong JSON type is reported once, as
``FieldValueTypeInvalid``, and then read as missing, so later checks never see
it. ``spec_diff`` prints the ``cmp.Diff``-like listing some update errors carry.
Nothing here knows any kind.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from engine.api.quantity import Quantity
from engine.api.selectors import go_quote

Cause = dict[str, str]


class GoValue:
    """A value already printed the way Go's ``%#v`` or ``String()`` prints it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def go_value(value: Any) -> str:
    """A bad value as ``field.Error.ErrorBody`` prints it."""
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return go_string_map(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def go_string_map(value: Mapping[str, str] | None) -> str:
    if value is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(value.items())) + "}"


class Errors(list):
    """An ``ErrorList`` whose items are already Status causes."""

    mistyped: set[str] | frozenset[str] = frozenset()
    """Paths already reported as the wrong type (the list's own set from the first one on)."""

    def _add(self, reason: str, path: str, message: str) -> None:
        self.append({"reason": reason, "message": message, "field": path})

    def required(self, path: str, detail: str = "") -> None:
        if path in self.mistyped:
            return  # a value of the wrong type was there: that was the mistake to report
        self._add("FieldValueRequired", path, "Required value" + (f": {detail}" if detail else ""))

    def invalid(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueInvalid", path, f"Invalid value: {go_value(value)}" + (f": {detail}" if detail else ""))

    def not_supported(self, path: str, value: Any, supported: Iterable[str]) -> None:
        listed = ", ".join(go_quote(v) for v in supported)
        self._add("FieldValueNotSupported", path,
                  f"Unsupported value: {go_value(value)}" + (f": supported values: {listed}" if listed else ""))

    def duplicate(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}" + (f": {detail}" if detail else ""))

    def forbidden(self, path: str, detail: str) -> None:
        self._add("FieldValueForbidden", path, "Forbidden" + (f": {detail}" if detail else ""))

    def too_long(self, path: str, max_bytes: int) -> None:
        self._add("FieldValueTooLong", path, f"Too long: must have at most {max_bytes} bytes")

    def not_found(self, path: str, value: Any, detail: str = "") -> None:
        self._add("FieldValueNotFound", path, f"Not found: {go_value(value)}" + (f": {detail}" if detail else ""))

    def type_invalid(self, path: str, value: Any, expected: str) -> None:
        if not self.mistyped:
            self.mistyped = set()
        self.mistyped.add(path)
        self._add("FieldValueTypeInvalid", path,
                  f"Invalid value: {go_value(value)}: {path} in body must be of type {expected}: {go_quote(_json_type(value))}")

    def nonnegative(self, path: str, value: int) -> None:
        if value < 0:
            self.invalid(path, value, "must be greater than or equal to 0")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


# Typed getters: a value of the wrong JSON type is reported once and read as missing.

def get_object(errs: Errors, parent: Mapping, name: str, path: str) -> dict | None:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is None or isinstance(value, dict):
        return value
    errs.type_invalid(path, value, "object")
    return None


def get_list(errs: Errors, parent: Mapping, name: str, path: str) -> list:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is None:
        return []
    if isinstance(value, list):
        return value
    errs.type_invalid(path, value, "array")
    return []


def get_items(errs: Errors, parent: Mapping, name: str, path: str) -> list[tuple[int, dict, str]]:
    """The object items of a list field, with their index paths."""
    return [(i, item, index(path, i)) for i, item in enumerate(get_list(errs, parent, name, path))
            if isinstance(item, dict)]  # other items were reported by the type pass


def get_string(errs: Errors, parent: Mapping, name: str, path: str) -> str:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is None or isinstance(value, str):
        return value or ""
    errs.type_invalid(path, value, "string")
    return ""


def get_int(errs: Errors, parent: Mapping, name: str, path: str) -> int | None:
    value = parent.get(name) if isinstance(parent, dict) else None
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    errs.type_invalid(path, value, "integer")
    return None


def get_string_map(errs: Errors, parent: Mapping, name: str, path: str) -> dict[str, str] | None:
    value = get_object(errs, parent, name, path)
    if value is None:
        return None
    good = {}
    for k, v in value.items():
        if isinstance(v, str):
            good[k] = v
        else:
            errs.type_invalid(key(path, k), v, "string")
    return good


def get_spec(errs: Errors, obj: dict) -> dict:
    return get_object(errs, obj, "spec", "spec") or {}


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k in value:
            _flatten(value[k], f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)
    else:
        out[prefix] = json.dumps(value)


def spec_diff(old: Any, new: Any, type_name: str) -> str:
    """A short cmp.Diff-like listing of what changed (``-`` old, ``+`` new)."""
    before, after = {}, {}
    _flatten(old, "", before)
    _flatten(new, "", after)
    lines = [f"  {type_name}{{"]
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            if path in before:
                lines.append(f"- \t{path}: {before[path]},")
            if path in after:
                lines.append(f"+ \t{path}: {after[path]},")
    lines.append("  }")
    return "\n".join(lines) + "\n"

