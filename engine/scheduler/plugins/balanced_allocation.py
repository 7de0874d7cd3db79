"""NodeResourcesBalancedAllocation: prefer nodes whose CPU and memory would be used in equal shares.

For each resource (cpu and memory by default) the fraction requested /
allocatable after placing the pod (capped at 1, real requests, no defaults);
the score is ``(1 - std) * 100`` where ``std`` is the standard deviation of the
fractions (with two resources, half their difference).
"""

from __future__ import annotations

import math
from typing import Any

from engine.scheduler.framework import MAX_NODE_SCORE, Status
from engine.scheduler.nodeinfo import CPU, MEMORY, NodeInfo, pod_request

NAME = "NodeResourcesBalancedAllocation"


class BalancedAllocation:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        self.memo = getattr(getattr(handle, "snapshot", None), "memo", None)
        resources = (args or {}).get("resources") or [{"name": CPU, "weight": 1}, {"name": MEMORY, "weight": 1}]
        self.resources = [r["name"] for r in resources]

    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        state[NAME] = pod_request(pod, self.memo)
        return None

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        request = state.get(NAME)
        if request is None:
            request = pod_request(pod)
        fractions = []
        for resource in self.resources:
            pod_value = request.get(resource, 0)
            if pod_value == 0 and resource not in (CPU, MEMORY):
                continue
            capacity = node_info.allocatable.get(resource, 0)
            if capacity == 0:
                continue
            fractions.append(min((node_info.requested.get(resource, 0) + pod_value) / capacity, 1.0))
        if len(fractions) == 2:
            std = abs(fractions[0] - fractions[1]) / 2
        elif len(fractions) > 2:
            mean = sum(fractions) / len(fractions)
            std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
        else:
            std = 0.0
        return int((1 - std) * MAX_NODE_SCORE)


def new(args: dict[str, Any] | None = None, handle: Any = None) -> BalancedAllocation:
    return BalancedAllocation(args, handle)
