"""The status manager: the one writer of pod status, through the ``pods/status`` subresource (``status_manager.go``).

The pod workers hand it the status they computed; it writes only when
something changed (so a steady node does not flood the API server), keeps
each condition's ``lastTransitionTime`` until its status flips, and never
lets a terminal phase (Succeeded, Failed) go back. A static pod's status is
written to its mirror pod. Once a pod that the API server marked for
deletion has no running container left, the status manager makes the final
``DELETE`` with a grace period of 0 and the pod's uid as precondition: that
is when the pod object really disappears.

It talks only to the API server, with the node's credentials; it never
looks at the runtime.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import timestamp
from engine.kubelet.status import KUBELET_CONDITIONS, SHARED_CONDITIONS

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.sim.loop import Loop

log = logging.getLogger(__name__)

TERMINAL = ("Succeeded", "Failed")


def _comparable(status: dict) -> dict:
    copy = dict(status)
    copy["conditions"] = [{k: v for k, v in c.items() if k not in ("lastTransitionTime", "lastProbeTime")}
                          for c in status.get("conditions") or []]
    return copy


def merge_pod_status(api_status: dict, status: dict) -> dict:
    """mergePodStatus: conditions others wrote (DisruptionTarget from eviction or preemption, readiness gates'
    conditions) are kept as the API has them, then come the kubelet's own; a condition the kubelet shares
    (DisruptionTarget, when it evicts) replaces the API's or is appended."""
    merged = [dict(c) for c in api_status.get("conditions") or [] if c.get("type") not in KUBELET_CONDITIONS]
    for condition in status.get("conditions") or []:
        if condition.get("type") in KUBELET_CONDITIONS:
            merged.append(condition)
        elif condition.get("type") in SHARED_CONDITIONS:
            index = next((i for i, c in enumerate(merged) if c.get("type") == condition["type"]), None)
            if index is None:
                merged.append(condition)
            else:
                merged[index] = condition
    return {**status, "conditions": merged}


class StatusManager:
    """Caches the newest status per pod uid and syncs it to the API server when it changes."""

    def __init__(self, client: "Client", loop: "Loop", api_pod: Callable[[dict], dict | None]) -> None:
        self.client = client
        self.loop = loop
        self._api_pod = api_pod
        self.statuses: dict[str, dict] = {}
        self.writes = 0

    def get(self, uid: str) -> dict | None:
        return self.statuses.get(uid)

    def set_pod_status(self, pod: dict, status: dict) -> None:
        """SetPodStatus: remember ``status`` for ``pod`` and write it if it differs from what the API has."""
        uid = pod["metadata"]["uid"]
        current = self._api_pod(pod)
        old = self.statuses.get(uid) or ((current or {}).get("status")) or {}
        if old.get("phase") in TERMINAL and status.get("phase") not in TERMINAL:
            status = {**status, "phase": old["phase"]}
        self._transition_times(old, status)
        self.statuses[uid] = status
        if current is None:
            return
        status = self.statuses[uid] = merge_pod_status(current.get("status") or {}, status)
        if _comparable(current.get("status") or {}) == _comparable(status):
            return
        self._write(current, status)

    def _transition_times(self, old: dict, status: dict) -> None:
        previous = {c["type"]: c for c in old.get("conditions") or []}
        now = timestamp(self.loop.now)
        for condition in status.get("conditions") or []:
            before = previous.get(condition["type"])
            if before is not None and before.get("status") == condition["status"] and before.get("lastTransitionTime"):
                condition["lastTransitionTime"] = before["lastTransitionTime"]
            elif not condition.get("lastTransitionTime"):
                condition["lastTransitionTime"] = now

    def _write(self, current: dict, status: dict) -> None:
        meta = current["metadata"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": meta["name"], "namespace": meta.get("namespace")},
               "status": thaw(status)}
        try:
            self.client.update_status(pod)
            self.writes += 1
        except errors.NotFound:
            return
        except errors.ApiError as error:
            log.debug("pod %s: status update failed: %s", current["metadata"]["name"], error)

    def terminated(self, pod: dict) -> None:
        """The pod's containers are all stopped: finish a graceful deletion the API server started."""
        current = self._api_pod(pod)
        if current is None or not current["metadata"].get("deletionTimestamp"):
            return
        try:
            self.client.delete("pods", current["metadata"]["name"], current["metadata"].get("namespace"),
                               grace_period_seconds=0, preconditions={"uid": current["metadata"]["uid"]})
        except errors.ApiError as error:
            log.debug("pod %s: final delete failed: %s", current["metadata"]["name"], error)

    def forget(self, uid: str) -> None:
        self.statuses.pop(uid, None)
