"""``kubectl apply``: create what is missing, patch what exists, the three-way way.

kubectl (client-side apply) keeps the manifest it last applied in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation. On the next
apply it computes a patch from three objects: the last applied manifest, the
new manifest and the live object. Fields in the new manifest are set; fields
that were in the last manifest but are gone from the new one are deleted;
fields nobody declared (status, defaults, what controllers added) are left
alone. The patch is sent as a strategic merge patch, so containers and ports
merge by name instead of being replaced wholesale.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Iterable

import yaml

from engine.api.conversion import in_storage_version
from engine.api.errors import NotFound
from engine.apiserver.apiextensions.kind import CustomResourceKind
from engine.apiserver.patch import (DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, PATCH_METADATA, RETAIN_KEYS,
                                    SET_ELEMENT_ORDER, PatchMeta, patch_meta)
from engine.client.client import MERGE_PATCH, STRATEGIC_MERGE_PATCH, Client

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def load_manifests(manifest: Any) -> list[dict]:
    """Objects from YAML text (multi-document), a dict, a list, a ``List`` kind, or a file path."""
    if isinstance(manifest, pathlib.Path) or (isinstance(manifest, str) and "\n" not in manifest
                                              and manifest.endswith((".yaml", ".yml", ".json"))):
        manifest = pathlib.Path(manifest).read_text()
    if isinstance(manifest, str):
        documents: Iterable[Any] = yaml.safe_load_all(manifest)
    elif isinstance(manifest, dict):
        documents = [manifest]
    else:
        documents = list(manifest)
    objects: list[dict] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ValueError(f"a manifest must be a mapping, not {type(document).__name__}")
        if document.get("kind", "").endswith("List") and isinstance(document.get("items"), list):
            objects.extend(load_manifests(document["items"]))
        else:
            objects.append(document)
    return objects


def three_way_patch(last: dict | None, new: dict, live: dict, type_name: str | None = None) -> dict:
    """The patch that turns ``live`` into ``new`` while deleting what ``last`` had and ``new`` dropped.

    ``type_name`` (the kind, for built-in kinds) lets lists merge as the strategic merge patch merges them
    (kubectl's CreateThreeWayMergePatch): a list with a merge key gets only its changed items, a
    ``{"$patch": "delete"}`` item for each one the last manifest had and the new one dropped, and
    ``$setElementOrder`` to keep the manifest's order; a merged list of strings gets
    ``$deleteFromPrimitiveList``. Without it (custom resources: a JSON merge patch) lists are replaced whole.
    """
    patch: dict[str, Any] = {}
    for key, value in new.items():
        live_value = live.get(key)
        last_value = (last or {}).get(key)
        meta = patch_meta(type_name, key) if type_name else None
        if isinstance(value, dict) and isinstance(live_value, dict):
            nested = three_way_patch(last_value if isinstance(last_value, dict) else None, value, live_value,
                                     meta.type if meta else None)
            if nested:
                if meta is not None and "retainKeys" in meta.strategy.split(","):
                    nested[RETAIN_KEYS] = sorted(value)
                patch[key] = nested
        elif meta is not None and meta.merges_list and isinstance(value, list) and isinstance(live_value, list):
            patch.update(_list_patch(key, last_value if isinstance(last_value, list) else [], value, live_value,
                                     meta))
        elif value != live_value:
            patch[key] = value
    for key in (last or {}):
        if key not in new and key in live:
            patch[key] = None
    return patch


def _list_patch(field: str, last: list, new: list, live: list, meta: PatchMeta) -> dict[str, Any]:
    """A merged list's part of the three-way patch (diffLists: changed items, deletions, the order)."""
    if not meta.key:                                   # a set of primitives (finalizers)
        added = [item for item in new if item not in live]
        dropped = [item for item in last if item not in new and item in live]
        patch: dict[str, Any] = {field: added} if added else {}
        if dropped:
            patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{field}"] = dropped
        return patch
    key = meta.key
    by_key = {item.get(key): item for item in live if isinstance(item, dict)}
    last_by_key = {item.get(key): item for item in last if isinstance(item, dict)}
    items: list[Any] = []
    for item in new:
        if not isinstance(item, dict) or item.get(key) not in by_key:
            items.append(item)
            continue
        nested = three_way_patch(last_by_key.get(item[key]), item, by_key[item[key]], meta.type)
        if nested:
            if "retainKeys" in meta.strategy.split(","):
                nested[RETAIN_KEYS] = sorted(item)
            items.append({key: item[key], **nested})
    kept = {item.get(key) for item in new if isinstance(item, dict)}
    items += [{key: name, DIRECTIVE: "delete"} for name in last_by_key if name not in kept and name in by_key]
    if not items and [item.get(key) for item in live if item.get(key) in kept] == \
            [item.get(key) for item in new if isinstance(item, dict)]:
        return {}
    return {f"{SET_ELEMENT_ORDER}/{field}": [{key: item.get(key)} for item in new if isinstance(item, dict)],
            field: items}


def apply_one(client: Client, obj: dict, namespace: str | None = None, *,
              field_validation: str = "Strict") -> tuple[dict, str]:
    """Apply one object; returns the stored object and what happened (created, configured, unchanged).

    ``field_validation`` is what kubectl sends for ``--validate``: ``Strict`` by default, so a
    misspelt field fails the request instead of vanishing.
    """
    manifest = in_storage_version(json.loads(json.dumps(obj)))      # an autoscaling/v1 HPA as the server stores it
    kind = client.server.registry.for_object(manifest)
    metadata = manifest.setdefault("metadata", {})
    if kind.namespaced:
        metadata["namespace"] = metadata.get("namespace") or namespace or "default"
    (metadata.get("annotations") or {}).pop(LAST_APPLIED, None)
    annotated = json.loads(json.dumps(manifest))
    annotated["metadata"].setdefault("annotations", {})[LAST_APPLIED] = (
        json.dumps(manifest, sort_keys=True, separators=(",", ":")) + "\n")
    name = metadata.get("name")
    try:
        live = client.get(kind.plural, name, metadata.get("namespace")) if name else None
    except NotFound:
        live = None
    if live is None:
        return client.create(annotated, field_validation=field_validation), "created"
    last_text = (live["metadata"].get("annotations") or {}).get(LAST_APPLIED)
    last = json.loads(last_text) if last_text else None
    patch = three_way_patch(last, annotated, live, kind.kind if kind.kind in PATCH_METADATA else None)
    if not patch:
        return live, "unchanged"
    # A custom resource has no strategic merge keys: kubectl sends it a JSON merge patch.
    patch_type = MERGE_PATCH if isinstance(kind, CustomResourceKind) else STRATEGIC_MERGE_PATCH
    patched = client.patch(kind.plural, name, patch, metadata.get("namespace"), patch_type=patch_type,
                           field_validation=field_validation)
    changed = patched["metadata"]["resourceVersion"] != live["metadata"]["resourceVersion"]
    return patched, "configured" if changed else "unchanged"
