"""NodeUnschedulable: a cordoned node (``spec.unschedulable``) takes no new pods,
unless the pod tolerates the ``node.kubernetes.io/unschedulable:NoSchedule`` taint."""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo
from engine.scheduler.plugins.taint_toleration import tolerates

NAME = "NodeUnschedulable"
ERR_REASON = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        if not (node_info.node.get("spec") or {}).get("unschedulable"):
            return None
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        if any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations):
            return None
        return unschedulable(ERR_REASON, resolvable=False)


def new(args: dict[str, Any] | None = None, handle: Any = None) -> NodeUnschedulable:
    return NodeUnschedulable()
