"""Printers for configuration, identity, events, RBAC, storage, quotas and everything else.

Interface: one ``<kind>_row(obj, now, wide)`` per kind, ``event_object(event)``
(``pod/web``), ``created_at_row`` (NAME and CREATED AT, for roles and limit
ranges) and ``default_row`` (NAME and AGE, the API server's default table).
"""

from __future__ import annotations

from engine.kubectl.duration import age
from engine.kubectl.printers.cells import NONE, Row, created_age, dig


def configmap_row(obj: dict, now: float, wide: bool) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [obj["metadata"]["name"], str(count), created_age(obj, now)]


def secret_row(obj: dict, now: float, wide: bool) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("stringData") or {})
    return [obj["metadata"]["name"], obj.get("type", "Opaque"), str(count), created_age(obj, now)]


def namespace_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], dig(obj, "status", "phase") or "Active", created_age(obj, now)]


def serviceaccount_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], str(len(obj.get("secrets") or [])), created_age(obj, now)]


def _event_times(event: dict, now: float) -> tuple[str, str, int]:
    first_text = event.get("firstTimestamp") or event.get("eventTime")
    first = age(now, first_text)
    last = age(now, event["lastTimestamp"]) if event.get("lastTimestamp") else first
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series:
        last = age(now, series.get("lastObservedTime"))
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    return last, first, count


def event_object(event: dict) -> str:
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def _event_source(event: dict) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingController") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    if not component:
        return ""
    return component + (f", {host}" if host else "")


def event_row(obj: dict, now: float, wide: bool) -> Row:
    last, first, count = _event_times(obj, now)
    message = (obj.get("message") or "").strip()
    if wide:
        return [last, obj.get("type", ""), obj.get("reason", ""), event_object(obj),
                dig(obj, "involvedObject", "fieldPath") or "", _event_source(obj), message, first, str(count),
                obj["metadata"]["name"]]
    return [last, obj.get("type", ""), obj.get("reason", ""), event_object(obj), message]


def created_at_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], dig(obj, "metadata", "creationTimestamp") or ""]


def binding_row(obj: dict, now: float, wide: bool) -> Row:
    ref = obj.get("roleRef") or {}
    row = [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", created_age(obj, now)]
    if wide:
        subjects = obj.get("subjects") or []
        users = [s["name"] for s in subjects if s.get("kind") == "User"]
        groups = [s["name"] for s in subjects if s.get("kind") == "Group"]
        accounts = [f"{s.get('namespace', '')}/{s['name']}" for s in subjects if s.get("kind") == "ServiceAccount"]
        row += [", ".join(users), ", ".join(groups), ", ".join(accounts)]
    return row


def lease_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], dig(obj, "spec", "holderIdentity") or "", created_age(obj, now)]


def _access_modes(modes: list[str] | None) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(mode, mode) for mode in modes or [])


def pv_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    return [obj["metadata"]["name"], str((spec.get("capacity") or {}).get("storage", "")),
            _access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            status.get("phase", ""), claim_text, spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""), created_age(obj, now)]


def pvc_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = status.get("phase", "")
    if dig(obj, "metadata", "deletionTimestamp"):
        phase = "Terminating"
    bound = bool(spec.get("volumeName"))
    row = [obj["metadata"]["name"], phase, spec.get("volumeName", ""),
           str((status.get("capacity") or {}).get("storage", "")) if bound else "",
           _access_modes(status.get("accessModes")) if bound else "", spec.get("storageClassName") or "",
           spec.get("volumeAttributesClassName") or "<unset>", created_age(obj, now)]
    if wide:
        row.append(spec.get("volumeMode") or "Filesystem")
    return row


def storageclass_row(obj: dict, now: float, wide: bool) -> Row:
    name = obj["metadata"]["name"]
    annotations = dig(obj, "metadata", "annotations") or {}
    if annotations.get("storageclass.kubernetes.io/is-default-class") == "true" or \
            annotations.get("storageclass.beta.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    expansion = obj.get("allowVolumeExpansion")
    return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", "true" if expansion else "false", created_age(obj, now)]


def priorityclass_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], str(obj.get("value") or 0), "true" if obj.get("globalDefault") else "false",
            created_age(obj, now), obj.get("preemptionPolicy") or ""]


def pdb_row(obj: dict, now: float, wide: bool) -> Row:
    spec = obj.get("spec") or {}
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [obj["metadata"]["name"], "N/A" if min_available is None else str(min_available),
            "N/A" if max_unavailable is None else str(max_unavailable),
            str(dig(obj, "status", "disruptionsAllowed") or 0), created_age(obj, now)]


def quota_row(obj: dict, now: float, wide: bool) -> Row:
    hard = dig(obj, "status", "hard") or dig(obj, "spec", "hard") or {}
    used = dig(obj, "status", "used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        piece = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits.") else requests).append(piece)
    return [obj["metadata"]["name"], created_age(obj, now), ", ".join(requests), ", ".join(limits)]


def revision_row(obj: dict, now: float, wide: bool) -> Row:
    owner = next((ref for ref in dig(obj, "metadata", "ownerReferences") or [] if ref.get("controller")), None)
    controller = NONE
    if owner:
        group = owner.get("apiVersion", "").split("/")[0] if "/" in owner.get("apiVersion", "") else ""
        kind = owner.get("kind", "").lower() + (f".{group}" if group else "")
        controller = f"{kind}/{owner.get('name', '')}"
    return [obj["metadata"]["name"], controller, str(obj.get("revision", 0)), created_age(obj, now)]


def default_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], created_age(obj, now)]
