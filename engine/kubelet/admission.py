"""The kubelet's own admission: may this pod run on this node? (``lifecycle/predicate.go``)

The scheduler already checked, but the kubelet checks again against what it
really runs, because a pod can be bound with ``spec.nodeName`` set by hand,
or the node can have filled up since. The kubelet runs the scheduler's
general filters (node name, node affinity / selector, resources fit) and,
alone of the taints, the ``NoExecute`` ones. A pod that fails is rejected:
its phase becomes ``Failed`` with the first failure as ``reason`` and
``message``, exactly as kubectl then shows it:

    OutOfcpu      Node didn't have enough resource: cpu, requested: 5000, used: 500, capacity: 3900
    OutOfmemory   Node didn't have enough resource: memory, requested: ..., used: ..., capacity: ...
    OutOfpods     Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110
    NodeAffinity  Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector
    TaintToleration  Predicate TaintToleration failed: node(s) had untolerated taint

``admit`` is a pure function of the pod, the node and the pods already
admitted; it never writes anything (the kubelet does, through the status
manager).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.api.quantity import cpu_millis, memory_bytes, parse_quantity
from engine.api.resources import pod_requests
from engine.scheduler.plugins.node_affinity import required_node_affinity_matches
from engine.scheduler.plugins.taint_toleration import find_untolerated

_RESOURCES = ("cpu", "memory", "ephemeral-storage")


@dataclass(frozen=True)
class AdmitResult:
    admit: bool
    reason: str = ""
    message: str = ""


def _amount(name: str, value: object) -> int:
    if name == "cpu":
        return cpu_millis(value)
    if name in ("memory", "ephemeral-storage"):
        return memory_bytes(value)
    return int(parse_quantity(value))


def _insufficient(name: str, requested: int, used: int, capacity: int) -> AdmitResult:
    return AdmitResult(False, f"OutOf{name}", f"Node didn't have enough resource: {name}, requested: {requested}, "
                                             f"used: {used}, capacity: {capacity}")


def admit(pod: dict, node: dict, active_pods: list[dict]) -> AdmitResult:
    """canAdmitPod: the first reason the pod cannot run here, or admit."""
    spec = pod.get("spec") or {}
    node_name = node["metadata"]["name"]
    if spec.get("nodeName") and spec["nodeName"] != node_name:
        return AdmitResult(False, "NodeName", "Predicate NodeName failed: node(s) didn't match the requested "
                                              "node name")
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    if "pods" in allocatable:
        capacity = int(allocatable["pods"])
        if len(active_pods) + 1 > capacity:
            return _insufficient("pods", 1, len(active_pods), capacity)
    requests = pod_requests(pod)
    used: dict[str, int] = {}
    for other in active_pods:
        for name, value in pod_requests(other).items():
            if name in _RESOURCES:
                used[name] = used.get(name, 0) + _amount(name, value)
    for name in _RESOURCES:
        if name not in requests or name not in allocatable:
            continue
        requested = _amount(name, requests[name])
        if requested == 0:
            continue
        capacity = _amount(name, allocatable[name])
        if requested + used.get(name, 0) > capacity:
            return _insufficient(name, requested, used.get(name, 0), capacity)
    if not required_node_affinity_matches(pod, node):
        return AdmitResult(False, "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's "
                                                  "node affinity/selector")
    is_static = (pod["metadata"].get("annotations") or {}).get("kubernetes.io/config.source", "api") != "api"
    taints = (node.get("spec") or {}).get("taints") or []
    if not is_static and find_untolerated(taints, spec.get("tolerations") or [], ("NoExecute",)) is not None:
        return AdmitResult(False, "TaintToleration", "Predicate TaintToleration failed: node(s) had untolerated "
                                                     "taint")
    return AdmitResult(True)
