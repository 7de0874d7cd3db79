"""Cell helpers shared by the table printers: labels, selectors, containers, ages, conditions.

Interface: ``Row`` and ``RowFunction`` (a printer is ``row(obj, now, wide) -> list[str]``),
``NONE`` (``<none>``), ``format_labels`` (``labels.FormatLabels``), ``selector_string``
(``LabelSelectorAsSelector(...).String()``), ``containers_and_images`` and
``template_cells`` (``layoutContainerCells``), ``created_age`` (the AGE cell),
``find_condition``, ``parse_time`` and ``dig`` (a nested field or a default).
"""

from __future__ import annotations

from typing import Any, Callable

from engine.api.meta import parse_timestamp
from engine.api.selectors import SelectorError, from_label_selector
from engine.kubectl.duration import age


Row = list[str]
RowFunction = Callable[[dict, float, bool], Row]
NONE = "<none>"


def dig(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def format_labels(labels: dict | None) -> str:
    """``labels.FormatLabels``: ``a=b,c=d`` sorted by key, ``<none>`` when empty."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """``metav1.LabelSelectorAsSelector(...).String()``."""
    try:
        return str(from_label_selector(selector))
    except SelectorError:
        return "<error>"


def containers_and_images(template_spec: dict | None) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma-joined."""
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers))


def created_age(obj: dict, now: float) -> str:
    return age(now, dig(obj, "metadata", "creationTimestamp"))


def find_condition(conditions: list[dict] | None, kind: str) -> dict | None:
    for condition in conditions or []:
        if condition.get("type") == kind:
            return condition
    return None


def parse_time(text: str | None) -> float | None:
    return parse_timestamp(text) if text else None


def template_cells(obj: dict) -> tuple[str, str]:
    return containers_and_images(dig(obj, "spec", "template", "spec"))
