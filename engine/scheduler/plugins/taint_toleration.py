"""TaintToleration: a node's NoSchedule / NoExecute taints keep off pods that do not tolerate them,
and each untolerated PreferNoSchedule taint lowers the node's score.

Filter: the first taint with effect NoSchedule or NoExecute that no toleration
matches rejects the node, as ``node(s) had untolerated taint {key: value}``
(UnschedulableAndUnresolvable: preempting pods cannot help). Score: the count
of untolerated PreferNoSchedule taints, normalized in reverse (fewest is 100).
"""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import MAX_NODE_SCORE, Status, default_normalize_score, unschedulable
from engine.scheduler.nodeinfo import NodeInfo

NAME = "TaintToleration"


def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint: effect, key, then operator (Equal compares values, Exists does not)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def find_untolerated(taints: list[dict], tolerations: list[dict], effects: tuple[str, ...]) -> dict | None:
    for taint in taints:
        if taint.get("effect") not in effects:
            continue
        if not any(tolerates(toleration, taint) for toleration in tolerations):
            return taint
    return None


class TaintToleration:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        taints = node_info.taints
        if not taints:
            return None
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        taint = find_untolerated(taints, tolerations, ("NoSchedule", "NoExecute"))
        if taint is None:
            return None
        return unschedulable(f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}",
                             resolvable=False)

    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        state[NAME] = [t for t in tolerations if (t.get("effect") or "") in ("", "PreferNoSchedule")]
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        tolerations = state.get(NAME, [])
        count = 0
        for taint in node_info.taints:
            if taint.get("effect") == "PreferNoSchedule" and not any(tolerates(t, taint) for t in tolerations):
                count += 1
        return count

    def normalize_score(self, state: dict, pod: dict, scores: dict[str, int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, True, scores)


def new(args: dict[str, Any] | None = None, handle: Any = None) -> TaintToleration:
    return TaintToleration()
