"""The pod garbage collector (``pkg/controller/podgc``): deletes pods nobody else will.

Every 20 s (``gcCheckPeriod``) it:

- deletes the oldest terminated pods (Succeeded or Failed; evicted ones
  first) beyond ``--terminated-pod-gc-threshold`` (12500);
- deletes pods bound to a node that no longer exists, once the node has
  been missing for 40 s (``quarantineTime``) and a live read confirms it,
  marking them Failed with the ``DisruptionTarget`` condition (reason
  ``DeletionByPodGC``, "PodGC: node no longer exists");
- force-deletes terminating pods that were never scheduled, and
  terminating pods on a not-Ready node tainted
  ``node.kubernetes.io/out-of-service`` (non-graceful node shutdown).

Deletions have a grace period of 0: the kubelet that would have finished
them is gone or was never involved. It records no events, as upstream.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api import errors
from engine.api.meta import timestamp
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

GC_CHECK_PERIOD = 20.0
QUARANTINE_TIME = 40.0
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


def is_terminated(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Pending", "Running", "Unknown", None)


def terminated_to_delete(pods: list[dict], threshold: int = flags.terminated_pod_gc_threshold) -> list[dict]:
    """gcTerminated: the terminated pods over the threshold, evicted first, then oldest first."""
    terminated = [p for p in pods if is_terminated(p)]
    excess = len(terminated) - threshold
    if threshold <= 0 or excess <= 0:
        return []
    terminated.sort(key=lambda p: ((p.get("status") or {}).get("reason") != "Evicted",
                                   p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]))
    return terminated[:excess]


def _ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or ())


def _out_of_service(node: dict) -> bool:
    return any(t.get("key") == OUT_OF_SERVICE and t.get("effect") in ("NoExecute", "NoSchedule")
               for t in (node.get("spec") or {}).get("taints") or ())


class PodGCController:
    """Deletes terminated pods over the threshold and pods orphaned by their node."""

    name = "pod-garbage-collector"
    service_account = "pod-garbage-collector"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.pods = context.informers.informer("pods")
        self.nodes = context.informers.informer("nodes")
        self.missing_since: dict[str, float] = {}     # nodeQueue: node name -> when first missed
        self.timer: Timer | None = None

    def start(self) -> None:
        self.timer = self.loop.call_later(GC_CHECK_PERIOD, self._tick, label=self.name)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _tick(self) -> None:
        self.timer = self.loop.call_later(GC_CHECK_PERIOD, self._tick, label=self.name)
        if self.pods.has_synced and self.nodes.has_synced:
            self.gc()

    def gc(self) -> None:
        pods = sorted(self.pods.indexer.list(), key=lambda p: (p["metadata"].get("namespace"), p["metadata"]["name"]))
        nodes = {n["metadata"]["name"]: n for n in self.nodes.indexer.list()}
        for pod in terminated_to_delete(pods):
            self._delete(pod)
        self._gc_terminating(pods, nodes)
        self._gc_orphaned(pods, nodes)
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp") and not (pod.get("spec") or {}).get("nodeName"):
                self._delete(pod)            # gcUnscheduledTerminating

    def _gc_terminating(self, pods: list[dict], nodes: dict[str, dict]) -> None:
        for pod in pods:
            node = nodes.get((pod.get("spec") or {}).get("nodeName") or "")
            if pod["metadata"].get("deletionTimestamp") and node is not None and not _ready(node) \
                    and _out_of_service(node):
                self._delete(pod)

    def _gc_orphaned(self, pods: list[dict], nodes: dict[str, dict]) -> None:
        now = self.loop.now
        bound = {(p.get("spec") or {}).get("nodeName") for p in pods} - {None, ""}
        for name in sorted(bound - set(nodes)):
            self.missing_since.setdefault(name, now)
        for name in list(self.missing_since):
            if name in nodes or name not in bound:
                del self.missing_since[name]
        gone = set()
        for name, since in sorted(self.missing_since.items()):
            if now - since < QUARANTINE_TIME:
                continue
            try:
                self.client.get("nodes", name)
                del self.missing_since[name]
            except errors.NotFound:
                gone.add(name)
        for pod in pods:
            if (pod.get("spec") or {}).get("nodeName") in gone:
                log.info("podgc: deleting pod %s/%s of deleted node", pod["metadata"].get("namespace"),
                         pod["metadata"]["name"])
                self._delete(pod, condition=("DeletionByPodGC", "PodGC: node no longer exists"))

    def _delete(self, pod: dict, condition: tuple[str, str] | None = None) -> None:
        """markFailedAndDeletePodWithCondition: Failed with the condition if still running, then a 0 s delete."""
        meta = pod["metadata"]
        try:
            if condition is not None and not is_terminated(pod):
                self.client.patch("pods", meta["name"], {"status": {"phase": "Failed", "conditions": [
                    {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                     "lastTransitionTime": timestamp(self.loop.now), "reason": condition[0],
                     "message": condition[1]}]}}, meta.get("namespace"), patch_type=STRATEGIC_MERGE_PATCH,
                    subresource="status")
            self.client.delete("pods", meta["name"], meta.get("namespace"), grace_period_seconds=0)
        except errors.NotFound:
            return
        except errors.ApiError as error:
            log.info("podgc: could not delete %s/%s: %s", meta.get("namespace"), meta["name"], error)
