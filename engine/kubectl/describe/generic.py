"""The generic describer: what kubectl prints for kinds without a describer of their own.

Interface: ``describe_generic(obj, client, now)`` and ``smart_label(field)``.
Name, Namespace, Labels and Annotations first, then every other field in key
order with "smart" labels (``apiVersion`` reads ``API Version``), nested maps
indented a level, then the object's events (``printUnstructuredContent``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.kubectl.describe.writer import (Writer, describe_events, find_events, go_bool, print_annotations,
                                            print_labels)

if TYPE_CHECKING:
    from engine.client.client import Client

_ACRONYMS = {"API", "URL", "UID", "OSB", "GUID"}


def smart_label(field: str) -> str:
    """``smartLabelFor``: ``apiVersion`` reads ``API Version``, ``creationTimestamp`` ``Creation Timestamp``."""
    if any(not (char.isalpha() or char == "-") for char in field):
        return field
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|-", field)
    words = []
    for part in parts:
        words.append(part.upper() if part.upper() in _ACRONYMS else part[:1].upper() + part[1:])
    return " ".join(words)


def _unstructured(w: Writer, level: int, content: dict, prefix: str, skip: set[str]) -> None:
    for field in sorted(content):
        value = content[field]
        expression = f"{prefix}.{field}"
        if expression in skip:
            continue
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            _unstructured(w, level + 1, value, expression, skip)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(w, level + 1, child, expression, skip)
                else:
                    w.write(level + 1, f"{_go(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{_go(value)}\n")


def _go(value: Any) -> str:
    if isinstance(value, bool):
        return go_bool(value)
    if value is None:
        return "<nil>"
    return str(value)


def describe_generic(obj: dict, client: "Client", now: float) -> str:
    """The generic describer: every field of the object, with events when there are any."""
    w = Writer()
    metadata = obj.get("metadata") or {}
    w.write(0, f"Name:\t{metadata.get('name', '')}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    _unstructured(w, 0, obj, "", {".metadata.name", ".metadata.namespace", ".metadata.labels",
                                  ".metadata.annotations"})
    describe_events(w, find_events(client, obj), now)
    return w.text()
