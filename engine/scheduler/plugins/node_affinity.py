"""NodeAffinity: ``spec.nodeSelector`` and ``affinity.nodeAffinity`` (required filters, preferred scores).

Filter: every nodeSelector label must match, and at least one of the required
nodeSelectorTerms (each term ANDs its matchExpressions and matchFields; an
empty term matches nothing). Otherwise ``node(s) didn't match Pod's node
affinity/selector`` (UnschedulableAndUnresolvable). Score: the sum of the
weights of the preferred terms the node matches, normalized to 0..100 by the
best node.
"""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import MAX_NODE_SCORE, SKIP, Status, default_normalize_score, unschedulable
from engine.scheduler.nodeinfo import NodeInfo

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def requirement_matches(requirement: dict, values_of: dict[str, str]) -> bool:
    key, operator = requirement.get("key", ""), requirement.get("operator")
    values = requirement.get("values") or []
    present = key in values_of
    if operator == "In":
        return present and values_of[key] in values
    if operator == "NotIn":
        return not present or values_of[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int(values_of[key]), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def term_matches(term: dict, node: dict) -> bool:
    """One NodeSelectorTerm: all expressions on labels and all fields (only metadata.name) match."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    labels = node["metadata"].get("labels") or {}
    if not all(requirement_matches(r, labels) for r in expressions):
        return False
    node_fields = {"metadata.name": node["metadata"]["name"]}
    return all(requirement_matches(r, node_fields) for r in fields)


def node_selector_matches(selector: dict | None, node: dict) -> bool:
    """A NodeSelector: its terms are ORed."""
    if selector is None:
        return True
    return any(term_matches(term, node) for term in selector.get("nodeSelectorTerms") or [])


def required_node_affinity_matches(pod: dict, node: dict) -> bool:
    """component-helpers' GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms."""
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    return node_selector_matches(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"), node)


class NodeAffinity:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        if required_node_affinity_matches(pod, node_info.node):
            return None
        return unschedulable(ERR_REASON_POD, resolvable=False)

    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        affinity = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
        preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if not preferred:
            return Status(SKIP)
        state[NAME] = [(term.get("weight", 0), term.get("preference") or {}) for term in preferred
                       if term.get("weight", 0) != 0]
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        return sum(weight for weight, term in state.get(NAME, []) if term_matches(term, node_info.node))

    def normalize_score(self, state: dict, pod: dict, scores: dict[str, int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, False, scores)


def new(args: dict[str, Any] | None = None, handle: Any = None) -> NodeAffinity:
    return NodeAffinity()
