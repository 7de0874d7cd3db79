"""Resources: resource names, quantities, container requirements, LimitRange and ResourceQuota.

Mirrors the resource half of ``pkg/apis/core/validation``:
``ValidateResourceRequirements`` (standard or fully qualified names, requests
no greater than limits, equal for resources that cannot be overcommitted,
hugepages only with cpu or memory), ``ValidateResourceQuantityValue`` (never
negative, whole for countable resources), ``ValidateLimitRange`` and
``ValidateResourceQuota``.

A quantity that does not parse is reported here as ``FieldValueInvalid`` with
the parser's message; the real API server rejects it earlier, with a 400, as
it decodes the request.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api.quantity import Quantity, parse_quantity
from engine.api.selectors import is_label_key
from engine.api.validation.fields import Errors, GoValue, child, get_items, get_object, get_spec, key
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.meta import validate_metadata

_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_STANDARD_RESOURCES = _STANDARD_CONTAINER_RESOURCES | {
    "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
    "persistentvolumeclaims", "configmaps", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers"}
_STANDARD_QUOTA_RESOURCES = _STANDARD_RESOURCES - {"storage"}
_INTEGER_RESOURCES = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-") or name.startswith("requests.hugepages-") or name.startswith("limits.hugepages-")


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    return not _is_native(name) and not name.startswith("requests.") and not is_label_key("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not _is_hugepages(name)


def _is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or _is_extended(name) or name.startswith("count/")


def _resource_name_errors(errs: Errors, name: str, path: str, standard: set[str], message: str) -> None:
    msgs = is_label_key(name)
    for msg in msgs:
        errs.invalid(path, name, msg)
    if msgs:
        return
    if "/" not in name and name not in standard and not _is_hugepages(name):
        errs.invalid(path, name, message)


def _container_resource_name(errs: Errors, name: str, path: str) -> None:
    before = len(errs)
    _resource_name_errors(errs, name, path, _STANDARD_RESOURCES, "must be a standard resource type or fully qualified")
    if len(errs) > before:
        return
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errs.invalid(path, name, "must be a standard resource for containers")
    elif not _is_native(name) and not _is_extended(name):
        errs.invalid(path, name, "doesn't follow extended resource name standard")


def parse_resource_quantity(errs: Errors, value: Any, path: str) -> Quantity | None:
    """A quantity from a manifest, or a cause at ``path`` (the real server answers 400 when it decodes)."""
    if isinstance(value, str):
        value = value.strip()  # Quantity.UnmarshalJSON trims spaces
    try:
        return parse_quantity(value)
    except ValueError as err:
        errs.invalid(path, value, str(err))
        return None


def validate_quantity_value(errs: Errors, name: str, q: Quantity, path: str) -> None:
    """ValidateResourceQuantityValue: not negative, and whole for integer resources."""
    if q.sign() < 0:
        errs.invalid(path, str(q), "must be greater than or equal to 0")
    if _is_integer_resource(name) and q.milli_value() % 1000 != 0:
        errs.invalid(path, GoValue(str(q)), "must be an integer")


def parse_resource_list(errs: Errors, parent: Mapping, field_name: str, path: str) -> dict[str, Quantity]:
    out = {}
    raw = get_object(errs, parent, field_name, path)
    for name in sorted(raw or {}):
        q = parse_resource_quantity(errs, raw[name], key(path, name))
        if q is not None:
            out[name] = q
    return out


def validate_resource_requirements(errs: Errors, resources: Any, path: str) -> None:
    if not isinstance(resources, dict):
        if resources is not None:
            errs.type_invalid(path, resources, "object")
        return
    lim_path, req_path = child(path, "limits"), child(path, "requests")
    limits = parse_resource_list(errs, resources, "limits", lim_path)
    requests = parse_resource_list(errs, resources, "requests", req_path)
    lim_cpu_mem = req_cpu_mem = lim_huge = req_huge = False
    for name, q in limits.items():
        _container_resource_name(errs, name, key(lim_path, name))
        validate_quantity_value(errs, name, q, key(lim_path, name))
        lim_huge = lim_huge or name.startswith("hugepages-")
        lim_cpu_mem = lim_cpu_mem or name in ("cpu", "memory")
    for name, q in requests.items():
        _container_resource_name(errs, name, key(req_path, name))
        validate_quantity_value(errs, name, q, key(req_path, name))
        limit = limits.get(name)
        if limit is not None:
            if q != limit and not _overcommit_allowed(name):
                errs.invalid(req_path, str(q), f"must be equal to {name} limit of {limit}")
            elif q > limit:
                errs.invalid(req_path, str(q), f"must be less than or equal to {name} limit of {limit}")
        elif not _overcommit_allowed(name):
            errs.required(lim_path, "Limit must be set for non overcommitable resources")
        req_huge = req_huge or name.startswith("hugepages-")
        req_cpu_mem = req_cpu_mem or name in ("cpu", "memory")
    if not lim_cpu_mem and not req_cpu_mem and (lim_huge or req_huge):
        errs.forbidden(path, "HugePages require cpu or memory")


_LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")


def validate_limit_range(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    seen_types: set[str] = set()
    for _, item, ipath in get_items(errs, get_spec(errs, obj), "limits", "spec.limits"):
        ltype = str(item.get("type") or "")
        msgs = is_label_key(ltype)
        for msg in msgs:
            errs.invalid(child(ipath, "type"), ltype, msg)
        if not msgs and "/" not in ltype and ltype not in _LIMIT_TYPES:
            errs.invalid(child(ipath, "type"), ltype, "must be a standard limit type or fully qualified")
        if ltype in seen_types:
            errs.duplicate(child(ipath, "type"), ltype)
        seen_types.add(ltype)
        lists: dict[str, dict[str, Quantity]] = {}
        for field_name in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            if ltype == "Pod" and field_name in ("default", "defaultRequest"):
                if item.get(field_name):
                    errs.forbidden(child(ipath, field_name), "may not be specified when `type` is 'Pod'")
                continue
            lists[field_name] = parse_resource_list(errs, item, field_name, child(ipath, field_name))
            for name in lists[field_name]:
                if ltype in ("Pod", "Container"):
                    _container_resource_name(errs, name, key(child(ipath, field_name), name))
        if ltype == "PersistentVolumeClaim" and "storage" not in lists["min"] and "storage" not in lists["max"]:
            errs.required(child(ipath, "limits"), "either minimum or maximum storage value is required, but neither was provided")
        names = set().union(*(set(v) for v in lists.values()))
        for name in sorted(names):
            mn, mx = lists["min"].get(name), lists["max"].get(name)
            df, dr = lists.get("default", {}).get(name), lists.get("defaultRequest", {}).get(name)
            ratio = lists["maxLimitRequestRatio"].get(name)
            if mn is not None and mx is not None and mn > mx:
                errs.invalid(key(child(ipath, "min"), name), GoValue(str(mn)), f"min value {mn} is greater than max value {mx}")
            if dr is not None and mn is not None and mn > dr:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"min value {mn} is greater than default request value {dr}")
            if dr is not None and mx is not None and dr > mx:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"default request value {dr} is greater than max value {mx}")
            if dr is not None and df is not None and dr > df:
                errs.invalid(key(child(ipath, "defaultRequest"), name), GoValue(str(dr)),
                             f"default request value {dr} is greater than default limit value {df}")
            if df is not None and mn is not None and mn > df:
                errs.invalid(key(child(ipath, "default"), name), GoValue(str(mn)), f"min value {mn} is greater than default value {df}")
            if df is not None and mx is not None and df > mx:
                errs.invalid(key(child(ipath, "default"), name), GoValue(str(mx)), f"default value {df} is greater than max value {mx}")
            if ratio is not None and ratio < 1:
                errs.invalid(key(child(ipath, "maxLimitRequestRatio"), name), GoValue(str(ratio)), f"ratio {ratio} is less than 1")


def validate_resource_quota(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    for name, q in parse_resource_list(errs, spec, "hard", "spec.hard").items():
        path = key("spec.hard", name)
        before = len(errs)
        _resource_name_errors(errs, name, path, _STANDARD_RESOURCES, "must be a standard resource type or fully qualified")
        if len(errs) == before and "/" not in name and name not in _STANDARD_QUOTA_RESOURCES and not _is_hugepages(name):
            errs.invalid(path, name, "must be a standard resource for quota")
        validate_quantity_value(errs, name, q, path)
    scopes = spec.get("scopes") or []
    valid = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity")
    if any(s not in valid for s in scopes):
        errs.invalid("spec.scopes", scopes, "unsupported scope")
    if {"BestEffort", "NotBestEffort"} <= set(scopes) or {"Terminating", "NotTerminating"} <= set(scopes):
        errs.invalid("spec.scopes", scopes, "conflicting scopes")
    if old is not None and set(scopes) != set((old.get("spec") or {}).get("scopes") or []):
        errs.invalid("spec.scopes", scopes, "field is immutable")
