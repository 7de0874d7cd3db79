"""Autoscaling: HorizontalPodAutoscaler.

Mirrors ``pkg/apis/autoscaling/validation`` for ``autoscaling/v2``: replica
bounds (at least one, max not below min), a scale target with a kind and a
name, and metrics of a known source type, each with a target of the right
type (a utilization, a value or an average value, positive).
"""

from __future__ import annotations

from typing import Any

from engine.api.validation.fields import Errors, GoValue, child, get_int, get_items, get_object, get_spec
from engine.api.validation.formats import is_valid_path_segment_name, name_is_dns_subdomain
from engine.api.validation.meta import validate_metadata
from engine.api.validation.resources import parse_resource_quantity

_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")


def _validate_metric_target(errs: Errors, target: Any, path: str) -> None:
    target = target if isinstance(target, dict) else {}
    ttype = target.get("type") or ""
    if not ttype:
        errs.required(child(path, "type"), "must specify a metric target type")
    if ttype not in ("Utilization", "Value", "AverageValue"):
        errs.invalid(child(path, "type"), ttype, "must be either Utilization, Value, or AverageValue")
    for field_name in ("value", "averageValue"):
        if target.get(field_name) is not None:
            q = parse_resource_quantity(errs, target[field_name], child(path, field_name))
            if q is not None and q.sign() != 1:
                errs.invalid(child(path, field_name), GoValue(str(q)), "must be positive")
    utilization = target.get("averageUtilization")
    if utilization is not None and utilization < 1:
        errs.invalid(child(path, "averageUtilization"), utilization, "must be greater than 0")


def validate_hpa(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    minimum = get_int(errs, spec, "minReplicas", "spec.minReplicas")
    maximum = get_int(errs, spec, "maxReplicas", "spec.maxReplicas") or 0
    if minimum is not None and minimum < 1:
        errs.invalid("spec.minReplicas", minimum, "must be greater than or equal to 1")
    if maximum < 1:
        errs.invalid("spec.maxReplicas", maximum, "must be greater than 0")
    if minimum is not None and maximum < minimum:
        errs.invalid("spec.maxReplicas", maximum, "must be greater than or equal to `minReplicas`")
    ref = get_object(errs, spec, "scaleTargetRef", "spec.scaleTargetRef") or {}
    for field_name in ("kind", "name"):
        value = str(ref.get(field_name) or "")
        if not value:
            errs.required(f"spec.scaleTargetRef.{field_name}")
        else:
            for msg in is_valid_path_segment_name(value):
                errs.invalid(f"spec.scaleTargetRef.{field_name}", value, msg)
    for _, metric, mpath in get_items(errs, spec, "metrics", "spec.metrics"):
        mtype = metric.get("type") or ""
        if not mtype:
            errs.required(child(mpath, "type"), "must specify a metric source type")
        if mtype not in _METRIC_TYPES:
            errs.not_supported(child(mpath, "type"), mtype, _METRIC_TYPES)
            continue
        field_name = mtype[0].lower() + mtype[1:]
        source = metric.get(field_name)
        if not isinstance(source, dict):
            errs.required(child(mpath, field_name), "must populate information for the given metric source")
            continue
        spath = child(mpath, field_name)
        if mtype in ("Resource", "ContainerResource"):
            if not source.get("name"):
                errs.required(child(spath, "name"), "must specify a resource name")
            target = source.get("target") if isinstance(source.get("target"), dict) else {}
            _validate_metric_target(errs, target, child(spath, "target"))
            if target.get("averageUtilization") is None and target.get("averageValue") is None:
                errs.required(child(child(spath, "target"), "averageUtilization"),
                              "must set either a target raw value or a target utilization")
            if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
                errs.forbidden(child(child(spath, "target"), "averageValue"),
                               "may not set both a target raw value and a target utilization")
        else:
            _validate_metric_target(errs, source.get("target"), child(spath, "target"))
