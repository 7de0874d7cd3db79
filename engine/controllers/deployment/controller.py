"""The Deployment controller (pkg/controller/deployment/deployment_controller.go): informers, queue, sync.

Informers on Deployments, ReplicaSets and Pods only queue Deployment keys
(a ReplicaSet event queues its owning Deployment, or for an orphan every
Deployment selecting it; a deleted pod queues a Recreate Deployment once its
last old pod is gone). ``sync(key)`` reads the Deployment from the cache and:

1. a Deployment selecting everything gets a ``SelectingAll`` warning, nothing else;
2. claims its ReplicaSets (adopting orphans that match, releasing sets that
   no longer do) and maps its pods by set;
3. being deleted: status only. Paused or resumed: the Progressing condition
   says so. Paused: only scaling (``sync``). A rollback annotation: roll
   back. A scaling event (spec.replicas changed): scale proportionally.
   Otherwise one step of the strategy: ``rollout_recreate`` or
   ``rollout_rolling``.

Writes go through the ``deployment-controller`` ServiceAccount; Events are
recorded as ``deployment-controller``. The cache is never modified: a sync
works on a thawed copy.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api.frozen import thaw
from engine.api.meta import object_key
from engine.api.selectors import from_label_selector
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import controller_utils as cu
from engine.controllers.controller_ref_manager import ControllerRefManager, controller_of
from engine.controllers.deployment import util
from engine.controllers.deployment.recreate import rollout_recreate
from engine.controllers.deployment.rollback import rollback, rollback_to
from engine.controllers.deployment.rolling import rolling_update_step, rollout_rolling
from engine.controllers.deployment.sync import SyncMixin

log = logging.getLogger(__name__)


class DeploymentController(SyncMixin):
    """Rolls each Deployment's pod template out through ReplicaSets."""

    name = "deployment"
    service_account = "deployment-controller"
    """The ServiceAccount the controller manager gives this controller's client (--use-service-account-credentials)."""
    rolling_update_step = staticmethod(rolling_update_step)
    """The rolling-update decision; a subclass (a lab's controller) replaces it with its own function."""

    def __init__(self, context: ComponentContext, *, workers: int = flags.concurrent_syncs) -> None:
        self.loop = context.loop
        self.client = context.client          # the manager hands us our ServiceAccount's client
        self.recorder = EventRecorder(self.client, self.service_account)
        self.queue = WorkQueue(context.loop, name=self.name)
        self.deployments = context.informers.informer("deployments")
        self.sets = context.informers.informer("replicasets")
        self.pods = context.informers.informer("pods")
        cu.add_controller_uid_indexer(self.sets)
        cu.add_controller_uid_indexer(self.pods)
        self.deployments.add_event_handler(on_add=self.queue.add_key,
                                           on_update=lambda _old, new: self.queue.add_key(new),
                                           on_delete=self.queue.add_key)
        self.sets.add_event_handler(on_add=self._set_added, on_update=self._set_updated,
                                    on_delete=self._set_deleted)
        self.pods.add_event_handler(on_delete=self._pod_deleted)
        self.worker_count = workers
        self.workers = None

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync_deployment, self.worker_count)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    @staticmethod
    def key_of(d: dict) -> str:
        return object_key(d)

    # -- event handlers ---------------------------------------------------------------------
    def _resolve(self, namespace: str, ref: dict | None) -> dict | None:
        if ref is None or ref.get("kind") != "Deployment":
            return None
        d = self.deployments.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        return d if d is not None and d["metadata"].get("uid") == ref.get("uid") else None

    def _deployments_selecting(self, rs: dict) -> list[dict]:
        labels = rs["metadata"].get("labels")
        if not labels:
            return []
        return [d for d in self.deployments.lister.list(rs["metadata"].get("namespace"))
                if not from_label_selector(d["spec"].get("selector")).empty
                and from_label_selector(d["spec"].get("selector")).matches(labels)]

    def _enqueue_owner_or_selecting(self, rs: dict) -> None:
        ref = controller_of(rs)
        if ref is not None:
            d = self._resolve(rs["metadata"]["namespace"], ref)
            if d is not None:
                self.queue.add(object_key(d))
            return
        for d in self._deployments_selecting(rs):
            self.queue.add(object_key(d))

    def _set_added(self, rs: dict) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            self._set_deleted(rs)
            return
        self._enqueue_owner_or_selecting(rs)

    def _set_updated(self, old: dict, cur: dict) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        if cur_ref != old_ref and old_ref is not None:
            d = self._resolve(old["metadata"]["namespace"], old_ref)
            if d is not None:
                self.queue.add(object_key(d))
        if cur_ref is not None:
            d = self._resolve(cur["metadata"]["namespace"], cur_ref)
            if d is not None:
                self.queue.add(object_key(d))
            return
        if old["metadata"].get("labels") != cur["metadata"].get("labels") or cur_ref != old_ref:
            for d in self._deployments_selecting(cur):
                self.queue.add(object_key(d))

    def _set_deleted(self, obj: object) -> None:
        rs = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        d = self._resolve(rs["metadata"]["namespace"], controller_of(rs))
        if d is not None:
            self.queue.add(object_key(d))

    def _pod_deleted(self, obj: object) -> None:
        """A Recreate Deployment waits for its old pods: queue it when the last one is gone."""
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        namespace = pod["metadata"]["namespace"]
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.sets.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        if rs is None or rs["metadata"].get("uid") != ref.get("uid"):
            return
        d = self._resolve(namespace, controller_of(rs))
        if d is None or util.is_rolling_update(d):
            return
        rs_list = [s for s in cu.owned_or_orphaned(self.sets, namespace, d["metadata"]["uid"])
                   if controller_of(s) is not None]
        if not any(self.get_pod_map(d, rs_list).values()):
            self.queue.add(object_key(d))

    # -- reads --------------------------------------------------------------------------------
    def get_replica_sets_for_deployment(self, d: dict) -> list[dict]:
        namespace = d["metadata"]["namespace"]
        candidates = cu.owned_or_orphaned(self.sets, namespace, d["metadata"]["uid"])
        manager = ControllerRefManager(self.client, d, from_label_selector(d["spec"].get("selector")),
                                       "replicasets", "deployments")
        return manager.claim(candidates)

    def get_pod_map(self, d: dict, rs_list: list[dict]) -> dict[str, list[dict]]:
        """getPodMapForDeployment: the Deployment's pods, by the uid of the set controlling them."""
        pod_map: dict[str, list[dict]] = {rs["metadata"]["uid"]: [] for rs in rs_list}
        selector = from_label_selector(d["spec"].get("selector"))
        for pod in self.pods.lister.list(d["metadata"]["namespace"], selector):
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") in pod_map:
                pod_map[ref["uid"]].append(pod)
        return pod_map

    # -- writes ---------------------------------------------------------------------------------
    def update_deployment_status(self, d: dict) -> dict:
        """UpdateStatus; changed annotations (the revision) are written first with a main-resource update.

        The real status subresource of a Deployment also accepts metadata changes; ours keeps only
        ``status``, so the revision annotation goes through an ordinary update.
        """
        cached = self.deployments.indexer.get_by_key(object_key(d))
        if cached is not None and (cached["metadata"].get("annotations") or {}) != util.annotations_of(d):
            body = thaw(cached)
            body["metadata"]["annotations"] = dict(util.annotations_of(d))
            body["metadata"]["resourceVersion"] = d["metadata"].get("resourceVersion")
            stored = self.client.update(body)
            d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        stored = self.client.update_status(d)
        d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return stored

    # -- sync ------------------------------------------------------------------------------------
    def sync_deployment(self, key: str) -> None:
        cached = self.deployments.indexer.get_by_key(key)
        if cached is None:
            return
        d = thaw(cached)
        d.setdefault("status", {})
        if from_label_selector(d["spec"].get("selector")).empty:
            self.recorder.event(d, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            if int(d["status"].get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 0):
                d["status"]["observedGeneration"] = d["metadata"].get("generation")
                self.client.update_status(d)
            return
        rs_list = self.get_replica_sets_for_deployment(d)
        pod_map = self.get_pod_map(d, rs_list)
        if d["metadata"].get("deletionTimestamp"):
            self.sync_status_only(d, rs_list)
            return
        self.check_paused_conditions(d)
        if d["spec"].get("paused"):
            self.sync(d, rs_list)
            return
        if rollback_to(d) is not None:
            rollback(self, d, rs_list)
            return
        if self.is_scaling_event(d, rs_list):
            self.sync(d, rs_list)
            return
        if util.is_rolling_update(d):
            rollout_rolling(self, d, rs_list)
        else:
            rollout_recreate(self, d, rs_list, pod_map)
