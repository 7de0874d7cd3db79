"""What the scheduler knows about one node (pkg/scheduler/framework/types.go: NodeInfo, Resource).

Interface: ``pod_request(pod)`` and ``pod_non_zero_request(pod)`` give a pod's
requests as integers (``cpu`` in millicores, ``memory`` and
``ephemeral-storage`` in bytes, any other resource by value);
``NodeInfo(node)`` aggregates the pods placed on a node: ``requested``,
``non_zero_requested`` (what scoring uses: a container without a request counts
as 100m CPU and 200Mi), ``used_ports``, and the pods themselves.

Promises: a NodeInfo changes only through ``add_pod`` / ``remove_pod`` /
``set_node``, and ``generation`` grows on each change. A pod's footprint
(requests, non-zero requests, host ports) and its ``shape`` are computed once
per version of the pod's spec (its generation), and the footprint once per
shape, in the ``memo`` its scheduler's cache shares with its NodeInfos (no
state is shared between two schedulers; the cache starts the memo over past a
million entries).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from engine.api.quantity import parse_quantity
from engine.api.resources import combine

DEFAULT_MILLI_CPU_REQUEST = 100
"""schedutil.DefaultMilliCPURequest: what scoring assumes for a container with no CPU request."""
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""schedutil.DefaultMemoryRequest: 200Mi for a container with no memory request."""

CPU, MEMORY, EPHEMERAL, PODS = "cpu", "memory", "ephemeral-storage", "pods"


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, str):
        return _parsed(name, value)
    quantity = parse_quantity(value)
    return quantity.milli_value() if name == CPU else quantity.value()


@functools.lru_cache(maxsize=4096)
def _parsed(name: str, value: str) -> int:
    """A pure function of its arguments, memoized: requests repeat the same few strings."""
    quantity = parse_quantity(value)
    return quantity.milli_value() if name == CPU else quantity.value()


def _container(container: dict, non_zero: bool) -> dict[str, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    values = {name: _to_int(name, value) for name, value in requests.items()}
    if non_zero:
        if CPU not in values:
            values[CPU] = DEFAULT_MILLI_CPU_REQUEST
        if MEMORY not in values:
            values[MEMORY] = DEFAULT_MEMORY_REQUEST
    return values


def _add(total: dict[str, int], values: dict[str, int]) -> None:
    for name, value in values.items():
        total[name] = total.get(name, 0) + value


def _compute(pod: dict, non_zero: bool) -> dict[str, int]:
    """resourcehelper.PodRequests (engine.api.resources.combine), in integers."""
    spec = pod.get("spec") or {}
    overhead = {name: _to_int(name, value) for name, value in (spec.get("overhead") or {}).items()}
    return combine(spec, lambda container: _container(container, non_zero), overhead)


Footprint = tuple[dict[str, int], dict[str, int], list[tuple[str, str, int]], str]
"""What a pod takes on its node: its requests, its non-zero requests, its host ports; and its ``shape``."""
Memo = dict[Any, Footprint]


def shape(pod: dict) -> str:
    """Everything of a pod that its footprint and the node-local plugins (engine.scheduler.memo) read, as one
    string: pods of equal shapes have equal footprints and get equal node-local verdicts and scores.

    Per container only the image, resources, ports and restartPolicy count (names, env, volume mounts differ
    between replicas and matter to no node-local plugin); then overhead, tolerations, nodeSelector, node
    affinity and nodeName. Dicts equal but written in another key order give another shape (a memo miss,
    never a wrong verdict)."""
    spec = pod.get("spec") or {}
    return repr((_containers_shape(spec.get("containers")), _containers_shape(spec.get("initContainers")),
                 spec.get("overhead"), spec.get("tolerations"), spec.get("nodeSelector"),
                 (spec.get("affinity") or {}).get("nodeAffinity"), spec.get("nodeName") or ""))


def _containers_shape(containers: list | None) -> list[tuple]:
    return [(c.get("image"), c.get("resources"), c.get("ports"), c.get("restartPolicy")) for c in containers or ()]


def _memo_key(metadata: dict) -> tuple:
    """One pod's spec version: its generation (which any spec change bumps), else its resourceVersion."""
    generation = metadata.get("generation")
    return (metadata.get("namespace"), metadata.get("name"), metadata.get("uid"),
            generation if generation is not None else ("rv", metadata.get("resourceVersion", "")))


def footprint(pod: dict, memo: Memo) -> Footprint:
    """``pod_request``, ``pod_non_zero_request``, ``pod_host_ports`` and ``shape`` of ``pod``, computed once per
    version of a stored pod (one with a uid), the first three once per shape (``memo``: one scheduler's memory of
    them; never modify what it gives)."""
    metadata = pod.get("metadata") or {}
    key = _memo_key(metadata) if metadata.get("uid") else None    # a pod never stored has no version to key on
    value = memo.get(key) if key is not None else None
    if value is None:
        pod_shape = shape(pod)
        value = memo.get(pod_shape)
        if value is None:
            value = memo[pod_shape] = (_compute(pod, False), _compute(pod, True), pod_host_ports(pod), pod_shape)
        if key is not None:
            memo[key] = value
    return value


def pod_request(pod: dict, memo: Memo | None = None) -> dict[str, int]:
    """The pod's effective requests as integers (``memo``: see ``footprint``)."""
    return _compute(pod, False) if memo is None else footprint(pod, memo)[0]


def pod_non_zero_request(pod: dict, memo: Memo | None = None) -> dict[str, int]:
    """As ``pod_request``, with 100m CPU / 200Mi memory for each container that requests none."""
    return _compute(pod, True) if memo is None else footprint(pod, memo)[1]


def pod_host_ports(pod: dict, memo: Memo | None = None) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) for every container port with a hostPort (NodePorts' view; ``memo``: see
    ``footprint``)."""
    if memo is not None:
        return footprint(pod, memo)[2]
    ports = []
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or [])
    containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in containers:
        for port in container.get("ports") or []:
            host_port = port.get("hostPort") or 0
            if host_port > 0:
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))
    return ports


def node_allocatable(node: dict) -> dict[str, int]:
    values = ((node.get("status") or {}).get("allocatable")) or {}
    return {name: _to_int(name, value) for name, value in values.items()}


@dataclass(eq=False)
class NodeInfo:
    """One node and the pods the scheduler believes are on it (bound, or assumed while binding)."""

    node: dict
    pods: dict[str, dict] = field(default_factory=dict)          # "namespace/name" -> pod
    requested: dict[str, int] = field(default_factory=dict)
    non_zero_requested: dict[str, int] = field(default_factory=dict)
    used_ports: dict[tuple[str, str, int], int] = field(default_factory=dict)
    generation: int = 0
    allocatable: dict[str, int] = field(default_factory=dict)
    memo: dict = field(default_factory=dict, repr=False)
    images: dict[str, int] = field(default_factory=dict, repr=False)
    """Normalized image name -> size in bytes, from ``status.images`` (ImageLocality)."""
    affinity_pods: dict[str, dict] = field(default_factory=dict, repr=False)
    """The pods here with podAffinity or podAntiAffinity (InterPodAffinity looks only at these)."""

    def __post_init__(self) -> None:
        self.set_node(self.node)

    def set_node(self, node: dict) -> None:
        from engine.scheduler.plugins.image_locality import node_images
        self.node = node
        self.name: str = node["metadata"]["name"]
        self.labels: dict[str, str] = node["metadata"].get("labels") or {}
        self.taints: list[dict] = (node.get("spec") or {}).get("taints") or []
        self.allocatable = node_allocatable(node)
        self.images = node_images(node)
        self.generation += 1

    def add_pod(self, key: str, pod: dict) -> None:
        if key in self.pods:
            self.remove_pod(key)
        self.pods[key] = pod
        affinity = (pod.get("spec") or {}).get("affinity") or {}
        if affinity.get("podAffinity") or affinity.get("podAntiAffinity"):
            self.affinity_pods[key] = pod
        request, non_zero, ports, _ = footprint(pod, self.memo)
        _add(self.requested, request)
        for name in (CPU, MEMORY):
            self.non_zero_requested[name] = self.non_zero_requested.get(name, 0) + non_zero.get(name, 0)
        for port in ports:
            self.used_ports[port] = self.used_ports.get(port, 0) + 1
        self.generation += 1

    def replace_pod(self, key: str, pod: dict) -> None:
        """Put ``pod`` in place of the pod of the same spec under ``key`` (an assumed pod confirmed)."""
        self.pods[key] = pod
        if key in self.affinity_pods:
            self.affinity_pods[key] = pod
        self.generation += 1

    def remove_pod(self, key: str) -> dict | None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return None
        self.affinity_pods.pop(key, None)
        request, non_zero, ports, _ = footprint(pod, self.memo)
        for name, value in request.items():
            self.requested[name] = self.requested.get(name, 0) - value
        for name in (CPU, MEMORY):
            self.non_zero_requested[name] = self.non_zero_requested.get(name, 0) - non_zero.get(name, 0)
        for port in ports:
            left = self.used_ports.get(port, 0) - 1
            if left > 0:
                self.used_ports[port] = left
            else:
                self.used_ports.pop(port, None)
        self.generation += 1
        return pod

    def clone(self) -> "NodeInfo":
        """A copy whose pod set can change without touching this one (preemption's what-if)."""
        copy = NodeInfo.__new__(NodeInfo)
        copy.node = self.node
        copy.name, copy.labels, copy.taints = self.name, self.labels, self.taints
        copy.pods = dict(self.pods)
        copy.requested = dict(self.requested)
        copy.non_zero_requested = dict(self.non_zero_requested)
        copy.used_ports = dict(self.used_ports)
        copy.generation = self.generation
        copy.allocatable = self.allocatable
        copy.images = self.images
        copy.memo = self.memo
        copy.affinity_pods = dict(self.affinity_pods)
        return copy
