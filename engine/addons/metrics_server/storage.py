"""metrics-server's storage (``pkg/storage``): the last two scrapes of each node and container, and rates from them.

A kubelet reports *cumulative* CPU time (``usageCoreNanoSeconds``) and an instant memory working set. The
storage keeps, per node and per container, the point of the previous scrape (``prev``) and of the latest one
(``last``); CPU usage is the rate between them ((last - prev) / (last.timestamp - prev.timestamp), in cores),
memory is ``last``'s working set, the metric's ``timestamp`` is ``last``'s and its ``window`` the time between
the two. So an object has metrics only after two scrapes that saw it (metrics-server's "first scrape has no
metrics"). ``store(batch)`` replaces everything with the new batch: a node (or pod) missing from the batch (its
kubelet did not answer) drops out, and a container whose start time changed (it restarted, its counter began
again) or whose counter went backwards starts over with one point. ``cpu_rate(prev, last)`` is the rate itself (the
decision lab 12 asks for); ``MetricsStorage(cpu_rate=...)`` computes with another function of the same contract.
What it never does: talk to anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class MetricsPoint:
    """One sample: when the object started, when it was read, cumulative CPU (ns) and working set (bytes)."""

    start_time: float
    timestamp: float
    cumulative_cpu_used: int
    memory_usage: int


@dataclass
class MetricsBatch:
    """What one scrape cycle read: a point per node, and per pod ((namespace, name)) a point per container."""

    nodes: dict[str, MetricsPoint] = field(default_factory=dict)
    pods: dict[tuple[str, str], dict[str, MetricsPoint]] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """A resource usage as the metrics API reports it: CPU in nanocores, memory in bytes, over a window."""

    cpu_nanocores: int
    memory_bytes: int
    timestamp: float
    window: float


def cpu_rate(prev: MetricsPoint | None, last: MetricsPoint) -> int | None:
    """The CPU used between two points of one run of a container (or node), in nanocores; None without one.

    ``(last.cumulative_cpu_used - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp)``, rounded: None
    when there is no ``prev``, when the two are not of the same run (``start_time`` differs: the counter began
    again), when time did not move forward or the counter went backwards."""
    if prev is None or prev.start_time != last.start_time or last.timestamp <= prev.timestamp \
            or last.cumulative_cpu_used < prev.cumulative_cpu_used:
        return None
    return round((last.cumulative_cpu_used - prev.cumulative_cpu_used) / (last.timestamp - prev.timestamp))


RateFunction = Callable[[MetricsPoint | None, MetricsPoint], "int | None"]


def _usage(prev: MetricsPoint | None, last: MetricsPoint, rate: RateFunction = cpu_rate) -> Usage | None:
    """resourceUsage: the rate between two points of the same run of the object, else None."""
    nanocores = rate(prev, last)
    if prev is None or nanocores is None:
        return None
    return Usage(int(nanocores), last.memory_usage, last.timestamp, last.timestamp - prev.timestamp)


def _keep(prev: MetricsPoint | None, last: MetricsPoint) -> MetricsPoint | None:
    """The previous point to keep next to ``last``: None when the object restarted or the counter went back."""
    if prev is None or prev.start_time != last.start_time or last.cumulative_cpu_used < prev.cumulative_cpu_used:
        return None
    return prev


class MetricsStorage:
    """nodeStorage and podStorage: ``prev`` and ``last`` points, replaced wholesale on every ``store``."""

    def __init__(self, cpu_rate: RateFunction = cpu_rate) -> None:
        self.cpu_rate = cpu_rate
        self._nodes: dict[str, tuple[MetricsPoint | None, MetricsPoint]] = {}
        self._pods: dict[tuple[str, str], dict[str, tuple[MetricsPoint | None, MetricsPoint]]] = {}

    def store(self, batch: MetricsBatch) -> None:
        """Take a scrape's batch: what it has becomes ``last`` (the old ``last`` its ``prev``); the rest is gone."""
        nodes = {}
        for name, point in batch.nodes.items():
            old = self._nodes.get(name)
            nodes[name] = (self._previous(old, point), point)
        pods = {}
        for key, containers in batch.pods.items():
            old_pod = self._pods.get(key, {})
            pods[key] = {name: (self._previous(old_pod.get(name), point), point)
                         for name, point in containers.items()}
        self._nodes, self._pods = nodes, pods

    @staticmethod
    def _previous(old: tuple[MetricsPoint | None, MetricsPoint] | None, point: MetricsPoint) -> MetricsPoint | None:
        if old is None:
            return None
        _, last = old
        if last.timestamp == point.timestamp:       # the kubelet answered with the same sample again
            return old[0]
        return _keep(last, point)

    def node_usage(self, name: str) -> Usage | None:
        """The node's usage, or None until two scrapes saw it."""
        entry = self._nodes.get(name)
        return _usage(*entry, self.cpu_rate) if entry else None

    def pod_usage(self, namespace: str, name: str) -> dict[str, Usage] | None:
        """Each container's usage; None unless every container of the pod has two points (as metrics-server does)."""
        containers = self._pods.get((namespace, name))
        if not containers:
            return None
        usage = {container: _usage(*entry, self.cpu_rate) for container, entry in containers.items()}
        if any(value is None for value in usage.values()):
            return None
        return usage  # type: ignore[return-value]

    def node_names(self) -> list[str]:
        return sorted(self._nodes)

    def pod_keys(self) -> list[tuple[str, str]]:
        return sorted(self._pods)
