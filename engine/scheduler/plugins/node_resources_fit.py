"""NodeResourcesFit: a pod fits where its requests fit in what is left; the score is a strategy.

Filter (fit.go fitsRequest): ``Too many pods`` when the node holds its
allocatable pod count already; then, for each resource the pod requests,
``Insufficient <resource>`` when the request exceeds allocatable minus what the
node's pods request. Requests count init containers and ``spec.overhead``
(``engine.scheduler.nodeinfo.pod_request``). All shortfalls are reported.

Score, by ``scoringStrategy.type`` (default LeastAllocated, cpu and memory with
weight 1): each resource scores on the node's requests *plus* the pod's, with
a container that requests nothing counted as 100m / 200Mi:

- LeastAllocated: ``(allocatable - requested) * 100 / allocatable``;
- MostAllocated: ``requested * 100 / allocatable`` (requested capped at allocatable);
- RequestedToCapacityRatio: a piecewise-linear ``shape`` of utilization to score (0..10, scaled to 100);

then the weighted average over resources (integer division; rounded for RequestedToCapacityRatio).
"""

from __future__ import annotations

from typing import Any

from engine.scheduler.framework import MAX_NODE_SCORE, Status, unschedulable
from engine.scheduler.nodeinfo import CPU, EPHEMERAL, MEMORY, PODS, NodeInfo, pod_non_zero_request, pod_request

NAME = "NodeResourcesFit"
LEAST_ALLOCATED = "LeastAllocated"
MOST_ALLOCATED = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO = "RequestedToCapacityRatio"
MAX_CUSTOM_PRIORITY_SCORE = 10
DEFAULT_RESOURCES = [{"name": CPU, "weight": 1}, {"name": MEMORY, "weight": 1}]


def insufficient_resources(request: dict[str, int], node_info: NodeInfo) -> list[str]:
    """fitsRequest: the reasons, in the real order (pods, cpu, memory, ephemeral-storage, then the rest)."""
    reasons = []
    allocatable, requested = node_info.allocatable, node_info.requested
    if len(node_info.pods) + 1 > allocatable.get(PODS, 0):
        reasons.append("Too many pods")
    if not any(value for value in request.values()):
        return reasons
    for name in (CPU, MEMORY, EPHEMERAL):
        want = request.get(name, 0)
        if want > 0 and want > allocatable.get(name, 0) - requested.get(name, 0):
            reasons.append(f"Insufficient {name}")
    for name in sorted(request):
        if name in (CPU, MEMORY, EPHEMERAL, PODS):
            continue
        want = request[name]
        if want > 0 and want > allocatable.get(name, 0) - requested.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def least_allocated(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_allocated(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


def broken_linear(shape: list[tuple[int, int]]):
    """helper.BuildBrokenLinearFunction over (utilization, score) points, scores already 0..100."""
    def function(p: int) -> int:
        for i, (utilization, score) in enumerate(shape):
            if p <= utilization:
                if i == 0:
                    return shape[0][1]
                prev_u, prev_s = shape[i - 1]
                return prev_s + (score - prev_s) * (p - prev_u) // (utilization - prev_u)
        return shape[-1][1]
    return function


class NodeResourcesFit:
    name = NAME
    node_local = True             # its verdict and score on a node depend on that node and the pod only

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        self.memo = getattr(getattr(handle, "snapshot", None), "memo", None)
        """The scheduler cache's memo of pod requests, when there is one."""
        strategy = (args or {}).get("scoringStrategy") or {}
        self.strategy = strategy.get("type") or LEAST_ALLOCATED
        self.resources = [(r["name"], int(r.get("weight", 1))) for r in strategy.get("resources")
                          or DEFAULT_RESOURCES]
        self.ignored_resources = set((args or {}).get("ignoredResources") or [])
        shape = ((strategy.get("requestedToCapacityRatio") or {}).get("shape")
                 or [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}])
        self.shape = broken_linear([(int(p["utilization"]),
                                     int(p["score"]) * MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE) for p in shape])

    def pre_filter(self, state: dict, pod: dict, nodes: list) -> Status | None:
        request = pod_request(pod, self.memo)
        if self.ignored_resources:
            request = {k: v for k, v in request.items() if k not in self.ignored_resources}
        state[NAME] = request
        return None

    def filter(self, state: dict, pod: dict, node_info: NodeInfo) -> Status | None:
        request = state.get(NAME)
        if request is None:
            request = pod_request(pod)
        reasons = insufficient_resources(request, node_info)
        if reasons:
            return unschedulable(*reasons)
        return None

    def pre_score(self, state: dict, pod: dict, nodes: list) -> Status | None:
        state[NAME + "/score"] = pod_non_zero_request(pod, self.memo), pod_request(pod, self.memo)
        return None

    def _requested(self, node_info: NodeInfo, resource: str, non_zero: dict[str, int],
                   plain: dict[str, int]) -> tuple[int, int] | None:
        if resource in (CPU, MEMORY):
            return node_info.allocatable.get(resource, 0), node_info.non_zero_requested.get(resource, 0) + non_zero.get(resource, 0)
        pod_value = plain.get(resource, 0)
        if pod_value == 0 and resource != EPHEMERAL:
            return None                      # an extended resource the pod does not ask for is not scored
        return node_info.allocatable.get(resource, 0), node_info.requested.get(resource, 0) + pod_value

    def score(self, state: dict, pod: dict, node_info: NodeInfo) -> int:
        non_zero, plain = state.get(NAME + "/score") or (pod_non_zero_request(pod), pod_request(pod))
        total = weight_sum = 0
        for resource, weight in self.resources:
            values = self._requested(node_info, resource, non_zero, plain)
            if values is None:
                continue
            capacity, requested = values
            if self.strategy == MOST_ALLOCATED:
                value = most_allocated(requested, capacity)
            elif self.strategy == REQUESTED_TO_CAPACITY_RATIO:
                if capacity == 0 or requested > capacity:
                    value = self.shape(100)
                else:
                    value = self.shape(requested * 100 // capacity)
            else:
                value = least_allocated(requested, capacity)
            total += value * weight
            weight_sum += weight
        if weight_sum == 0:
            return 0
        if self.strategy == REQUESTED_TO_CAPACITY_RATIO:
            return int(total / weight_sum + 0.5)        # Go math.Round: halves away from zero
        return total // weight_sum


def new(args: dict[str, Any] | None = None, handle: Any = None) -> NodeResourcesFit:
    return NodeResourcesFit(args, handle)
