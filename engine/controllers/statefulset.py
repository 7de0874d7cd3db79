"""The StatefulSet controller (``pkg/controller/statefulset``): pods with stable names, storage and order.

For each StatefulSet it keeps pods ``<set>-0`` .. ``<set>-(replicas-1)``
(``engine.controllers.statefulset_utils`` gives each its identity and its
PersistentVolumeClaims ``<claim>-<set>-<ordinal>``, created before the pod
and kept after it, as ``persistentVolumeClaimRetentionPolicy`` says). With
``podManagementPolicy: OrderedReady`` (the default) it creates one pod at a
time, in ordinal order, each only once all before it are Running and Ready,
and removes surplus pods one at a time from the highest ordinal; with
``Parallel`` it creates and deletes them all at once.

Updates follow ``updateStrategy``: ``RollingUpdate`` deletes the pod with the
highest ordinal whose ``controller-revision-hash`` is not the update revision,
one at a time, waiting for health, and only down to ``partition``; the pod is
recreated at the new revision (pods below the partition keep the current
one). ``OnDelete`` waits for the user to delete pods. Every template is a
ControllerRevision (``engine.controllers.history``). Status: replicas,
readyReplicas, currentReplicas, updatedReplicas, availableReplicas,
currentRevision, updateRevision, collisionCount, observedGeneration.

Events as upstream: ``create Pod web-0 in StatefulSet web successful``,
``create Claim www-web-0 Pod web-0 in StatefulSet web success``, ...
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference
from engine.api.selectors import from_label_selector
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import history as revisions
from engine.controllers import statefulset_utils as utils
from engine.controllers.controller_ref_manager import ControllerRefManager, controller_of

log = logging.getLogger(__name__)


@dataclass
class Status:
    """The counts one pass of updateStatefulSet works out."""

    replicas: int = 0
    ready: int = 0
    available: int = 0
    current: int = 0
    updated: int = 0


class StatefulSetController:
    """StatefulSetController + defaultStatefulSetControl: one pass per sync, as upstream."""

    name = "statefulset"
    service_account = "statefulset-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "statefulset-controller")
        self.history = revisions.History(context.client)
        self.queue = WorkQueue(context.loop, name="statefulset")
        informers = context.informers
        self.sets = informers.informer("statefulsets")
        self.pods = informers.informer("pods")
        self.revisions = informers.informer("controllerrevisions")
        self.claims = informers.informer("persistentvolumeclaims")
        self.sets.add_event_handler(on_add=self.queue.add_key, on_update=lambda old, new: self.queue.add_key(new),
                                    on_delete=self.queue.add_key)
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=self._pod_updated,
                                    on_delete=self._pod_changed)
        self.workers = None

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    # -- event handlers --------------------------------------------------------------
    def _resolve(self, obj: dict, reference: dict | None = None) -> dict | None:
        reference = reference or controller_of(obj)
        if reference is None or reference.get("kind") != "StatefulSet":
            return None
        sts = self.sets.indexer.get_by_key(f"{obj['metadata']['namespace']}/{reference.get('name')}")
        if sts is None or sts["metadata"].get("uid") != reference.get("uid"):
            return None
        return sts

    def _pod_changed(self, pod: Any) -> None:
        if isinstance(pod, DeletedFinalStateUnknown):
            pod = pod.obj
        sts = self._resolve(pod)
        if sts is not None:
            self.queue.add_key(sts)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if controller_of(old) != controller_of(new):
            self._pod_changed(old)
        self._pod_changed(new)

    @staticmethod
    def key_of(obj: dict) -> str:
        return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"

    # -- sync ------------------------------------------------------------------------
    def sync(self, key: str) -> None:
        sts = self.sets.indexer.get_by_key(key)
        if sts is None:
            return
        selector = from_label_selector(sts["spec"].get("selector"))
        namespace = sts["metadata"]["namespace"]
        pods = ControllerRefManager(self.client, sts, selector, "pods", "statefulsets").claim(
            self.pods.lister.list(namespace), lambda pod: utils.is_member_of(sts, pod))
        owned = ControllerRefManager(self.client, sts, selector, "controllerrevisions", "statefulsets").claim(
            self.revisions.lister.list(namespace))
        current, update, collision = self._revisions(sts, owned)
        status = self._update(sts, current, update, pods)
        self._write_status(sts, status, current, update, collision)
        self._truncate_history(sts, pods, owned, current, update)
        min_ready = sts["spec"].get("minReadySeconds") or 0
        if min_ready and status.ready != status.available:
            self.queue.add_after(key, float(min_ready))

    def _revisions(self, sts: dict, owned: list[dict]) -> tuple[dict, dict, int]:
        """getStatefulSetRevisions: (current revision, update revision, collisionCount)."""
        collision = (sts.get("status") or {}).get("collisionCount") or 0
        ordered = revisions.sort_revisions(owned)
        number = revisions.next_revision(ordered)
        wanted = {"data": revisions.revision_data(sts), "metadata": {}}
        equal = [r for r in ordered if revisions.equal_revision(r, wanted)]
        if equal and revisions.equal_revision(ordered[-1], equal[-1]):
            update = ordered[-1]                          # the template has not changed
        elif equal:
            update = self.history.update_revision(equal[-1], number)     # a rollback: renumber the old one
        else:
            hash_ = revisions.template_hash(sts)
            update = self.history.create(sts, revisions.new_revision(sts, number, hash_))
        name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in owned if r["metadata"]["name"] == name), update)
        return current, update, collision

    def _update(self, sts: dict, current: dict, update: dict, pods: list[dict]) -> Status:
        """updateStatefulSet: one pass over the ordinals; returns the status counts."""
        now = self.loop.now
        spec = sts["spec"]
        replicas_wanted = spec.get("replicas", 1)
        min_ready = spec.get("minReadySeconds") or 0
        current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
        current_template = current["data"]["spec"]["template"]
        current_template = {k: v for k, v in current_template.items() if k != "$patch"}
        status = Status()
        slots: list[dict | None] = [None] * replicas_wanted
        condemned: list[dict] = []
        for pod in pods:
            status.replicas += 1
            if utils.is_running_and_ready(pod):
                status.ready += 1
                status.available += utils.is_running_and_available(pod, min_ready, now)
            if not utils.is_terminating(pod):
                status.current += utils.pod_revision(pod) == current_name
                status.updated += utils.pod_revision(pod) == update_name
            index = utils.ordinal(pod)
            if 0 <= index < replicas_wanted:
                slots[index] = pod
            elif index >= replicas_wanted:
                condemned.append(pod)
        condemned.sort(key=utils.ordinal, reverse=True)
        first_unhealthy = next((p for p in [*(s for s in slots if s is not None), *condemned]
                                if not utils.is_healthy(p)), None)
        if sts["metadata"].get("deletionTimestamp"):
            return status
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        for index in range(replicas_wanted):
            pod = slots[index]
            if pod is not None and utils.is_failed(pod) and not utils.is_terminating(pod):
                self.recorder.event(sts, WARNING, "RecreatingFailedPod",
                                    f"StatefulSet {self.key_of(sts)} is recreating failed Pod {pod['metadata']['name']}")
                self._delete_pod(sts, pod)
                status.replicas -= 1
                status.current -= utils.pod_revision(pod) == current_name
                status.updated -= utils.pod_revision(pod) == update_name
                pod = None
            if pod is None:
                fresh = utils.new_versioned_pod(sts, current_template, current_name, update_name, index)
                self._create_pod(sts, fresh, index)
                status.replicas += 1
                status.current += utils.pod_revision(fresh) == current_name
                status.updated += utils.pod_revision(fresh) == update_name
                if monotonic:
                    return status
                continue
            if (pod.get("status") or {}).get("phase") == "Pending":
                self._create_claims(sts, pod, index)
            if monotonic and (utils.is_terminating(pod) or not utils.is_running_and_available(pod, min_ready, now)):
                return status
        for pod in condemned:                            # highest ordinal first
            if utils.is_terminating(pod):
                if monotonic:
                    return status
                continue
            if monotonic and pod is not first_unhealthy and not utils.is_running_and_available(pod, min_ready, now):
                return status
            self._delete_pod(sts, pod)
            status.current -= utils.pod_revision(pod) == current_name
            status.updated -= utils.pod_revision(pod) == update_name
            if monotonic:
                return status
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") == "OnDelete":
            return status
        partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
        for index in range(replicas_wanted - 1, partition - 1, -1):
            pod = slots[index]
            if pod is None:
                return status
            if utils.pod_revision(pod) != update_name and not utils.is_terminating(pod):
                self._delete_pod(sts, pod)
                status.current -= 1
                return status
            if not utils.is_healthy(pod):
                return status
        return status

    # -- pods and claims ---------------------------------------------------------------
    def _create_claims(self, sts: dict, pod: dict, index: int) -> None:
        """createPersistentVolumeClaims: every claim the pod needs that does not exist yet."""
        policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        for _, claim in utils.claims_for(sts, index):
            name = claim["metadata"]["name"]
            if self.claims.indexer.get_by_key(f"{sts['metadata']['namespace']}/{name}") is not None:
                continue
            if policy.get("whenDeleted") == "Delete":
                claim["metadata"]["ownerReferences"] = [owner_reference(sts)]
            try:
                self.client.create(claim)
            except errors.AlreadyExists:
                continue
            except errors.ApiError as error:
                self.recorder.event(sts, WARNING, "FailedCreate", f"create Claim {name} for Pod "
                                    f"{pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} failed "
                                    f"error: {error}")
                raise
            self.recorder.event(sts, NORMAL, "SuccessfulCreate", f"create Claim {name} Pod {pod['metadata']['name']} "
                                f"in StatefulSet {sts['metadata']['name']} success")

    def _create_pod(self, sts: dict, pod: dict, index: int) -> None:
        """CreateStatefulPod: its claims first, then the pod, with upstream's events."""
        self._create_claims(sts, pod, index)
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        try:
            self.client.create(pod)
        except errors.AlreadyExists:
            return
        except errors.ApiError as error:
            self.recorder.event(sts, WARNING, "FailedCreate",
                                f"create Pod {name} in StatefulSet {set_name} failed error: {error}")
            raise
        self.recorder.event(sts, NORMAL, "SuccessfulCreate", f"create Pod {name} in StatefulSet {set_name} successful")

    def _delete_pod(self, sts: dict, pod: dict) -> None:
        """DeleteStatefulPod; with whenScaled: Delete a condemned pod's claims get the pod as owner first."""
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        if policy.get("whenScaled") == "Delete" and utils.ordinal(pod) >= sts["spec"].get("replicas", 1):
            for _, claim in utils.claims_for(sts, utils.ordinal(pod)):
                patch = {"metadata": {"ownerReferences": [owner_reference(pod, controller=False)]}}
                try:
                    self.client.patch("persistentvolumeclaims", claim["metadata"]["name"], patch,
                                      sts["metadata"]["namespace"])
                except errors.NotFound:
                    pass
        try:
            self.client.delete("pods", name, sts["metadata"]["namespace"])
        except errors.NotFound:
            return
        except errors.ApiError as error:
            self.recorder.event(sts, WARNING, "FailedDelete",
                                f"delete Pod {name} in StatefulSet {set_name} failed error: {error}")
            raise
        self.recorder.event(sts, NORMAL, "SuccessfulDelete", f"delete Pod {name} in StatefulSet {set_name} successful")

    # -- status and history ---------------------------------------------------------------
    def _write_status(self, sts: dict, counts: Status, current: dict, update: dict, collision: int) -> None:
        """updateStatefulSetStatus, with completeRollingUpdate: a finished update makes it the current revision."""
        spec = sts["spec"]
        current_name, current_count = current["metadata"]["name"], counts.current
        wanted = spec.get("replicas", 1)
        if ((spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
                and counts.updated == wanted and counts.ready == wanted and counts.replicas == wanted):
            current_name, current_count = update["metadata"]["name"], counts.updated
        status = dict(sts.get("status") or {})
        fresh = {**status, "observedGeneration": sts["metadata"].get("generation"), "replicas": counts.replicas,
                 "availableReplicas": counts.available, "currentRevision": current_name,
                 "updateRevision": update["metadata"]["name"], "collisionCount": collision}
        for field, value in (("readyReplicas", counts.ready), ("currentReplicas", current_count),
                             ("updatedReplicas", counts.updated)):
            if value:
                fresh[field] = value
            else:
                fresh.pop(field, None)
        if fresh != status:
            copy = thaw(sts)
            copy["status"] = fresh
            self.client.update_status(copy)

    def _truncate_history(self, sts: dict, pods: list[dict], owned: list[dict], current: dict,
                          update: dict) -> None:
        """truncateHistory: keep revisionHistoryLimit revisions besides the live ones."""
        live = {utils.pod_revision(pod) for pod in pods} | {current["metadata"]["name"], update["metadata"]["name"]}
        old = [r for r in revisions.sort_revisions(owned) if r["metadata"]["name"] not in live]
        for revision in old[:max(0, len(old) - sts["spec"].get("revisionHistoryLimit", 10))]:
            self.history.delete(revision)
