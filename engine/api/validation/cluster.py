"""Cluster objects: Namespace, Node, Lease, ServiceAccount and Event.

Mirrors ``ValidateNamespace``, ``ValidateNode`` (taints, reported at Go's
``metadata.taints``; capacity; podCIDRs and providerID that may only be set
once), ``ValidateServiceAccount`` and ``ValidateEventCreate`` in
``pkg/apis/core/validation``, and ``pkg/apis/coordination/validation`` for
the Lease a node renews as its heartbeat.
"""

from __future__ import annotations

from typing import Mapping

from engine.api.selectors import go_quote, is_label_key, is_label_value
from engine.api.validation.fields import Errors, GoValue, child, get_int, get_items, index
from engine.api.validation.formats import name_is_dns_label, name_is_dns_subdomain, validate_cidr
from engine.api.validation.meta import (
    STANDARD_FINALIZERS, validate_metadata, validate_object_meta, validate_object_meta_update,
)
from engine.api.validation.resources import parse_resource_list, validate_quantity_value


def validate_namespace(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        return
    validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_label)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    for finalizer in spec.get("finalizers") or []:
        finalizer = str(finalizer)
        for msg in is_label_key(finalizer):
            errs.invalid("spec.finalizers", finalizer, msg)
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errs.invalid("spec.finalizers", finalizer, "name is neither a standard finalizer name nor is it fully qualified")


def _validate_taints(errs: Errors, spec: Mapping, path: str) -> None:
    unique: dict[str, set[str]] = {}
    for _, taint, tpath in get_items(errs, spec, "taints", path):
        tkey = str(taint.get("key") or "")
        for msg in is_label_key(tkey):
            errs.invalid(child(tpath, "key"), tkey, msg)
        if msgs := is_label_value(str(taint.get("value") or "")):
            errs.invalid(child(tpath, "value"), taint.get("value") or "", ";".join(msgs))
        effect = taint.get("effect") or ""
        if not effect:
            errs.required(child(tpath, "effect"))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.not_supported(child(tpath, "effect"), effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        if tkey in unique.get(effect, set()):
            errs.duplicate(tpath, GoValue(f"core.Taint{{Key:{go_quote(tkey)}, Value:{go_quote(str(taint.get('value') or ''))}, "
                                          f"Effect:{go_quote(effect)}, TimeAdded:(*v1.Time)(nil)}}"),
                           "taints must be unique by key and effect pair")
            continue
        unique.setdefault(effect, set()).add(tkey)


def validate_node(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if old is None:
        validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    else:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    _validate_taints(errs, spec, "metadata.taints")  # sic: the real path
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    for field_name in ("capacity", "allocatable"):
        for name, q in parse_resource_list(errs, status, field_name, f"status.{field_name}").items():
            validate_quantity_value(errs, name, q, f"status.{field_name}.{name}")
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    for i, cidr in enumerate(cidrs):
        validate_cidr(errs, index("spec.podCIDRs", i), str(cidr))
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        old_cidrs = old_spec.get("podCIDRs") or ([old_spec["podCIDR"]] if old_spec.get("podCIDR") else [])
        if old_cidrs and old_cidrs != cidrs:
            errs.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
            errs.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')


def validate_service_account(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)


def validate_event(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    involved = obj.get("involvedObject") if isinstance(obj.get("involvedObject"), dict) else {}
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    if involved.get("namespace") and involved["namespace"] != namespace:
        errs.invalid("involvedObject.namespace", involved["namespace"], "does not match event.namespace")


_VALID_NAMESPACES: set[str] = set()
"""Namespace names already found to be DNS labels (a few, named by every Event): checked once each."""


def validate_plain_event(obj: dict, errs: Errors) -> None:
    """``validate_event`` of a new Event whose metadata holds only strings or nulls among name, generateName,
    namespace, uid, resourceVersion and timestamps (``decoder.plainly_typed_event``): ObjectMeta's create checks
    of those fields written out, the same causes in the same order."""
    metadata = obj["metadata"]
    generate_name, name = metadata.get("generateName") or "", metadata.get("name") or ""
    if generate_name:
        for msg in name_is_dns_subdomain(generate_name, True):
            errs.invalid("metadata.generateName", generate_name, msg)
    if not name:
        if not generate_name:
            errs.required("metadata.name", "name or generateName is required")
    else:
        for msg in name_is_dns_subdomain(name, False):
            errs.invalid("metadata.name", name, msg)
    namespace = metadata.get("namespace") or ""
    if not namespace:
        errs.required("metadata.namespace")
    elif namespace not in _VALID_NAMESPACES:
        messages = name_is_dns_label(namespace, False)
        for msg in messages:
            errs.invalid("metadata.namespace", namespace, msg)
        if not messages:
            if len(_VALID_NAMESPACES) >= 1024:
                _VALID_NAMESPACES.clear()
            _VALID_NAMESPACES.add(namespace)
    involved = obj.get("involvedObject")
    if involved and involved.get("namespace") and involved["namespace"] != namespace:
        errs.invalid("involvedObject.namespace", involved["namespace"], "does not match event.namespace")


def validate_lease(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    duration = get_int(errs, spec, "leaseDurationSeconds", "spec.leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    transitions = get_int(errs, spec, "leaseTransitions", "spec.leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
