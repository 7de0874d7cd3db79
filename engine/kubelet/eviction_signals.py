"""Eviction signals, thresholds and the ranking of pods to evict (pkg/kubelet/eviction/helpers.go).

Pure functions of plain data, used by the eviction manager (eviction.py):

- ``parse_thresholds``: ``--eviction-hard`` / ``--eviction-soft`` statements
  (``memory.available<100Mi``, ``nodefs.available<10%``) into Thresholds; a
  soft threshold needs its ``--eviction-soft-grace-period``.
- ``observe``: the signals' observations from a Summary (stats.py):
  ``memory.available`` (node capacity minus the containers' working set),
  ``nodefs.available``, ``imagefs.available``, ``pid.available``. Inode
  signals are not observed here, so their thresholds never fire.
- ``thresholds_met``: those whose quantity (a percentage is of the signal's
  capacity) is above what is available.
- ``rank``: the eviction order for the starved resource. Memory: pods whose
  working set exceeds their memory request first, then lower priority first,
  then larger usage above the request first (so BestEffort pods go first and
  Guaranteed pods, which never exceed their requests, last). Ephemeral
  storage the same over disk use; PIDs by priority then process count.
- ``local_storage_violation``: a pod over its own ephemeral-storage limits
  (an emptyDir over its ``sizeLimit``, the pod over the sum of its
  containers' limits, a container over its limit), evicted whatever the node.
- ``eviction_message``: the status message and event annotations, worded as
  upstream: ``The node was low on resource: memory. Threshold quantity:
  100Mi, available: 92Mi. Container hog was using 300Mi, request is 0, has
  larger consumption of memory. ``
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.api.quantity import BINARY_SI, Quantity, parse_quantity
from engine.api.resources import pod_requests

MEMORY_AVAILABLE = "memory.available"
NODEFS_AVAILABLE = "nodefs.available"
NODEFS_INODES_FREE = "nodefs.inodesFree"
IMAGEFS_AVAILABLE = "imagefs.available"
IMAGEFS_INODES_FREE = "imagefs.inodesFree"
PID_AVAILABLE = "pid.available"

SIGNAL_TO_CONDITION = {
    MEMORY_AVAILABLE: "MemoryPressure",
    NODEFS_AVAILABLE: "DiskPressure", NODEFS_INODES_FREE: "DiskPressure",
    IMAGEFS_AVAILABLE: "DiskPressure", IMAGEFS_INODES_FREE: "DiskPressure",
    PID_AVAILABLE: "PIDPressure",
}
SIGNAL_TO_RESOURCE = {
    MEMORY_AVAILABLE: "memory",
    NODEFS_AVAILABLE: "ephemeral-storage", IMAGEFS_AVAILABLE: "ephemeral-storage",
    NODEFS_INODES_FREE: "inodes", IMAGEFS_INODES_FREE: "inodes",
    PID_AVAILABLE: "pids",
}
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000
"""scheduling.SystemCriticalPriority: pods at or above it are critical and never evicted."""


@dataclass(frozen=True)
class Threshold:
    signal: str
    value: str              # a quantity ("100Mi") or a percentage ("10%")
    grace_period: float = 0.0

    @property
    def hard(self) -> bool:
        return self.grace_period == 0.0

    def quantity(self, capacity: int) -> int:
        if self.value.endswith("%"):
            return int(capacity * float(self.value[:-1]) / 100)
        return parse_quantity(self.value).value()

    def __str__(self) -> str:
        return f"{self.signal}<{self.value}"


@dataclass(frozen=True)
class Observation:
    available: int
    capacity: int


def parse_thresholds(hard: dict[str, str], soft: dict[str, str] | None = None,
                     soft_grace_period: dict[str, float] | None = None) -> list[Threshold]:
    thresholds = [Threshold(signal, value) for signal, value in hard.items()]
    for signal, value in (soft or {}).items():
        grace = (soft_grace_period or {}).get(signal)
        if not grace:
            raise ValueError(f"grace period must be specified for the soft eviction threshold {signal}")
        thresholds.append(Threshold(signal, value, float(grace)))
    for threshold in thresholds:
        if threshold.signal not in SIGNAL_TO_RESOURCE:
            raise ValueError(f"unsupported eviction signal {threshold.signal}")
    return thresholds


def observe(summary: dict[str, Any]) -> dict[str, Observation]:
    node = summary["node"]
    memory = node["memory"]
    found = {MEMORY_AVAILABLE: Observation(memory["availableBytes"],
                                           memory["availableBytes"] + memory["workingSetBytes"])}
    if "fs" in node:
        found[NODEFS_AVAILABLE] = Observation(node["fs"]["availableBytes"], node["fs"]["capacityBytes"])
    image_fs = (node.get("runtime") or {}).get("imageFs")
    if image_fs:
        found[IMAGEFS_AVAILABLE] = Observation(image_fs["availableBytes"], image_fs["capacityBytes"])
    if "rlimit" in node:
        limit = node["rlimit"]
        found[PID_AVAILABLE] = Observation(limit["maxpid"] - limit["curproc"], limit["maxpid"])
    return found


def thresholds_met(thresholds: list[Threshold], observations: dict[str, Observation]) -> list[Threshold]:
    met = []
    for threshold in thresholds:
        seen = observations.get(threshold.signal)
        if seen is not None and threshold.quantity(seen.capacity) > seen.available:
            met.append(threshold)
    return met


def by_eviction_priority(thresholds: list[Threshold]) -> list[Threshold]:
    """Memory first, then the rest in order (byEvictionPriority)."""
    return sorted(thresholds, key=lambda t: SIGNAL_TO_RESOURCE[t.signal] != "memory")


# -- ranking ----------------------------------------------------------------------

def priority_of(pod: dict) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


def is_critical(pod: dict) -> bool:
    """IsCriticalPod: static and mirror pods, and pods at system-critical priority."""
    annotations = pod["metadata"].get("annotations") or {}
    return ("kubernetes.io/config.mirror" in annotations or annotations.get("kubernetes.io/config.source") == "file"
            or priority_of(pod) >= SYSTEM_CRITICAL_PRIORITY)


def _request(pod: dict, resource: str) -> int:
    quantity = pod_requests(pod).get(resource)
    return quantity.value() if quantity is not None else 0


def pod_usage(pod_stats: dict[str, Any], resource: str) -> int:
    if resource == "memory":
        return pod_stats["memory"]["workingSetBytes"]
    if resource == "ephemeral-storage":
        return pod_stats["ephemeral-storage"]["usedBytes"]
    return pod_stats["process_stats"]["process_count"]


def rank(pods: list[dict], stats_of: Callable[[dict], dict | None], resource: str) -> list[dict]:
    """The order in which to evict ``pods`` to reclaim ``resource``; pods without stats go first."""

    def compare(a: dict, b: dict) -> int:
        sa, sb = stats_of(a), stats_of(b)
        if sa is None or sb is None:
            return (sa is not None) - (sb is not None)
        if resource == "pids":
            return (priority_of(a) - priority_of(b)) or (pod_usage(sb, resource) - pod_usage(sa, resource))
        over_a = pod_usage(sa, resource) > _request(a, resource)
        over_b = pod_usage(sb, resource) > _request(b, resource)
        if over_a != over_b:
            return -1 if over_a else 1
        if priority_of(a) != priority_of(b):
            return -1 if priority_of(a) < priority_of(b) else 1
        above_a = pod_usage(sa, resource) - _request(a, resource)
        above_b = pod_usage(sb, resource) - _request(b, resource)
        return (above_b > above_a) - (above_b < above_a)

    return sorted(pods, key=functools.cmp_to_key(compare))


# -- the message ----------------------------------------------------------------

def _binary(value: int) -> str:
    return str(Quantity(value, BINARY_SI))


def eviction_message(resource: str, pod: dict, pod_stats: dict | None, threshold: Threshold,
                     observation: Observation | None) -> tuple[str, dict[str, str]]:
    message = f"The node was low on resource: {resource}. "
    if observation is not None:
        message += f"Threshold quantity: {_threshold_text(threshold, observation)}, " \
                   f"available: {_binary(observation.available)}. "
    offenders, usages = [], []
    if pod_stats is not None and resource in ("memory", "ephemeral-storage"):
        specs = {c["name"]: c for c in (pod.get("spec") or {}).get("containers") or []}
        for container in pod_stats["containers"]:
            spec = specs.get(container["name"])
            if spec is None:
                continue
            request = parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get(resource, 0))
            used = (container["memory"]["workingSetBytes"] if resource == "memory"
                    else container["rootfs"]["usedBytes"] + container["logs"]["usedBytes"])
            if used > request.value():
                message += f"Container {container['name']} was using {_binary(used)}, request is {request}, " \
                           f"has larger consumption of {resource}. "
                offenders.append(container["name"])
                usages.append(_binary(used))
    annotations = {"offending_containers": ",".join(offenders), "offending_containers_usage": ",".join(usages),
                   "starved_resource": resource}
    return message, annotations


def _threshold_text(threshold: Threshold, observation: Observation) -> str:
    if threshold.value.endswith("%"):
        return _binary(threshold.quantity(observation.capacity))
    return str(parse_quantity(threshold.value))


def local_storage_violation(pod: dict, pod_stats: dict | None) -> str | None:
    """The eviction message when the pod uses more local storage than it may (localStorageEviction), else None."""
    if pod_stats is None:
        return None
    spec = pod.get("spec") or {}
    used = {v["name"]: v["usedBytes"] for v in pod_stats.get("volume") or []}
    for volume in spec.get("volumes") or []:
        limit = (volume.get("emptyDir") or {}).get("sizeLimit") if "emptyDir" in volume else None
        if limit is not None and parse_quantity(limit).value() > 0 and \
                used.get(volume["name"], 0) > parse_quantity(limit).value():
            name = volume["name"]
            return f'Usage of EmptyDir volume "{name}" exceeds the limit "{parse_quantity(limit)}". '
    containers = spec.get("containers") or []
    limits = [((c.get("resources") or {}).get("limits") or {}).get("ephemeral-storage") for c in containers]
    if any(limit is not None for limit in limits):
        total = sum((parse_quantity(limit) for limit in limits if limit is not None), Quantity(0))
        if pod_stats["ephemeral-storage"]["usedBytes"] > total.value():
            return f"Pod ephemeral local storage usage exceeds the total limit of containers {total}. "
    usage = {c["name"]: c["rootfs"]["usedBytes"] + c["logs"]["usedBytes"] for c in pod_stats["containers"]}
    for container, limit in zip(containers, limits):
        if limit is not None and usage.get(container["name"], 0) > parse_quantity(limit).value():
            name = container["name"]
            return f'Container {name} exceeded its local ephemeral storage limit "{parse_quantity(limit)}". '
    return None
