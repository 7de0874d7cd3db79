"""Versions a kind is served in besides the one it is stored in, and the conversion between them.

kube-apiserver serves some kinds in several versions of their group and stores each in one: a
HorizontalPodAutoscaler is stored as ``autoscaling/v2`` and also served as ``autoscaling/v1`` (which is
what ``kubectl autoscale`` of kubectl 1.32 and older creates). A request at the other version has its body
converted to the storage version on the way in and every object of the answer converted back on the way
out, through the internal version (``pkg/apis/autoscaling/v1/conversion.go``). The registry of kinds
(``engine.api.kinds``) holds storage versions only; ``served_versions()`` lists the others, and
``to_storage`` / ``from_storage`` convert one object (or a list of them), and ``in_storage_version`` a manifest
whatever its version (what the engine's kubectl applies and creates).

autoscaling/v1 HPA <-> v2, as upstream: ``targetCPUUtilizationPercentage`` is the cpu Utilization metric
(no target in v1 and no other metric: the explicit 80 % default); every other v2 field rides in the v1
object's annotations ``autoscaling.alpha.kubernetes.io/{metrics,current-metrics,conditions,behavior}``
(JSON), which are read back and removed on the way in; ``currentCPUUtilizationPercentage`` is the current
cpu utilization. What it never does: change the object it is given (it returns a new one).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Callable

from engine.api.kinds import Kind

METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior"
_ROUND_TRIP = (METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION)
DEFAULT_CPU_UTILIZATION = 80


@dataclass(frozen=True)
class ServedVersion:
    """A kind served at another version: its discovery entry, and the converters to and from storage."""

    kind: Kind
    storage_version: str
    to_storage: Callable[[dict], dict]
    from_storage: Callable[[dict], dict]


# -- autoscaling/v1 HorizontalPodAutoscaler ----------------------------------------------------------

def _is_cpu_utilization(metric: dict) -> bool:
    resource = metric.get("resource") or {}
    return metric.get("type") == "Resource" and resource.get("name") == "cpu" \
        and (resource.get("target") or {}).get("type") == "Utilization"


def _metric_to_v1(metric: dict) -> dict:
    """A v2 MetricSpec in the v1 annotation's shape (autoscaling/v1's MetricSpec: targetAverageValue ...)."""
    kind = metric.get("type", "")
    source = dict(metric.get(kind[:1].lower() + kind[1:]) or {})
    target = source.pop("target", None) or {}
    if "averageUtilization" in target:
        source["targetAverageUtilization"] = target["averageUtilization"]
    if "averageValue" in target:
        source["targetAverageValue"] = target["averageValue"]
    if "value" in target:
        source["targetValue"] = target["value"]
    return {"type": kind, kind[:1].lower() + kind[1:]: source}


def _metric_from_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    field = kind[:1].lower() + kind[1:]
    source = dict(metric.get(field) or {})
    target: dict = {}
    if "targetAverageUtilization" in source:
        target = {"type": "Utilization", "averageUtilization": source.pop("targetAverageUtilization")}
    elif "targetAverageValue" in source:
        target = {"type": "AverageValue", "averageValue": source.pop("targetAverageValue")}
    elif "targetValue" in source:
        target = {"type": "Value", "value": source.pop("targetValue")}
    return {"type": kind, field: {**source, "target": target}}


def _status_metric_to_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    field = kind[:1].lower() + kind[1:]
    source = dict(metric.get(field) or {})
    current = source.pop("current", None) or {}
    if "averageUtilization" in current:
        source["currentAverageUtilization"] = current["averageUtilization"]
    if "averageValue" in current:
        source["currentAverageValue"] = current["averageValue"]
    if "value" in current:
        source["currentValue"] = current["value"]
    return {"type": kind, field: source}


def _status_metric_from_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    field = kind[:1].lower() + kind[1:]
    source = dict(metric.get(field) or {})
    current = {}
    for old, new in (("currentAverageUtilization", "averageUtilization"), ("currentAverageValue", "averageValue"),
                     ("currentValue", "value")):
        if old in source:
            current[new] = source.pop(old)
    return {"type": kind, field: {**source, "current": current}}


def _annotation(meta: dict, name: str) -> object:
    text = (meta.get("annotations") or {}).get(name)
    return json.loads(text) if text else None


def hpa_v1_to_v2(obj: dict) -> dict:
    """Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler (then internal -> v2)."""
    meta = copy.deepcopy(obj.get("metadata") or {})
    spec_v1 = obj.get("spec") or {}
    status_v1 = obj.get("status") or {}
    spec: dict = {key: copy.deepcopy(spec_v1[key]) for key in ("scaleTargetRef", "minReplicas", "maxReplicas")
                  if key in spec_v1}
    metrics = []
    if spec_v1.get("targetCPUUtilizationPercentage") is not None:
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec_v1["targetCPUUtilizationPercentage"]}}})
    metrics += [_metric_from_v1(m) for m in _annotation(meta, METRICS_ANNOTATION) or ()]
    if not metrics:       # autoscaling/v1's implicit default, made explicit
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    spec["metrics"] = metrics
    behavior = _annotation(meta, BEHAVIOR_ANNOTATION)
    if behavior is not None:
        spec["behavior"] = behavior
    status: dict = {key: status_v1[key] for key in ("observedGeneration", "lastScaleTime", "currentReplicas",
                                                    "desiredReplicas") if key in status_v1}
    current = _annotation(meta, CURRENT_METRICS_ANNOTATION)
    if current is not None:
        status["currentMetrics"] = [_status_metric_from_v1(m) for m in current]
    elif status_v1.get("currentCPUUtilizationPercentage") is not None:
        status["currentMetrics"] = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status_v1["currentCPUUtilizationPercentage"]}}}]
    conditions = _annotation(meta, CONDITIONS_ANNOTATION)
    if conditions is not None:
        status["conditions"] = conditions
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _ROUND_TRIP}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    converted = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec}
    if obj.get("status") is not None:
        converted["status"] = status
    return converted


def hpa_v2_to_v1(obj: dict) -> dict:
    """Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler (from v2 through internal)."""
    meta = copy.deepcopy(obj.get("metadata") or {})
    spec_v2 = obj.get("spec") or {}
    status_v2 = obj.get("status") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _ROUND_TRIP}
    spec: dict = {key: copy.deepcopy(spec_v2[key]) for key in ("scaleTargetRef", "minReplicas", "maxReplicas")
                  if key in spec_v2}
    metrics = spec_v2.get("metrics") or []
    cpu = next((m for m in metrics if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu"),
               None)
    if cpu is not None and _is_cpu_utilization(cpu):
        spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    others = [_metric_to_v1(m) for m in metrics if not _is_cpu_utilization(m)]
    if others:
        annotations[METRICS_ANNOTATION] = json.dumps(others, separators=(",", ":"))
    if status_v2.get("currentMetrics"):
        annotations[CURRENT_METRICS_ANNOTATION] = json.dumps(
            [_status_metric_to_v1(m) for m in status_v2["currentMetrics"]], separators=(",", ":"))
    if spec_v2.get("behavior") is not None:
        annotations[BEHAVIOR_ANNOTATION] = json.dumps(spec_v2["behavior"], separators=(",", ":"))
    if status_v2.get("conditions"):
        annotations[CONDITIONS_ANNOTATION] = json.dumps(status_v2["conditions"], separators=(",", ":"))
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    status: dict = {key: status_v2[key] for key in ("observedGeneration", "lastScaleTime", "currentReplicas",
                                                    "desiredReplicas") if key in status_v2}
    status.setdefault("currentReplicas", 0)
    status.setdefault("desiredReplicas", 0)
    for metric in status_v2.get("currentMetrics") or ():
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            utilization = (resource.get("current") or {}).get("averageUtilization")
            if utilization is not None:
                status["currentCPUUtilizationPercentage"] = utilization
    return {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec,
            "status": status}


_ALL = ("all",)
SERVED_VERSIONS: tuple[ServedVersion, ...] = (
    ServedVersion(Kind("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",),
                       ("status",), _ALL), "v2", hpa_v1_to_v2, hpa_v2_to_v1),
)


def served_versions() -> tuple[ServedVersion, ...]:
    """Every (kind, version) served besides the storage versions of the registry."""
    return SERVED_VERSIONS


def served_version(group: str, version: str, plural: str) -> ServedVersion | None:
    """The non-storage version ``group/version`` of resource ``plural``, if one is served."""
    return next((s for s in SERVED_VERSIONS if (s.kind.group, s.kind.version, s.kind.plural) == (group, version, plural)),
                None)


def in_storage_version(obj: dict) -> dict:
    """A manifest at a served non-storage version (an ``autoscaling/v1`` HPA) converted to the storage version, as
    the API server converts it on arrival; any other manifest as it is."""
    if not isinstance(obj, dict):
        return obj
    served = next((s for s in SERVED_VERSIONS if s.kind.api_version == obj.get("apiVersion")
                   and s.kind.kind == obj.get("kind")), None)
    return served.to_storage(obj) if served is not None else obj


def to_storage(served: ServedVersion, obj: dict) -> dict:
    """A request body at the served version, in the storage version (other kinds, e.g. DeleteOptions, as is)."""
    if isinstance(obj, dict) and obj.get("kind") == served.kind.kind:
        return served.to_storage(obj)
    return obj


def from_storage(served: ServedVersion, obj: object) -> object:
    """An answer (an object, a list of them, a Table, a Status) with each object at the served version."""
    if not isinstance(obj, dict):
        return obj
    if obj.get("kind") == served.kind.kind:
        return served.from_storage(obj)
    if obj.get("kind") == served.kind.list_kind:
        return {**obj, "apiVersion": served.kind.api_version,
                "items": [served.from_storage(item) for item in obj.get("items") or ()]}
    return obj
