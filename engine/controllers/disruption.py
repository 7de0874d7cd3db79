"""The disruption controller (``pkg/controller/disruption``): PodDisruptionBudget status.

The Eviction API (``engine.apiserver.eviction``) lets a pod go only while its
budget's ``status.disruptionsAllowed`` is positive; this controller keeps that
number honest. For each budget, from the pods its selector matches:

- ``expectedPods``: how many pods there should be. With an integer
  ``minAvailable`` it is simply the pods found; with a percentage or with
  ``maxUnavailable`` it is the sum of the ``spec.replicas`` of the pods'
  controllers (ReplicaSet, the Deployment behind a ReplicaSet, StatefulSet,
  ReplicationController), so a pod that is missing still counts. Pods without
  a controller cannot be counted that way: a warning event says so.
- ``desiredHealthy``: ``minAvailable`` (a percentage of expectedPods rounded
  up), or expectedPods minus ``maxUnavailable`` (a percentage rounded up),
  never below zero.
- ``currentHealthy``: pods that are Ready, not being deleted, and not
  recently evicted: ``disruptedPods`` holds the pods the API server evicted
  until their deletion is seen, or for two minutes at most (DeletionTimeout),
  after which the controller stops waiting and counts them again.
- ``disruptionsAllowed``: currentHealthy minus desiredHealthy, but 0 when that
  is negative or when no pods are expected; the ``DisruptionAllowed`` condition
  is True (SufficientPods) when it is positive, False (InsufficientPods) when it
  is not.

``observedGeneration`` says which spec the status is for: the API server
refuses evictions (429) while it lags. Budgets are queued when they change and
when a pod they select changes; the status is written through the status
subresource only when it changed. Events: ``NoPods`` when nothing matches,
``UnmanagedPods`` for pods without a controller, as upstream.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.api import errors, selectors
from engine.api.frozen import thaw
from engine.api.meta import parse_timestamp, timestamp
from engine.api.validation.workloads import int_or_percent
from engine.client.record import EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers.controller_ref_manager import controller_of

log = logging.getLogger(__name__)

DELETION_TIMEOUT = 120.0
"""Seconds an evicted pod may take to be deleted before the budget counts it again (DeletionTimeout)."""

_SCALED_KINDS = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
                 "ReplicationController": "replicationcontrollers", "Deployment": "deployments"}


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def disrupted_pods(budget: dict, pods: dict[str, dict], now: float) -> tuple[dict[str, str], float | None]:
    """buildDisruptedPodMap: the evictions still awaited, and when the first of them times out (None: none)."""
    kept: dict[str, str] = {}
    next_expiry: float | None = None
    for name, stamp in ((budget.get("status") or {}).get("disruptedPods") or {}).items():
        pod = pods.get(name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            continue
        expires = parse_timestamp(stamp) + DELETION_TIMEOUT
        if expires <= now:   # due: on a virtual clock "not before now" would requeue forever
            log.info("pod %s was expected to be deleted at %s but it wasn't", name, timestamp(expires))
            continue
        kept[name] = stamp
        next_expiry = expires if next_expiry is None else min(next_expiry, expires)
    return kept, next_expiry


def healthy_count(pods: list[dict], disrupted: dict[str, str]) -> int:
    """countHealthyPods: Ready, not being deleted, not awaiting an eviction."""
    return sum(1 for pod in pods if not pod["metadata"].get("deletionTimestamp")
               and pod["metadata"]["name"] not in disrupted and is_ready(pod))


def desired_healthy(spec: dict, found: int, expected_scale: int | None) -> tuple[int, int]:
    """getExpectedPodCount: ``(expectedPods, desiredHealthy)`` from the budget's spec.

    ``expected_scale`` is the sum of the pods' controllers' replicas (needed for percentages and
    maxUnavailable).
    """
    if spec.get("maxUnavailable") is not None:
        expected = expected_scale or 0
        unavailable = int_or_percent(spec["maxUnavailable"], expected, True)
        return expected, max(0, expected - unavailable)
    minimum = spec.get("minAvailable")
    if isinstance(minimum, int):
        return found, minimum
    if minimum is not None:
        expected = expected_scale or 0
        return expected, int_or_percent(minimum, expected, True)
    return found, 0


def disruptions_allowed(current: int, desired: int, expected: int) -> int:
    """Healthy pods beyond the desired count; none while no pods are expected (a new budget is safe)."""
    allowed = current - desired
    return 0 if expected <= 0 or allowed <= 0 else allowed


class DisruptionController:
    """Keeps each PodDisruptionBudget's status in step with the pods it guards."""

    name = "disruption"
    service_account = "disruption-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "controllermanager")
        self.queue = WorkQueue(context.loop, name="disruption")
        informers = context.informers
        self.budgets = informers.informer("poddisruptionbudgets")
        self.pods = informers.informer("pods")
        self.controllers = {kind: informers.informer(resource) for kind, resource in _SCALED_KINDS.items()
                            if context.client.server.registry.find(resource) is not None}
        self.budgets.add_event_handler(on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new),
                                       on_delete=self.queue.add_key)
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=lambda old, new: self._pod_changed(new),
                                    on_delete=self._pod_changed)
        self.workers = None

    def _pod_changed(self, pod: Any) -> None:
        pod = getattr(pod, "obj", pod)
        labels = pod["metadata"].get("labels") or {}
        for budget in self.budgets.indexer.by_index("namespace", pod["metadata"].get("namespace", "")):
            if _selects(budget, labels):
                self.queue.add_key(budget)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        budget = self.budgets.indexer.get_by_key(key)
        if budget is None:
            return
        namespace = budget["metadata"]["namespace"]
        pods = [pod for pod in self.pods.indexer.by_index("namespace", namespace)
                if _selects(budget, pod["metadata"].get("labels") or {})]
        if not pods:
            self.recorder.event(budget, "Normal", "NoPods", "No matching pods found")
        spec = budget.get("spec") or {}
        scale = None
        if spec.get("maxUnavailable") is not None or isinstance(spec.get("minAvailable"), str):
            scale = self._expected_scale(budget, pods)
        expected, desired = desired_healthy(spec, len(pods), scale)
        disrupted, next_expiry = disrupted_pods(budget, {p["metadata"]["name"]: p for p in pods}, self.loop.now)
        current = healthy_count(pods, disrupted)
        self._write_status(budget, {
            "currentHealthy": current, "desiredHealthy": desired, "expectedPods": expected,
            "disruptionsAllowed": disruptions_allowed(current, desired, expected), "disruptedPods": disrupted})
        if next_expiry is not None:
            self.queue.add_after(key, max(0.0, next_expiry - self.loop.now))

    def _expected_scale(self, budget: dict, pods: list[dict]) -> int:
        """getExpectedScale: the replicas of every controller behind the pods, each counted once."""
        seen: dict[tuple[str, str], int] = {}
        unmanaged = []
        for pod in pods:
            ref = controller_of(pod)
            found = self._scale_of(pod["metadata"].get("namespace", ""), ref) if ref else None
            if found is None:
                unmanaged.append(pod["metadata"]["name"])
                continue
            seen[found[0]] = found[1]
        if unmanaged:
            self.recorder.event(budget, "Warning", "UnmanagedPods",
                                f"Pods selected by this PodDisruptionBudget (selector: {_selector_text(budget)}) were "
                                f"found to be unmanaged. As a result, the status of the PDB cannot be calculated "
                                f"correctly, which may result in undefined behavior. To account for these pods please "
                                f'set ".spec.minAvailable" field of the PDB to an integer value.')
        return sum(seen.values())

    def _scale_of(self, namespace: str, ref: dict) -> tuple[tuple[str, str], int] | None:
        """The controller a reference names and its replicas (a ReplicaSet's Deployment when it has one)."""
        informer = self.controllers.get(ref.get("kind", ""))
        owner = informer.indexer.get_by_key(f"{namespace}/{ref['name']}") if informer else None
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        if ref["kind"] == "ReplicaSet":
            parent = controller_of(owner)
            if parent is not None and parent.get("kind") == "Deployment":
                found = self._scale_of(namespace, parent)
                if found is not None:
                    return found
        return (ref["kind"], owner["metadata"]["name"]), int((owner.get("spec") or {}).get("replicas", 1))

    def _write_status(self, budget: dict, numbers: dict[str, Any]) -> None:
        """updatePdbStatus: write only a changed status, with the DisruptionAllowed condition."""
        old = budget.get("status") or {}
        generation = budget["metadata"].get("generation", 0)
        allowed = numbers["disruptionsAllowed"] > 0
        condition = {"type": "DisruptionAllowed", "status": "True" if allowed else "False",
                     "reason": "SufficientPods" if allowed else "InsufficientPods", "message": "",
                     "observedGeneration": generation}
        previous = next((c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
        condition["lastTransitionTime"] = (previous["lastTransitionTime"] if previous and
                                           previous.get("status") == condition["status"] else timestamp(self.loop.now))
        status = {**numbers, "observedGeneration": generation,
                  "conditions": [*(c for c in old.get("conditions") or [] if c.get("type") != "DisruptionAllowed"),
                                 condition]}
        if not status["disruptedPods"]:
            del status["disruptedPods"]
        if all(old.get(field) == value for field, value in status.items() if field != "conditions") and \
                previous is not None and previous.get("status") == condition["status"] and \
                previous.get("observedGeneration") == generation:
            return
        updated = thaw(budget)
        updated["status"] = status
        try:
            self.client.update_status(updated)
        except (errors.Conflict, errors.NotFound):
            self.queue.add_rate_limited(f"{budget['metadata']['namespace']}/{budget['metadata']['name']}")


def _selects(budget: dict, labels: dict) -> bool:
    """policy/v1: a missing selector selects nothing, an empty one every pod of the namespace."""
    try:
        return selectors.from_label_selector((budget.get("spec") or {}).get("selector")).matches(labels)
    except ValueError:
        return False


def _selector_text(budget: dict) -> str:
    return selectors.format_label_selector((budget.get("spec") or {}).get("selector") or {})
