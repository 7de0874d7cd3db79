"""A CustomResourceDefinition as a registry entry: what the API server serves for it.

``kind_from_crd(crd)`` reads the CRD's ``spec`` (group, names, scope, the
served storage version with its ``openAPIV3Schema``, ``subresources`` and
``additionalPrinterColumns``) into a ``CustomResourceKind``, the same
``Kind`` every built-in resource has plus what only custom resources carry.
Custom resources are stored under ``/registry/<group>/<plural>/`` as in the
real server. Two entries for the same resource compare equal whatever their
schema, so the API server can swap one for the next when a CRD changes.
Nothing here reads or writes the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.api.kinds import Kind

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
"""The finalizer a deleted CRD carries until every object of its kind is gone."""

AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
"""The column a CRD without ``additionalPrinterColumns`` gets (the tableconvertor's default)."""


@dataclass(frozen=True)
class CustomResourceKind(Kind):
    """A resource served because a CustomResourceDefinition asked for it."""

    crd_name: str = ""
    singular_name: str = ""
    schema: Any = field(default=None, compare=False, hash=False)
    """The served version's ``openAPIV3Schema`` (a plain dict), or None."""
    scale: Any = field(default=None, compare=False, hash=False)
    """``subresources.scale``: ``specReplicasPath``, ``statusReplicasPath``, ``labelSelectorPath``."""
    printer_columns: Any = field(default=(), compare=False, hash=False)
    terminating: bool = field(default=False, compare=False, hash=False)
    """The CRD is being deleted: new objects are refused (405), existing ones are being removed."""

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()


def served_version(spec: dict) -> dict | None:
    """The version to serve: the storage version when served, else the first served one."""
    versions = [v for v in spec.get("versions") or () if isinstance(v, dict) and v.get("served", True)]
    for version in versions:
        if version.get("storage"):
            return version
    return versions[0] if versions else None


def kind_from_crd(crd: dict, *, terminating: bool = False) -> CustomResourceKind | None:
    """The registry entry a CRD defines, or None when it serves no version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    version = served_version(spec)
    if version is None:
        return None
    subresources = version.get("subresources") or {}
    served_subresources = tuple(name for name in ("scale", "status") if name in subresources)
    group, plural = spec["group"], names["plural"]
    return CustomResourceKind(
        group=group, version=version["name"], kind=names["kind"], plural=plural,
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()), subresources=served_subresources,
        categories=tuple(names.get("categories") or ()), storage_prefix=f"{group}/{plural}", has_spec=False,
        crd_name=crd["metadata"]["name"], singular_name=names.get("singular") or "",
        schema=((version.get("schema") or {}).get("openAPIV3Schema")),
        scale=subresources.get("scale"),
        printer_columns=tuple(version.get("additionalPrinterColumns") or (AGE_COLUMN,)),
        terminating=terminating)


def at_path(obj: Any, json_path: str) -> Any:
    """The value at a simple JSON path (``.spec.replicas``), or None when any step is missing."""
    value = obj
    for part in json_path.strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def set_path(obj: dict, json_path: str, value: Any) -> None:
    """Set the value at a simple JSON path, creating the objects on the way."""
    parts = [part for part in json_path.strip(".").split(".") if part]
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def scale_of(kind: CustomResourceKind, obj: dict) -> dict:
    """The ``autoscaling/v1`` Scale of a custom resource, read through the CRD's scale paths."""
    scale = kind.scale or {}
    metadata = obj["metadata"]
    status: dict[str, Any] = {"replicas": at_path(obj, scale.get("statusReplicasPath", "")) or 0}
    if scale.get("labelSelectorPath"):
        selector = at_path(obj, scale["labelSelectorPath"])
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion",
                                                         "creationTimestamp") if key in metadata},
            "spec": {"replicas": at_path(obj, scale.get("specReplicasPath", "")) or 0}, "status": status}


def printer_cells(kind: CustomResourceKind, obj: dict) -> list[Any]:
    """One table row: the name, then each ``additionalPrinterColumns`` value (``None`` when absent)."""
    return [obj["metadata"].get("name", ""), *(at_path(obj, column.get("jsonPath", ""))
                                                for column in kind.printer_columns)]
