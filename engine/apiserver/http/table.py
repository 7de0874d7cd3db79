"""Server-side printing: the ``meta.k8s.io/v1`` Table the API server sends ``kubectl get``.

``kubectl get`` does not format objects itself: it asks with
``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and the API server's
table convertor for the kind answers with column definitions and one row of
cells per object. Columns of priority 1 are the ones kubectl shows only with
``-o wide``; the server always computes them (``GenerateOptions{Wide: true}``).

The cells come from ``engine.kubectl.printers``, the same printers the
in-process ``kubectl`` uses (one copy of ``printPod`` and friends). A kind with
no printer gets the real default convertor's two columns, Name and Created At.
Each row carries the object per ``includeObject``: ``Metadata`` (the default) as
a ``PartialObjectMetadata``, ``Object`` as the whole object, ``None`` without.
Ages are measured on the cluster's virtual clock.
"""

from __future__ import annotations

from typing import Any

from engine.api.kinds import Kind
from engine.apiserver.apiextensions.kind import CustomResourceKind, printer_cells
from engine.kubectl import printers

TABLE_MEDIA = "as=Table"

_DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, although some resources "
            "may allow a client to request the generation of an appropriate name automatically.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object was created.",
    "Created At": "CreationTimestamp is a timestamp representing the server time when this object was created.",
}
_EVENT_WIDE_ONLY = ("Subobject", "Source", "First Seen", "Count", "Name")


def wants_table(accept: str) -> bool:
    """True when the Accept header's first acceptable type is a meta.k8s.io Table."""
    for part in accept.split(","):
        media = part.replace(" ", "")
        if TABLE_MEDIA in media and "g=meta.k8s.io" in media:
            return True
        if media.split(";")[0] in ("application/json", "application/yaml", "*/*"):
            return False
    return False


def _column(name: str, priority: int) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": "string", "format": "", "description": _DESCRIPTIONS.get(name, name),
                              "priority": priority}
    if name == "Name":
        column["format"] = "name"
    elif name == "Created At":
        column["type"], column["format"] = "date", ""
    return column


def column_definitions(kind: Kind) -> list[dict[str, Any]]:
    """The TableColumnDefinitions of ``kind``'s convertor."""
    if isinstance(kind, CustomResourceKind):      # the CRD's additionalPrinterColumns
        return [_column("Name", 0)] + [
            {"name": column.get("name", ""), "type": column.get("type", "string"), "format": column.get("format", ""),
             "description": column.get("description", ""), "priority": column.get("priority", 0)}
            for column in kind.printer_columns]
    if kind.kind == "Event":
        return [_column(name, 1 if name in _EVENT_WIDE_ONLY else 0) for name in printers._EVENT_WIDE]
    if kind.kind not in printers.PRINTERS:
        return [_column("Name", 0), _column("Created At", 0)]
    columns, wide_columns, _ = printers.PRINTERS[kind.kind]
    return [_column(name, 0) for name in columns] + [_column(name, 1) for name in wide_columns]


def cells(kind: Kind, obj: dict, now: float) -> list[Any]:
    """One row's cells, wide columns included."""
    if isinstance(kind, CustomResourceKind):
        return printer_cells(kind, obj)
    if kind.kind not in printers.PRINTERS:
        metadata = obj.get("metadata") or {}
        return [metadata.get("name", ""), metadata.get("creationTimestamp")]
    _, _, row = printers.PRINTERS[kind.kind]
    return list(row(obj, now, True))


def _partial(obj: dict) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(kind: Kind, objects: list[dict], now: float, *, include_object: str | None = None,
          metadata: dict | None = None, with_columns: bool = True) -> dict[str, Any]:
    """A Table of ``objects``; ``include_object`` is the request's ``includeObject`` parameter."""
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": cells(kind, obj, now)}
        phase = (obj.get("status") or {}).get("phase") if kind.kind == "Pod" else None
        if phase in ("Succeeded", "Failed"):
            row["conditions"] = [{"type": "Completed", "status": "True", "reason": phase,
                                  "message": "The pod has completed successfully." if phase == "Succeeded"
                                  else "The pod failed."}]
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial(obj)
        rows.append(row)
    result: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata or {},
                              "columnDefinitions": column_definitions(kind) if with_columns else None, "rows": rows}
    return result


def list_table(kind: Kind, listing: dict, now: float, include_object: str | None) -> dict[str, Any]:
    """The Table for a List response: the list's resourceVersion and continue token carry over."""
    metadata = {key: value for key, value in (listing.get("metadata") or {}).items()
                if key in ("resourceVersion", "continue", "remainingItemCount")}
    return table(kind, listing.get("items") or [], now, include_object=include_object, metadata=metadata)
