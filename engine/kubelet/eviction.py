"""The kubelet's eviction manager: keeps the node alive under resource pressure (pkg/kubelet/eviction).

Every ``evictionMonitoringPeriod`` (10 s) ``synchronize`` reads the node's
stats (stats.py), observes the signals and compares them with the
thresholds (the Linux defaults of ``--eviction-hard``:
``memory.available<100Mi``, ``nodefs.available<10%``,
``imagefs.available<15%``, inodes 5%; soft thresholds with their grace
periods if configured). A threshold that is met sets its node condition
(MemoryPressure, DiskPressure, PIDPressure) through ``set_condition(type,
True)``; the condition stays until no threshold has been met for
``--eviction-pressure-transition-period`` (5 min), then ``set_condition(type,
False)``. Then, while a threshold is met (a soft one only after its grace
period), it evicts ONE pod per pass, the first in the ranking for the
starved resource (eviction_signals.rank: BestEffort, then Burstable over its
request, Guaranteed last); critical pods are skipped. Before that, whatever
the node's state, every pod over its own local storage limits (an emptyDir
over its ``sizeLimit``, ephemeral-storage limits) is evicted, and then
nothing else that pass (localStorageEviction). Evicting means an
``Evicted`` Warning event with the starved-resource annotations, and
``kill_pod(pod, status, grace_period_seconds)`` with the status to write:
phase Failed, reason Evicted, the message, and the DisruptionTarget
condition (reason TerminationByKubelet); the grace period is 1 s for a hard
threshold, and for a soft one ``--eviction-max-pod-grace-period`` or the
pod's own if shorter.

``admit(pod)`` is the kubelet's admission handler: under memory pressure only
BestEffort pods are refused (unless they tolerate the memory-pressure taint),
under any other pressure every pod, except critical ones; reason
``Evicted``, message ``The node had condition: [MemoryPressure]. ``.

What it never does: taint the node. The ``node.kubernetes.io/memory-pressure
:NoSchedule`` taint comes from the node lifecycle controller (TaintNodesByCondition),
which reads the condition the kubelet posts; the scheduler then keeps new
pods away. Nor does it reclaim node-level resources before evicting (image
and container garbage collection for disk pressure), watch memory through
cgroup notifications between passes, or wait for an evicted pod's cleanup
before the next pass (upstream does, then passes again at once; here the
next pass is simply the next period).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engine import flags
from engine.api.qos import qos_class
from engine.api.meta import timestamp
from engine.kubelet.eviction_signals import (
    SIGNAL_TO_CONDITION,
    SIGNAL_TO_RESOURCE,
    Threshold,
    by_eviction_priority,
    eviction_message,
    is_critical,
    local_storage_violation,
    observe,
    parse_thresholds,
    rank,
    thresholds_met,
)

log = logging.getLogger(__name__)

REASON = "Evicted"
IMMEDIATE_GRACE_PERIOD = 1
"""immediateEvictionGracePeriodSeconds: what a pod evicted for a hard threshold gets."""
MEMORY_PRESSURE_TAINT = "node.kubernetes.io/memory-pressure"


def _tolerates_memory_pressure(pod: dict) -> bool:
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        if toleration.get("effect") not in (None, "", "NoSchedule"):
            continue
        key, operator = toleration.get("key", ""), toleration.get("operator", "Equal")
        if (not key and operator == "Exists") or (key == MEMORY_PRESSURE_TAINT and
                                                  (operator == "Exists" or not toleration.get("value"))):
            return True
    return False


class EvictionManager:
    """One node's eviction manager."""

    def __init__(self, loop: Any, recorder: Any, node_capacity: dict[str, Any], stats_provider: Any,
                 pods_provider: Callable[[], list[dict]], kill_pod: Callable[[dict, dict, int], None],
                 set_condition: Callable[[str, bool], None], *, hard: dict[str, str] | None = None,
                 soft: dict[str, str] | None = None, soft_grace_period: dict[str, float] | None = None,
                 max_pod_grace_period: int = 0,
                 pressure_transition_period: float = flags.eviction_pressure_transition_period,
                 monitoring_period: float = flags.eviction_monitoring_period) -> None:
        self.loop = loop
        self.recorder = recorder
        self.node_capacity = node_capacity
        self.stats_provider = stats_provider
        self.pods_provider = pods_provider
        self.kill_pod = kill_pod
        self.set_condition = set_condition
        self.thresholds = parse_thresholds(flags.eviction_hard if hard is None else hard, soft, soft_grace_period)
        self.max_pod_grace_period = max_pod_grace_period
        self.pressure_transition_period = pressure_transition_period
        self.monitoring_period = monitoring_period
        self.node_conditions: list[str] = []
        self.thresholds_met: list[Threshold] = []
        self._first_observed: dict[Threshold, float] = {}
        self._last_observed: dict[str, float] = {}
        self._evicted: set[str] = set()
        self._timer: Any = None

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        """Run ``synchronize`` now and every monitoring period."""
        self._timer = self.loop.call_soon(self._housekeeping, label="eviction-manager")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _housekeeping(self) -> None:
        self.synchronize()
        self._timer = self.loop.call_later(self.monitoring_period, self._housekeeping, label="eviction-manager")

    # -- admission ----------------------------------------------------------------
    def admit(self, pod: dict) -> tuple[bool, str, str]:
        if not self.node_conditions or is_critical(pod):
            return True, "", ""
        if self.node_conditions == ["MemoryPressure"]:
            if qos_class(pod) != "BestEffort" or _tolerates_memory_pressure(pod):
                return True, "", ""
        return False, REASON, f"The node had condition: [{' '.join(self.node_conditions)}]. "

    def is_under_memory_pressure(self) -> bool:
        return "MemoryPressure" in self.node_conditions

    def is_under_disk_pressure(self) -> bool:
        return "DiskPressure" in self.node_conditions

    def is_under_pid_pressure(self) -> bool:
        return "PIDPressure" in self.node_conditions

    # -- the control loop ----------------------------------------------------------
    def synchronize(self) -> list[dict]:
        """One pass: observe, update conditions, evict at most one pod; returns the pods evicted."""
        now = self.loop.now
        summary = self.stats_provider.summary()
        observations = observe(summary)
        met = thresholds_met(self.thresholds, observations)
        self._first_observed = {t: self._first_observed.get(t, now) for t in met}
        for threshold in met:
            self._last_observed[SIGNAL_TO_CONDITION[threshold.signal]] = now
        conditions = [c for c in ("MemoryPressure", "DiskPressure", "PIDPressure")
                      if c in self._last_observed and now - self._last_observed[c] < self.pressure_transition_period]
        self._update_conditions(conditions)
        self.thresholds_met = [t for t in met if now - self._first_observed[t] >= t.grace_period]
        stats = {p["podRef"]["uid"]: p for p in summary["pods"]}
        active = [p for p in self.pods_provider() if p["metadata"].get("uid") not in self._evicted]
        over_limits = []
        for pod in active:
            violation = local_storage_violation(pod, stats.get(pod["metadata"].get("uid")))
            if violation is not None and not is_critical(pod):
                self._evict(pod, IMMEDIATE_GRACE_PERIOD, violation, {}, disruption_condition=False)
                over_limits.append(pod)
        if over_limits or not self.thresholds_met:
            return over_limits
        threshold = by_eviction_priority(self.thresholds_met)[0]
        resource = SIGNAL_TO_RESOURCE[threshold.signal]
        if resource == "inodes":
            return []
        for pod in rank(active, lambda p: stats.get(p["metadata"].get("uid")), resource):
            if is_critical(pod):
                log.warning("eviction manager: cannot evict a critical pod %s", pod["metadata"]["name"])
                continue
            message, annotations = eviction_message(resource, pod, stats.get(pod["metadata"].get("uid")),
                                                    threshold, observations.get(threshold.signal))
            self._evict(pod, self._grace_period(pod, threshold), message, annotations)
            return [pod]
        return []

    def _grace_period(self, pod: dict, threshold: Threshold) -> int:
        if threshold.hard:
            return IMMEDIATE_GRACE_PERIOD
        own = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        return min(self.max_pod_grace_period, own) if own is not None else self.max_pod_grace_period

    def _evict(self, pod: dict, grace_period: int, message: str, annotations: dict[str, str], *,
               disruption_condition: bool = True) -> None:
        self._evicted.add(pod["metadata"].get("uid", ""))
        if self.recorder is not None:
            self.recorder.event(pod, "Warning", REASON, message, annotations=annotations or None)
        log.info("evicting pod %s/%s: %s", pod["metadata"].get("namespace"), pod["metadata"]["name"], message)
        status: dict[str, Any] = {"phase": "Failed", "reason": REASON, "message": message}
        if disruption_condition:
            status["conditions"] = [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                                     "message": message, "lastTransitionTime": timestamp(self.loop.now)}]
        self.kill_pod(pod, status, grace_period)

    def _update_conditions(self, conditions: list[str]) -> None:
        for condition in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            was, now = condition in self.node_conditions, condition in conditions
            if was != now:
                self.set_condition(condition, now)
        self.node_conditions = conditions
