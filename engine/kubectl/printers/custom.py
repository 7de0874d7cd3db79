"""The table of a custom resource: its CRD's ``additionalPrinterColumns`` (``NAME`` and ``AGE`` without any).

As the apiextensions table convertor builds it and kubectl prints it: ``NAME``
first, then each column whose ``priority`` is 0 (all of them with ``-o wide``),
headed by the column's name in upper case; ``date`` columns print as an age,
and a value the JSON path does not find prints as ``<none>``.
"""

from __future__ import annotations

import json
from typing import Any

from engine.apiserver.apiextensions.kind import CustomResourceKind, at_path
from engine.kubectl.duration import age
from engine.kubectl.printers.cells import Row


def _columns(kind: CustomResourceKind, wide: bool) -> list[dict]:
    return [column for column in kind.printer_columns if wide or not column.get("priority")]


def headers(kind: CustomResourceKind, wide: bool) -> list[str]:
    return ["NAME", *(str(column.get("name", "")).upper() for column in _columns(kind, wide))]


def _cell(column: dict, value: Any, now: float) -> str:
    if value is None:
        return "<none>"
    if column.get("type") == "date" and isinstance(value, str):
        return age(now, value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def row(kind: CustomResourceKind, obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], *(_cell(column, at_path(obj, column.get("jsonPath", "")), now)
                                       for column in _columns(kind, wide))]
