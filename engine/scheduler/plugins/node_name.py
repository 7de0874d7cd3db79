"""NodeName: a pod that names a node in ``spec.nodeName`` fits only that node."""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import Status, unschedulable
from engine.scheduler.nodeinfo import NodeInfo

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        wanted = (pod.get("spec") or {}).get("nodeName")
        if wanted and wanted != node_info.name:
            return unschedulable(ERR_REASON, resolvable=False)
        return None


def new(args: dict[str, Any] | None = None, handle: Any = None) -> NodeName:
    return NodeName()
