"""PodTopologySpread: spread matching pods evenly over topology domains (zones, nodes, ...).

For each constraint (``topologySpreadConstraints``, or the cluster's system
defaults when the pod has none: maxSkew 3 per ``kubernetes.io/hostname`` and 5
per ``topology.kubernetes.io/zone``, ScheduleAnyway, selecting the pods of the
same Services, ReplicaSets and StatefulSets):

- Filter (``whenUnsatisfiable: DoNotSchedule``): the skew of placing the pod in
  a node's domain, ``matching pods there + 1 (if the pod matches itself) -
  the fewest matching pods in any eligible domain``, must not exceed maxSkew.
  Eligible domains come from nodes that pass the pod's node affinity
  (nodeAffinityPolicy Honor) and carry every constraint's key; with fewer
  domains than ``minDomains`` the minimum counts as 0. A node without the key:
  ``node(s) didn't match pod topology spread constraints (missing required
  label)`` (unresolvable); too much skew: ``node(s) didn't match pod topology
  spread constraints``.
- Score (``ScheduleAnyway``): per constraint ``count * log(domains + 2) +
  maxSkew - 1``, rounded; then reversed so the emptiest domain scores 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.api.selectors import LabelSelector, from_label_selector, new_requirement
from engine.scheduler.framework import MAX_NODE_SCORE, SKIP, Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo
from engine.scheduler.plugins.node_affinity import required_node_affinity_matches
from engine.scheduler.plugins.taint_toleration import find_untolerated

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
_CONTROLLERS = {"ReplicationController": "replicationcontrollers", "ReplicaSet": "replicasets",
                "StatefulSet": "statefulsets"}
"""The controllers whose selector joins the default constraints' (by the pod's controller reference's kind)."""
SYSTEM_DEFAULT_CONSTRAINTS = [
    {"topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 3},
    {"topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 5},
]


@dataclass
class Constraint:
    max_skew: int
    topology_key: str
    selector: LabelSelector
    min_domains: int = 1
    honor_affinity: bool = True
    honor_taints: bool = False


def pod_matches(pod: dict, selector: LabelSelector, namespace: str) -> bool:
    metadata = pod["metadata"]
    if metadata.get("deletionTimestamp") or (metadata.get("namespace") or "default") != namespace:
        return False
    return selector.matches(metadata.get("labels") or {})


def _minimums(constraints: list[Constraint], counts: dict[tuple[str, str], int]) -> list[int]:
    """Each constraint's global minimum matching count (0 while fewer domains than minDomains exist)."""
    minimums = []
    for c in constraints:
        domain_counts = [n for (key, _), n in counts.items() if key == c.topology_key]
        minimums.append(0 if len(domain_counts) < c.min_domains or not domain_counts else min(domain_counts))
    return minimums


class PodTopologySpread:
    name = NAME

    def __init__(self, args: dict[str, Any] | None, handle: Any) -> None:
        args = args or {}
        self.handle = handle
        self.defaulting = args.get("defaultingType", "System")
        self.default_constraints = (SYSTEM_DEFAULT_CONSTRAINTS if self.defaulting == "System"
                                    else args.get("defaultConstraints") or [])

    # -- constraints ---------------------------------------------------------------
    def constraints(self, pod: dict, action: str) -> list[Constraint]:
        spec = pod.get("spec") or {}
        raw = spec.get("topologySpreadConstraints") or []
        labels = pod["metadata"].get("labels") or {}
        result = []
        if raw:
            for c in raw:
                if c.get("whenUnsatisfiable", "DoNotSchedule") != action:
                    continue
                selector = from_label_selector(c.get("labelSelector"))
                for key in c.get("matchLabelKeys") or []:
                    if key in labels:
                        selector = selector.add(new_requirement(key, "in", [labels[key]]))
                result.append(Constraint(int(c["maxSkew"]), c["topologyKey"], selector, int(c.get("minDomains") or 1),
                                         c.get("nodeAffinityPolicy", "Honor") == "Honor",
                                         c.get("nodeTaintsPolicy", "Ignore") == "Honor"))
            return result
        defaults = [c for c in self.default_constraints if c.get("whenUnsatisfiable", "DoNotSchedule") == action]
        if not defaults:
            return []                # the system defaults are all ScheduleAnyway: PreFilter need not look further
        selector = self._default_selector(pod)
        if selector is None:
            return []
        return [Constraint(int(c["maxSkew"]), c["topologyKey"], selector) for c in defaults]

    def _default_selector(self, pod: dict) -> LabelSelector | None:
        """helper.DefaultSelector: the union of the selectors of the Services selecting the pod and of the
        ReplicationController, ReplicaSet or StatefulSet controlling it (None when that is empty)."""
        listers = getattr(self.handle, "workload_listers", None)
        if listers is None:
            return None
        metadata = pod["metadata"]
        namespace = metadata.get("namespace") or "default"
        labels = metadata.get("labels") or {}
        requirements: dict[str, Any] = {}
        # A Service selects the pod when its (non-empty) selector matches the pod's labels: none can select a
        # pod without labels, and an empty selector adds nothing, so such a pod need not read the Services.
        for service in listers("services").list(namespace) if labels else ():
            selector = (service.get("spec") or {}).get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                for key, value in selector.items():
                    requirements[key] = new_requirement(key, "=", [value])
        owner = next((o for o in metadata.get("ownerReferences") or () if o.get("controller")), None)
        resource = _CONTROLLERS.get(owner.get("kind")) if owner is not None else None
        workload = listers(resource).get(namespace, owner.get("name")) if resource is not None else None
        if workload is not None:
            selector = (workload.get("spec") or {}).get("selector")
            if resource == "replicationcontrollers":       # a map of labels, not a LabelSelector
                selector = {"matchLabels": selector} if selector else None
            for requirement in from_label_selector(selector).requirements:
                requirements[requirement.key] = requirement
        if not requirements:
            return None
        return LabelSelector().add(*requirements.values())

    def _eligible(self, pod: dict, info: NodeInfo, constraints: list[Constraint]) -> bool:
        labels = info.labels
        if not all(c.topology_key in labels for c in constraints):
            return False
        if any(c.honor_affinity for c in constraints) and not required_node_affinity_matches(pod, info.node):
            return False
        if any(c.honor_taints for c in constraints):
            tolerations = (pod.get("spec") or {}).get("tolerations") or []
            if find_untolerated(info.taints, tolerations, ("NoSchedule", "NoExecute")) is not None:
                return False
        return True

    # -- filter ---------------------------------------------------------------------
    def pre_filter(self, state: dict, pod: dict, nodes: list) -> Status | None:
        constraints = self.constraints(pod, "DoNotSchedule")
        if not constraints:
            return Status(SKIP)
        namespace = pod["metadata"].get("namespace") or "default"
        counts: dict[tuple[str, str], int] = {}
        for info in self.handle.snapshot.node_infos:
            if not self._eligible(pod, info, constraints):
                continue
            for c in constraints:
                pair = (c.topology_key, info.labels[c.topology_key])
                counts[pair] = counts.get(pair, 0) + sum(
                    1 for existing in info.pods.values() if pod_matches(existing, c.selector, namespace))
        state[NAME] = (constraints, counts, _minimums(constraints, counts))
        return None

    # PreFilterExtensions: preemption's what-if removes victims (and adds nominated pods) on a node copy.
    def add_pod(self, state: dict, pod: dict, pod_to_add: dict, node_info: NodeInfo) -> Status | None:
        self._update_with_pod(state, pod, pod_to_add, node_info, 1)
        return None

    def remove_pod(self, state: dict, pod: dict, pod_to_remove: dict, node_info: NodeInfo) -> Status | None:
        self._update_with_pod(state, pod, pod_to_remove, node_info, -1)
        return None

    def _update_with_pod(self, state: dict, pod: dict, other: dict, node_info: NodeInfo, delta: int) -> None:
        """preFilterState.updateWithPod: the matching count of the node's domains, on a copy of the state."""
        if NAME not in state:
            return
        constraints, counts, _ = state[NAME]
        namespace = pod["metadata"].get("namespace") or "default"
        if (other["metadata"].get("namespace") or "default") != namespace or \
                not self._eligible(pod, node_info, constraints):
            return
        counts = dict(counts)
        other_labels = other["metadata"].get("labels") or {}
        for c in constraints:
            if c.selector.matches(other_labels):
                pair = (c.topology_key, node_info.labels[c.topology_key])
                counts[pair] = counts.get(pair, 0) + delta
        state[NAME] = (constraints, counts, _minimums(constraints, counts))

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        if NAME not in state:
            return None
        constraints, counts, minimums = state[NAME]
        labels = pod["metadata"].get("labels") or {}
        for c, minimum in zip(constraints, minimums):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                return unschedulable(ERR_REASON_NODE_LABEL_NOT_MATCH, resolvable=False)
            self_match = 1 if c.selector.matches(labels) else 0
            skew = counts.get((c.topology_key, value), 0) + self_match - minimum
            if skew > c.max_skew:
                return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
        return None

    # -- score -----------------------------------------------------------------------
    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        constraints = self.constraints(pod, "ScheduleAnyway")
        if not constraints:
            return Status(SKIP)
        ignored = {info.name for info in nodes if not all(c.topology_key in info.labels for c in constraints)}
        kept = [info for info in nodes if info.name not in ignored]
        weights = []
        pairs: dict[tuple[str, str], int] = {}
        for c in constraints:
            if c.topology_key == HOSTNAME:
                size = len(kept)
            else:
                values = {info.labels[c.topology_key] for info in kept}
                size = len(values)
                for value in values:
                    pairs[(c.topology_key, value)] = 0
            weights.append(math.log(size + 2))
        namespace = pod["metadata"].get("namespace") or "default"
        for info in self.handle.snapshot.node_infos:
            if not all(c.topology_key in info.labels for c in constraints):
                continue
            if any(c.honor_affinity for c in constraints) and not required_node_affinity_matches(pod, info.node):
                continue
            for c in constraints:
                if c.topology_key == HOSTNAME:
                    continue
                pair = (c.topology_key, info.labels[c.topology_key])
                if pair in pairs:
                    pairs[pair] += sum(1 for existing in info.pods.values()
                                       if pod_matches(existing, c.selector, namespace))
        state[NAME + "/score"] = (constraints, weights, pairs, ignored, namespace)
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        constraints, weights, pairs, ignored, namespace = state[NAME + "/score"]
        if node_info.name in ignored:
            return 0
        total = 0.0
        for c, weight in zip(constraints, weights):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == HOSTNAME:
                count = sum(1 for existing in node_info.pods.values() if pod_matches(existing, c.selector, namespace))
            else:
                count = pairs.get((c.topology_key, value), 0)
            total += count * weight + (c.max_skew - 1)
        return int(math.floor(total + 0.5))

    def normalize_score(self, state: dict, pod: dict, scores: dict[str, int]) -> None:
        ignored = state[NAME + "/score"][3]
        valid = [score for name, score in scores.items() if name not in ignored]
        min_score, max_score = min(valid, default=0), max(valid, default=0)
        for name, score in scores.items():
            if name in ignored:
                scores[name] = 0
            elif max_score == 0:
                scores[name] = MAX_NODE_SCORE
            else:
                scores[name] = MAX_NODE_SCORE * (max_score + min_score - score) // max_score


def new(args: dict[str, Any] | None = None, handle: Any = None) -> PodTopologySpread:
    return PodTopologySpread(args, handle)
