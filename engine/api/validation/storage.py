"""Storage: PersistentVolume, PersistentVolumeClaim and StorageClass.

Mirrors the volume half of ``pkg/apis/core/validation``
(``ValidatePersistentVolume``, ``ValidatePersistentVolumeClaim`` and their
updates: access modes, a positive storage size, exactly one volume source, a
claim spec that only a bound claim may grow) and
``pkg/apis/storage/validation`` (``ValidateStorageClass``, whose provisioner,
parameters, reclaim policy and binding mode never change).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from engine.api.quantity import parse_quantity
from engine.api.selectors import is_label_key
from engine.api.validation.fields import (
    Errors, GoValue, child, get_list, get_object, get_spec, get_string, key, spec_diff,
)
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.meta import validate_label_selector, validate_object_meta, validate_object_meta_update
from engine.api.validation.resources import parse_resource_quantity

_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
_PV_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
               "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
               "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi")


def _access_modes(errs: Errors, spec: Mapping, path: str, required_detail: str) -> None:
    modes = get_list(errs, spec, "accessModes", path)
    if not modes:
        errs.required(path, required_detail)
    for mode in modes:
        if mode not in _ACCESS_MODES:
            errs.not_supported(path, mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and any(m in _ACCESS_MODES and m != "ReadWriteOncePod" for m in modes):
        errs.forbidden(path, "may not use ReadWriteOncePod with other access modes")


def _validate_pvc_spec(errs: Errors, spec: Any, path: str) -> None:
    spec = spec if isinstance(spec, dict) else {}
    _access_modes(errs, spec, child(path, "accessModes"), "at least 1 access mode is required")
    validate_label_selector(errs, spec.get("selector"), child(path, "selector"))
    resources = spec.get("resources") if isinstance(spec.get("resources"), dict) else {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    storage_path = key(child(path, "resources"), "storage")  # sic: no "requests" in the real path
    if "storage" not in requests:
        errs.required(storage_path)
    else:
        q = parse_resource_quantity(errs, requests["storage"], storage_path)
        if q is not None and q.sign() <= 0:
            errs.invalid(storage_path, str(q), "must be greater than zero")
    class_name = spec.get("storageClassName")
    if isinstance(class_name, str) and class_name:
        for msg in name_is_dns_subdomain(class_name, False):
            errs.invalid(child(path, "storageClassName"), class_name, msg)
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.not_supported(child(path, "volumeMode"), mode, ("Block", "Filesystem"))


def validate_pvc(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    _validate_pvc_spec(errs, obj.get("spec"), "spec")
    if old is not None:
        new_spec = json.loads(json.dumps(obj.get("spec") or {}))
        old_spec = json.loads(json.dumps(old.get("spec") or {}))
        if not old_spec.get("volumeName"):
            old_spec["volumeName"] = new_spec.get("volumeName")
            if old_spec["volumeName"] is None:
                old_spec.pop("volumeName")
        if (obj.get("status") or {}).get("phase") == "Bound":
            new_requests = (new_spec.get("resources") or {}).get("requests")
            if isinstance(new_requests, dict):
                new_requests["storage"] = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
        if new_spec != old_spec:
            errs.forbidden("spec", "spec is immutable after creation except resources.requests and "
                           "volumeAttributesClassName for bound claims\n" + spec_diff(old_spec, new_spec, "core.PersistentVolumeClaimSpec"))
        new_size = ((new_spec.get("resources") or {}).get("requests") or {}).get("storage")
        old_size = ((old_spec.get("resources") or {}).get("requests") or {}).get("storage")
        try:
            if new_size is not None and old_size is not None and parse_quantity(new_size) < parse_quantity(old_size):
                errs.forbidden("spec.resources.requests.storage", "field can not be less than previous value")
        except ValueError:
            pass


def validate_pv(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    spec = get_spec(errs, obj)
    _access_modes(errs, spec, "spec.accessModes", "")
    capacity = get_object(errs, spec, "capacity", "spec.capacity") or {}
    if not capacity:
        errs.required("spec.capacity")
    if "storage" not in capacity or len(capacity) > 1:
        errs.not_supported("spec.capacity", GoValue("core.ResourceList{...}" if capacity else "core.ResourceList(nil)"),
                           ("storage",))
    for name in sorted(capacity):
        q = parse_resource_quantity(errs, capacity[name], key("spec.capacity", name))
        if q is not None and q.sign() <= 0:
            errs.invalid(key("spec.capacity", name), str(q), "must be greater than zero")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        errs.not_supported("spec.persistentVolumeReclaimPolicy", policy, ("Delete", "Recycle", "Retain"))
    sources = [s for s in _PV_SOURCES if spec.get(s) is not None]
    for extra in sources[1:]:
        errs.forbidden(child("spec", extra), "may not specify more than 1 volume type")
    if not sources:
        errs.required("spec", "must specify a volume type")
    elif sources[0] == "hostPath" and not (spec["hostPath"] or {}).get("path"):
        errs.required("spec.hostPath.path")
    elif sources[0] == "local" and not spec.get("nodeAffinity"):
        errs.required("spec.nodeAffinity", "Local volume requires node affinity")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in ("Block", "Filesystem"):
        errs.not_supported("spec.volumeMode", mode, ("Block", "Filesystem"))
    if old is not None and spec.get("volumeMode") != (old.get("spec") or {}).get("volumeMode"):
        errs.invalid("volumeMode", spec.get("volumeMode"), "field is immutable")


def validate_storage_class(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
            errs.forbidden("parameters", "updates to parameters are forbidden.")
        if obj.get("provisioner") != old.get("provisioner"):
            errs.forbidden("provisioner", "updates to provisioner are forbidden.")
        if obj.get("reclaimPolicy") != old.get("reclaimPolicy"):
            errs.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
        if obj.get("volumeBindingMode") != old.get("volumeBindingMode"):
            errs.invalid("volumeBindingMode", obj.get("volumeBindingMode"), "field is immutable")
        return
    validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    provisioner = get_string(errs, obj, "provisioner", "provisioner")
    if not provisioner:
        errs.required("provisioner")
    else:
        for msg in is_label_key(provisioner.lower()):
            errs.invalid("provisioner", provisioner.lower(), msg)
    parameters = obj.get("parameters") or {}
    if len(parameters) > 512:
        errs.too_long("parameters", 512)
    policy = obj.get("reclaimPolicy")
    if policy and policy not in ("Delete", "Retain"):
        errs.not_supported("reclaimPolicy", policy, ("Delete", "Retain"))
    mode = obj.get("volumeBindingMode")
    if mode is None:
        errs.required("volumeBindingMode")
    elif mode not in ("Immediate", "WaitForFirstConsumer"):
        errs.not_supported("volumeBindingMode", mode, ("Immediate", "WaitForFirstConsumer"))
