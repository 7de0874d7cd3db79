"""What a DaemonSet decides, as pure functions (``pkg/controller/daemon/util`` and ``daemon_controller.go``).

- ``should_run(node, ds)``: NodeShouldRunDaemonPod, whether a daemon pod
  should be created on a node and whether one already there may keep
  running: the template's nodeName, nodeSelector and required node affinity
  must match; NoSchedule and NoExecute taints must be tolerated to start,
  NoExecute ones to keep running. The pod tested carries the automatic
  DaemonSet tolerations (``daemon_tolerations``): not-ready and unreachable
  (NoExecute), disk-, memory- and pid-pressure and unschedulable
  (NoSchedule), and network-unavailable for hostNetwork pods;
- ``pod_template(ds, hash)``: CreatePodTemplate, the template with those
  tolerations and the ``controller-revision-hash`` label, and
  ``pin_to_node``: ReplaceDaemonSetPodNodeNameNodeAffinity, the required node
  affinity on ``metadata.name`` that makes the default scheduler place each
  pod on its node (as upstream since 1.12);
- ``rolling_update_plan``: which old pods a RollingUpdate deletes (maxSurge
  0) or on which nodes it starts a new pod first (maxSurge > 0), keeping
  maxUnavailable / maxSurge, numbers or percentages of the desired count
  rounded up.

Node affinity and taint matching are component-helpers' functions, which the
scheduler uses too (``engine.scheduler.plugins``): imported, not copied.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from engine.controllers.controller_utils import is_pod_available, is_pod_ready
from engine.controllers.history import CONTROLLER_REVISION_HASH_LABEL
from engine.scheduler.plugins.node_affinity import required_node_affinity_matches
from engine.scheduler.plugins.taint_toleration import find_untolerated

TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"

_NO_EXECUTE = [("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute")]
_NO_SCHEDULE = [("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule")]
_NETWORK_UNAVAILABLE = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def daemon_tolerations(pod_spec: dict) -> list[dict]:
    """AddOrUpdateDaemonPodTolerations: the spec's tolerations plus the automatic ones it lacks."""
    tolerations = [dict(t) for t in pod_spec.get("tolerations") or ()]
    wanted = _NO_EXECUTE + _NO_SCHEDULE + ([_NETWORK_UNAVAILABLE] if pod_spec.get("hostNetwork") else [])
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        if not any(t.get("key") == key and t.get("operator") == "Exists" and t.get("effect") == effect
                   and not t.get("value") for t in tolerations):
            tolerations.append(toleration)
    return tolerations


def pin_to_node(affinity: dict | None, node_name: str) -> dict:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node terms become ``metadata.name In [node]``."""
    result = copy.deepcopy(affinity) if affinity else {}
    node_affinity = result.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    return result


def template_generation(ds: dict) -> str | None:
    return (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)


def pod_template(ds: dict, hash_: str) -> dict:
    """CreatePodTemplate: the automatic tolerations, the template-generation and revision-hash labels."""
    template = copy.deepcopy(ds["spec"]["template"])
    spec = template.setdefault("spec", {})
    spec["tolerations"] = daemon_tolerations(spec)
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    if hash_:
        labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
    return template


def should_run(node: dict, ds: dict) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (a pod should be started here, a pod already here may keep running)."""
    spec = ds["spec"]["template"].get("spec") or {}
    if spec.get("nodeName") and spec["nodeName"] != node["metadata"]["name"]:
        return False, False
    pod = {"spec": {**spec, "tolerations": daemon_tolerations(spec)}}
    if not required_node_affinity_matches(pod, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = pod["spec"]["tolerations"]
    if find_untolerated(taints, tolerations, ("NoSchedule", "NoExecute")) is not None:
        return False, find_untolerated(taints, tolerations, ("NoExecute",)) is None
    return True, True


def is_pod_updated(pod: dict, hash_: str, generation: str | None) -> bool:
    """util.IsPodUpdated: the pod has the current revision hash (or template generation)."""
    labels = pod["metadata"].get("labels") or {}
    return bool(hash_) and labels.get(CONTROLLER_REVISION_HASH_LABEL) == hash_ or (
        generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation)


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    percent = int(str(value).rstrip("%"))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def surge_and_unavailable(ds: dict, desired: int) -> tuple[int, int]:
    """updatedDesiredNodeCounts' maxSurge and maxUnavailable (both rounded up; 1 unavailable if both are 0)."""
    rolling = (ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", 1), desired, True)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def updated_and_old(pods: list[dict], hash_: str, generation: str | None) -> tuple[dict | None, dict | None, bool]:
    """findUpdatedPodsOnNode: the node's one new and one old live pod; False if it has two of either."""
    new = old = None
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if is_pod_updated(pod, hash_, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


@dataclass
class RollingPlan:
    """What one rolling-update step does: old pods to delete, nodes to start a new pod on."""

    delete: list[str] = field(default_factory=list)
    create_on: list[str] = field(default_factory=list)


def rolling_update_plan(ds: dict, node_pods: dict[str, list[dict]], hash_: str, desired: int,
                        now: float) -> RollingPlan:
    """rollingUpdate: the next step, never exceeding maxUnavailable (or, with surge, maxSurge)."""
    surge, max_unavailable = surge_and_unavailable(ds, desired)
    min_ready = ds["spec"].get("minReadySeconds") or 0
    generation = template_generation(ds)
    plan = RollingPlan()
    if surge == 0:
        unavailable = 0
        replaceable: list[str] = []
        candidates: list[str] = []
        for node in sorted(node_pods):
            new, old, ok = updated_and_old(node_pods[node], hash_, generation)
            if not ok or (new is None) == (old is None):
                unavailable += 1                      # manage() creates or deletes here first
            elif new is not None:
                if not is_pod_available(new, min_ready, now):
                    unavailable += 1
            elif not is_pod_available(old, min_ready, now):
                replaceable.append(old["metadata"]["name"])
            elif unavailable < max_unavailable:
                candidates.append(old["metadata"]["name"])
        room = min(max(0, max_unavailable - unavailable), len(candidates))
        plan.delete = replaceable + candidates[:room]
        return plan
    surging = 0
    allowed: list[str] = []
    candidates = []
    for node in sorted(node_pods):
        new, old, ok = updated_and_old(node_pods[node], hash_, generation)
        if not ok or old is None:
            continue                                  # manage() creates the first pod here
        if new is None:
            if not is_pod_available(old, min_ready, now):
                allowed.append(node)                  # an unavailable old pod may be replaced at once
            elif surging < surge:
                candidates.append(node)
        elif not is_pod_available(new, min_ready, now):
            surging += 1                              # surged here, waiting for the new pod
        else:
            plan.delete.append(old["metadata"]["name"])
    room = min(max(0, surge - surging), len(candidates))
    plan.create_on = allowed + candidates[:room]
    return plan


def surge_keep(pods: list[dict], hash_: str, min_ready: int, now: float) -> list[str]:
    """podsShouldBeOnNode with surge: keep the oldest new and oldest old pod; drop the old once the new is up."""
    doomed: list[str] = []
    newest_first = sorted(pods, key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
    oldest_new = oldest_old = None
    for pod in newest_first:
        if (pod["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH_LABEL) == hash_:
            if oldest_new is None:
                oldest_new = pod
                continue
        elif oldest_old is None:
            oldest_old = pod
            continue
        doomed.append(pod["metadata"]["name"])
    if oldest_new is not None and oldest_old is not None:
        if not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now):
            doomed.append(oldest_old["metadata"]["name"])
    return doomed
