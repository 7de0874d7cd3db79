"""The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas pods running for each ReplicaSet.

Informers on ReplicaSets and Pods only queue ReplicaSet keys; ``sync(key)``:

1. reads the ReplicaSet from the cache (gone: forget its expectations);
2. lists the pods it may own (controlled by its uid, or orphans of its
   namespace), keeps the active ones, and claims them (adopts matching
   orphans, releases owned pods whose labels no longer match);
3. if its expectations are satisfied (every create and delete it asked for
   has been seen by the pod informer, or five minutes have passed) and it is
   not being deleted, acts on ``manage_replicas``: the pure decision of how
   many pods to create or which pods to delete (at most ``BURST_REPLICAS``
   per sync; deletions in ActivePodsWithRanks order). Pods are created in
   slow-start batches (1, 2, 4, ...), so a failing create (quota, admission)
   costs one call, not hundreds; creations never made are taken off the
   expectations at once;
4. writes ``status`` (replicas, fullyLabeledReplicas, readyReplicas,
   availableReplicas after minReadySeconds, observedGeneration, the
   ReplicaFailure condition) through the status subresource, only when it
   changed; when all pods are ready but not yet available it checks again
   after minReadySeconds.

Expectations are what keep the controller from double-creating: the cache
lags the API server (the watch delay), so right after creating 3 pods the
cache still shows none; until the 3 creations are observed, the controller
does not act on the cache. Writes go through the controller's own
ServiceAccount client (``replicaset-controller``); Events are recorded as
``replicaset-controller``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import object_key, owner_reference, timestamp
from engine.api.selectors import from_label_selector, from_set
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import controller_utils as cu
from engine.controllers.controller_ref_manager import ControllerRefManager, controller_of
from engine import flags

log = logging.getLogger(__name__)

BURST_REPLICAS = 500
"""BurstReplicas: the most pods one sync creates or deletes."""
STATUS_UPDATE_RETRIES = 1
REPLICA_FAILURE = "ReplicaFailure"


# -- the decision (a lab replaces it) -----------------------------------------------------

@dataclass(frozen=True)
class ReplicaPlan:
    """What one sync does: create ``create`` pods, or delete ``delete`` (in that order)."""

    create: int = 0
    delete: tuple[dict, ...] = ()


def manage_replicas(replicas: int, pods: list[dict], related_pods: list[dict], now: float,
                    burst_replicas: int = BURST_REPLICAS) -> ReplicaPlan:
    """manageReplicas' diff: ``pods`` are the active pods owned; ``related_pods`` also those of sibling sets.

    Too few: create the difference (at most ``burst_replicas``). Too many: delete the difference (at
    most ``burst_replicas``), first the pods ActivePodsWithRanks puts first (unscheduled, pending,
    not ready, doubled up on a node with related pods, ready for less time, newer).
    """
    diff = len(pods) - replicas
    if diff < 0:
        return ReplicaPlan(create=min(-diff, burst_replicas))
    if diff > 0:
        diff = min(diff, burst_replicas)
        if diff < len(pods):
            ranks = cu.ranks_by_related_pods_on_same_node(pods, related_pods)
            pods = cu.sort_active_pods_with_ranks(pods, ranks, now)
        return ReplicaPlan(delete=tuple(pods[:diff]))
    return ReplicaPlan()


def calculate_status(rs: dict, pods: list[dict], manage_error: Exception | None, now: float) -> dict:
    """calculateStatus: the new ``status`` from the claimed active pods (observedGeneration set on write)."""
    spec, status = rs.get("spec") or {}, thaw(rs.get("status") or {})
    template_labels = from_set(((spec.get("template") or {}).get("metadata") or {}).get("labels"))
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully_labeled = sum(1 for pod in pods if template_labels.matches(pod["metadata"].get("labels")))
    ready = [pod for pod in pods if cu.is_pod_ready(pod)]
    available = sum(1 for pod in ready if cu.is_pod_available(pod, min_ready, now))
    conditions = [c for c in status.get("conditions") or []]
    failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - int(spec.get("replicas", 1))
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append({"type": REPLICA_FAILURE, "status": "True", "lastTransitionTime": timestamp(now),
                           "reason": reason, "message": str(manage_error)})
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    status["replicas"] = len(pods)
    for field, value in (("fullyLabeledReplicas", fully_labeled), ("readyReplicas", len(ready)),
                         ("availableReplicas", available)):
        if value:
            status[field] = value
        else:
            status.pop(field, None)           # omitempty, as the API serialises int32 zero
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    return status


# -- the controller ------------------------------------------------------------------------

class ReplicaSetController:
    """Keeps the number of active pods owned by each ReplicaSet at spec.replicas."""

    name = "replicaset"
    kind = "ReplicaSet"
    resource = "replicasets"
    service_account = "replicaset-controller"
    """The ServiceAccount the controller manager gives this controller's client (--use-service-account-credentials)."""
    manage_replicas = staticmethod(manage_replicas)
    """The decision; a subclass (a lab's controller) replaces it with its own function."""

    def __init__(self, context: ComponentContext, *, workers: int = flags.concurrent_syncs) -> None:
        self.loop = context.loop
        self.client = context.client          # the manager hands us our ServiceAccount's client
        self.recorder = EventRecorder(self.client, self.service_account)
        self.pod_control = cu.PodControl(self.client, self.recorder)
        self.expectations = cu.UIDTrackingControllerExpectations(lambda: self.loop.now)
        self.queue = WorkQueue(context.loop, name=self.name)
        self.sets = context.informers.informer(self.resource)
        self.pods = context.informers.informer("pods")
        cu.add_controller_uid_indexer(self.pods)
        cu.add_controller_uid_indexer(self.sets)
        self.sets.add_event_handler(on_add=self.queue.add_key, on_update=lambda _old, new: self.queue.add_key(new),
                                    on_delete=self._set_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)
        self.worker_count = workers
        self.workers = None

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync, self.worker_count)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    # -- selectors and owners --------------------------------------------------------------
    def selector_of(self, rs: dict):
        return from_label_selector((rs.get("spec") or {}).get("selector"))

    def _resolve(self, namespace: str, ref: dict | None) -> dict | None:
        if ref is None or ref.get("kind") != self.kind:
            return None
        rs = self.sets.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        return rs if rs is not None and rs["metadata"].get("uid") == ref.get("uid") else None

    def _sets_selecting(self, pod: dict) -> list[dict]:
        """getPodReplicaSets: the sets whose selector matches an orphan pod's labels."""
        labels = pod["metadata"].get("labels")
        if not labels:
            return []
        namespace = pod["metadata"].get("namespace")
        return [rs for rs in self.sets.lister.list(namespace) if self.selector_of(rs).matches(labels)]

    # -- event handlers: they only queue keys and record observations ----------------------
    def _set_deleted(self, obj: object) -> None:
        rs = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        key = object_key(rs)
        self.expectations.delete(key)
        self.queue.add(key)

    def _pod_added(self, pod: dict) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)            # a restarted controller may see a pod already being deleted
            return
        ref = controller_of(pod)
        if ref is not None:
            rs = self._resolve(pod["metadata"]["namespace"], ref)
            if rs is not None:
                key = object_key(rs)
                self.expectations.creation_observed(key)
                self.queue.add(key)
            return
        for rs in self._sets_selecting(pod):
            self.queue.add(object_key(rs))

    def _pod_updated(self, old: dict, cur: dict) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return                            # a resync: nothing changed
        label_changed = old["metadata"].get("labels") != cur["metadata"].get("labels")
        if cur["metadata"].get("deletionTimestamp"):
            self._pod_deleted(cur)
            if label_changed:
                self._pod_deleted(old)
            return
        namespace = cur["metadata"]["namespace"]
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            old_rs = self._resolve(namespace, old_ref)
            if old_rs is not None:
                self.queue.add(object_key(old_rs))
        if cur_ref is not None:
            rs = self._resolve(namespace, cur_ref)
            if rs is None:
                return
            self.queue.add(object_key(rs))
            min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not cu.is_pod_ready(old) and cu.is_pod_ready(cur):
                self.queue.add_after(object_key(rs), min_ready + 1)
            return
        if label_changed or ref_changed:
            for rs in self._sets_selecting(cur):
                self.queue.add(object_key(rs))

    def _pod_deleted(self, obj: object) -> None:
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        rs = self._resolve(pod["metadata"]["namespace"], controller_of(pod))
        if rs is None:
            return
        key = object_key(rs)
        self.expectations.deletion_observed(key, object_key(pod))
        self.queue.add(key)

    # -- sync ------------------------------------------------------------------------------------
    def related_pods(self, rs: dict) -> list[dict]:
        """getIndirectlyRelatedPods: the pods of every set with the same controller (a Deployment's sets)."""
        ref = controller_of(rs)
        siblings = ([rs] if ref is None
                    else self.sets.indexer.by_index(cu.CONTROLLER_UID_INDEX, ref.get("uid", "")))
        seen: set[str] = set()
        related: list[dict] = []
        for sibling in siblings:
            for pod in self.pods.lister.list(sibling["metadata"].get("namespace"), self.selector_of(sibling)):
                uid = pod["metadata"].get("uid", "")
                if uid not in seen:
                    seen.add(uid)
                    related.append(pod)
        return related

    def sync(self, key: str) -> None:
        rs = self.sets.indexer.get_by_key(key)
        if rs is None:
            self.expectations.delete(key)
            return
        needs_sync = self.expectations.satisfied(key)
        namespace, uid = rs["metadata"]["namespace"], rs["metadata"]["uid"]
        candidates = cu.filter_active_pods(cu.owned_or_orphaned(self.pods, namespace, uid))
        manager = ControllerRefManager(self.client, rs, self.selector_of(rs), "pods", self.resource)
        pods = manager.claim(candidates)
        manage_error: Exception | None = None
        if needs_sync and not rs["metadata"].get("deletionTimestamp"):
            manage_error = self._manage(rs, key, pods)
        status = calculate_status(rs, pods, manage_error, self.loop.now)
        updated = self._update_status(rs, status)
        spec = updated.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        replicas = int(spec.get("replicas", 1))
        if (manage_error is None and min_ready > 0 and updated["status"].get("readyReplicas") == replicas
                and updated["status"].get("availableReplicas") != replicas):
            self.queue.add_after(key, min_ready)
        if manage_error is not None:
            raise manage_error

    def _manage(self, rs: dict, key: str, pods: list[dict]) -> Exception | None:
        replicas = int((rs.get("spec") or {}).get("replicas", 1))
        related = self.related_pods(rs) if len(pods) > replicas else []
        plan = self.manage_replicas(replicas, pods, related, self.loop.now)
        namespace = rs["metadata"]["namespace"]
        if plan.create:
            self.expectations.expect_creations(key, plan.create)
            ref = owner_reference(rs)

            def create() -> None:
                self.pod_control.create_pods(namespace, rs["spec"]["template"], rs, ref)

            successes, error = cu.slow_start_batch(plan.create, cu.SLOW_START_INITIAL_BATCH_SIZE, create)
            for _ in range(plan.create - successes):
                self.expectations.creation_observed(key)   # never made: do not wait for them
            return error
        if plan.delete:
            self.expectations.expect_deletions(key, [object_key(pod) for pod in plan.delete])
            first_error: Exception | None = None
            for pod in plan.delete:
                try:
                    self.pod_control.delete_pod(namespace, pod["metadata"]["name"], rs)
                except errors.ApiError as error:
                    self.expectations.deletion_observed(key, object_key(pod))
                    if not isinstance(error, errors.NotFound):
                        first_error = first_error or error
            return first_error
        return None

    def _update_status(self, rs: dict, status: dict) -> dict:
        """updateReplicaSetStatus: write only a changed status, retrying once on a conflict with a fresh read."""
        old = rs.get("status") or {}
        generation = rs["metadata"].get("generation", 0)
        same = all(old.get(f, 0) == status.get(f, 0) for f in
                   ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"))
        if same and old.get("observedGeneration") == generation and old.get("conditions") == status.get("conditions"):
            return rs
        current = thaw(rs)
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            current["status"] = dict(status, observedGeneration=current["metadata"].get("generation", 0))
            try:
                return self.client.update_status(current)
            except errors.ApiError:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
                current = self.client.get(self.resource, rs["metadata"]["name"], rs["metadata"]["namespace"])
        return rs
