"""The taint eviction controller (``pkg/controller/tainteviction``): pods leave nodes with NoExecute taints.

Whenever a node's NoExecute taints or a pod on it change, each pod is
weighed against the taints (``processPodOnNode``): a pod that does not
tolerate every one is deleted at once; a pod whose matching tolerations all
carry ``tolerationSeconds`` is deleted after the smallest of them (counted
from when its eviction was first scheduled, so re-checks never postpone
it); a pod tolerating them forever, or a node without NoExecute taints,
cancels any scheduled deletion. Every pod gets the ``not-ready`` and
``unreachable`` tolerations for 300 s from the DefaultTolerationSeconds
admission plugin, which is why pods leave a dead node five minutes after it
is tainted. A deletion first records ``TaintManagerEviction`` "Marking for
deletion Pod <ns>/<name>" (a cancellation "Cancelling deletion of Pod ..."),
adds the ``DisruptionTarget`` condition (reason ``DeletionByTaintManager``)
and then deletes the pod with its default grace period. The controller
never taints nodes: the node lifecycle controller does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import timestamp
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.informer import SharedInformer
from engine.client.record import EventRecorder
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

NODE_NAME_INDEX = "spec.nodeName"


def tolerates(toleration: dict, taint: dict) -> bool:
    """Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def matching_tolerations(taints: list[dict], tolerations: list[dict]) -> tuple[bool, list[dict]]:
    """GetMatchingTolerations: whether every taint is tolerated, and the first toleration matching each."""
    used = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_time(used: list[dict]) -> float | None:
    """getMinTolerationTime: seconds until eviction; 0 for none or a non-positive one; None for never."""
    if not used:
        return 0.0
    seconds = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not seconds:
        return None
    return 0.0 if min(seconds) <= 0 else float(min(seconds))


def no_execute_taints(node: dict | None) -> list[dict]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or () if t.get("effect") == "NoExecute"]


@dataclass
class ScheduledEviction:
    created_at: float
    fire_at: float
    timer: Timer


def _pod_node_index(pod: dict) -> list[str]:
    node = (pod.get("spec") or {}).get("nodeName")
    return [node] if node else []


def add_pod_node_index(pods: "SharedInformer") -> None:
    """Index the shared pod informer by node name (once: several controllers share it)."""
    if NODE_NAME_INDEX not in pods.indexer.get_indexers():
        pods.add_indexers({NODE_NAME_INDEX: _pod_node_index})


class TaintEvictionController:
    """Deletes pods that do not tolerate their node's NoExecute taints, when their tolerations run out."""

    name = "taint-eviction-controller"
    service_account = "taint-eviction-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "taint-eviction-controller")
        self.nodes = context.informers.informer("nodes")
        self.pods = context.informers.informer("pods")
        add_pod_node_index(self.pods)
        self.scheduled: dict[str, ScheduledEviction] = {}
        self.running = False
        self.nodes.add_event_handler(on_add=self._node_changed, on_update=lambda old, new: self._node_changed(new))
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=lambda old, new: self._pod_changed(new),
                                    on_delete=self._pod_deleted)

    def start(self) -> None:
        self.running = True
        for node in self.nodes.indexer.list():
            self._node_changed(node)

    def stop(self) -> None:
        self.running = False
        for scheduled in self.scheduled.values():
            scheduled.timer.cancel()
        self.scheduled.clear()

    # -- events -----------------------------------------------------------------------------------
    def _node_changed(self, node: dict) -> None:
        if not self.running:
            return
        taints = no_execute_taints(node)
        for pod in self.pods.lister.by_index(NODE_NAME_INDEX, node["metadata"]["name"]):
            self.process_pod(pod, taints)

    def _pod_changed(self, pod: dict) -> None:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not self.running or not node_name:
            return
        if pod["metadata"].get("deletionTimestamp"):
            self._cancel(_key(pod), event=False)
            return
        self.process_pod(pod, no_execute_taints(self.nodes.lister.get(None, node_name)))

    def _pod_deleted(self, obj: object) -> None:
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self._cancel(_key(pod), event=False)             # type: ignore[arg-type]

    # -- decisions --------------------------------------------------------------------------------
    def process_pod(self, pod: dict, taints: list[dict]) -> None:
        """processPodOnNode: cancel, delete now, or schedule the deletion after the tolerations run out."""
        key = _key(pod)
        if pod["metadata"].get("deletionTimestamp"):
            return
        if not taints:
            self._cancel(key)
            return
        all_tolerated, used = matching_tolerations(taints, (pod.get("spec") or {}).get("tolerations") or [])
        now = self.loop.now
        if not all_tolerated:
            self._cancel(key)
            self._schedule(key, now, now)
            return
        wait = min_toleration_time(used)
        if wait is None:
            self._cancel(key)
            return
        start = now
        existing = self.scheduled.get(key)
        if existing is not None:
            start = existing.created_at
            if start + wait < now + wait:
                return
            self._cancel(key)
        self._schedule(key, start, start + wait)

    def _schedule(self, key: str, created_at: float, fire_at: float) -> None:
        timer = self.loop.call_at(max(fire_at, self.loop.now), self._evict, key, label=f"taint eviction {key}")
        self.scheduled[key] = ScheduledEviction(created_at, fire_at, timer)

    def _cancel(self, key: str, event: bool = True) -> None:
        scheduled = self.scheduled.pop(key, None)
        if scheduled is None:
            return
        scheduled.timer.cancel()
        if event:
            namespace, name = key.split("/", 1)
            self.recorder.eventf(_pod_reference(namespace, name), "Normal", "TaintManagerEviction",
                                 "Cancelling deletion of Pod %s", key)

    def _evict(self, key: str) -> None:
        """deletePodHandler: the event, the DisruptionTarget condition, then the deletion."""
        self.scheduled.pop(key, None)
        if not self.running:
            return
        namespace, name = key.split("/", 1)
        self.recorder.eventf(_pod_reference(namespace, name), "Normal", "TaintManagerEviction",
                             "Marking for deletion Pod %s", key)
        try:
            pod = thaw(self.client.get("pods", name, namespace))
            conditions = [c for c in (pod.get("status") or {}).get("conditions") or ()
                          if c.get("type") != "DisruptionTarget"]
            conditions.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                               "lastTransitionTime": timestamp(self.loop.now), "reason": "DeletionByTaintManager",
                               "message": "Taint manager: deleting due to NoExecute taint"})
            pod.setdefault("status", {})["conditions"] = conditions
            self.client.update_status(pod)
            self.client.delete("pods", name, namespace)
        except errors.NotFound:
            return
        except errors.ApiError as error:
            log.info("taint eviction of %s failed, retrying: %s", key, error)
            self._schedule(key, self.loop.now, self.loop.now + 1.0)


def _key(pod: dict) -> str:
    return f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}"


def _pod_reference(namespace: str, name: str) -> dict:
    """The ObjectReference the upstream events use (the pod's kind, namespace and name)."""
    return {"apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": name}
