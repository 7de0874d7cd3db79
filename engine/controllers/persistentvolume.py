"""The PersistentVolume controller (pkg/controller/volume/persistentvolume, "persistentvolume-binder").

It binds claims to volumes and looks after volumes whose claims are gone.
Two work queues, as upstream: ``sync_claim(namespace/name)`` and
``sync_volume(name)``, fed by the PV and PVC informers and by a full resync
every ``--pvclaimbinder-sync-period`` (15 s). A sync that fails (a
conflict, a missing StorageClass) is logged, not requeued: the next event or
resync tries again, as upstream's workers do.

A claim without ``pv.kubernetes.io/bind-completed`` is unbound:

- with no ``spec.volumeName`` it gets the best match
  (``engine.controllers.persistentvolume_index``): bound. No match: with a
  ``WaitForFirstConsumer`` class and no ``volume.kubernetes.io/selected-node``
  it waits (event ``WaitForFirstConsumer``, or ``WaitForPodScheduled`` naming
  the unscheduled pods that use it); with a class it asks the class's
  provisioner (``ExternalProvisioning``, see ``persistentvolume_reclaim``);
  with none, ``FailedBinding`` "no persistent volumes available for this
  claim and no storage class is set". It stays ``Pending``;
- with ``spec.volumeName`` set by the user it binds to that volume if the
  volume is free and fits (else ``VolumeMismatch``), and waits otherwise.

Binding (``bind``) writes, in this order: the volume's ``claimRef`` (and
``pv.kubernetes.io/bound-by-controller: "yes"`` when the controller chose
it), the volume's phase ``Bound``, the claim's ``volumeName`` with
``bound-by-controller`` and ``bind-completed``, then the claim's status
(``Bound``, the volume's accessModes and capacity). A bound claim whose
volume vanished or went to another claim becomes ``Lost`` (``ClaimLost``,
``ClaimMisbound``).

A volume without claimRef is ``Available``. One whose claim is gone (or
recreated with a new uid) is ``Released`` and reclaimed by its policy
(``persistentvolume_reclaim``); one the controller bound to a claim that
ended up elsewhere is unbound again.

The caches lag the writes, so, as upstream does, the controller remembers
the objects it wrote and reads whichever copy is newer. It writes as the
``persistent-volume-binder`` ServiceAccount; Events come from
``persistentvolume-controller``. It never creates volumes (provisioners
do), never touches pods, and never binds a WaitForFirstConsumer claim
itself: that choice is the scheduler's (its VolumeBinding plugin).
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import object_key, timestamp
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import persistentvolume_reclaim as reclaim
from engine.controllers.persistentvolume_index import (
    claim_class, claim_ref, find_best_match_for_claim, is_volume_bound_to_claim, pods_using_claim,
    volume_mode_mismatch, volume_satisfies_claim,
)
from engine.sim.loop import Timer

log = logging.getLogger(__name__)

BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
COMPONENT = "persistentvolume-controller"


def _annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def claim_key_of_ref(ref: dict) -> str:
    return f"{ref.get('namespace')}/{ref.get('name')}"


class PersistentVolumeController:
    """Binds PersistentVolumeClaims to PersistentVolumes and reclaims released volumes."""

    name = "persistentvolume-binder"
    service_account = "persistent-volume-binder"

    def __init__(self, context: ComponentContext) -> None:
        self.loop = context.loop
        self.client = context.client
        self.recorder = EventRecorder(self.client, COMPONENT)
        self.volume_queue = WorkQueue(context.loop, name="volumes")
        self.claim_queue = WorkQueue(context.loop, name="claims")
        self.volumes = context.informers.informer("persistentvolumes")
        self.claims = context.informers.informer("persistentvolumeclaims")
        self.classes = context.informers.informer("storageclasses")
        self.pods = context.informers.informer("pods")
        self.volumes.add_event_handler(on_add=self.volume_queue.add_key,
                                       on_update=lambda _old, new: self.volume_queue.add_key(new),
                                       on_delete=self._volume_deleted)
        self.claims.add_event_handler(on_add=self.claim_queue.add_key,
                                      on_update=lambda _old, new: self.claim_queue.add_key(new),
                                      on_delete=self._claim_deleted)
        self._written: dict[tuple[str, str], dict] = {}   # what we wrote, until the cache catches up
        self.workers: list = []
        self.resync_timer: Timer | None = None

    def start(self) -> None:
        self.workers = [run_workers(self.volume_queue, self.sync_volume),
                        run_workers(self.claim_queue, self.sync_claim)]
        self.resync_timer = self.loop.call_later(flags.pvclaimbinder_sync_period, self._resync, label=self.name)

    def stop(self) -> None:
        for workers in self.workers:
            workers.stop()
        if self.resync_timer is not None:
            self.resync_timer.cancel()
            self.resync_timer = None

    def _resync(self) -> None:
        """The periodic resync: every claim and volume is synced again (a failed binding is retried)."""
        for claim in self.claims.indexer.list():
            self.claim_queue.add_key(claim)
        for volume in self.volumes.indexer.list():
            self.volume_queue.add_key(volume)
        self.resync_timer = self.loop.call_later(flags.pvclaimbinder_sync_period, self._resync, label=self.name)

    # -- event handlers ---------------------------------------------------------------------
    def _volume_deleted(self, obj: object) -> None:
        volume = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self._written.pop(("pv", volume["metadata"]["name"]), None)
        ref = (volume.get("spec") or {}).get("claimRef")
        if ref:
            self.claim_queue.add(claim_key_of_ref(ref))       # its claim may now be Lost

    def _claim_deleted(self, obj: object) -> None:
        claim = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        self._written.pop(("pvc", object_key(claim)), None)
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if volume_name:
            self.volume_queue.add(volume_name)                 # its volume is now Released

    # -- the newest copy: the informer's or our own write ---------------------------------------
    def _newest(self, kind: str, key: str, cached: dict | None) -> dict | None:
        mine = self._written.get((kind, key))
        if mine is None:
            return cached
        if cached is None or int(cached["metadata"]["resourceVersion"]) >= int(mine["metadata"]["resourceVersion"]):
            self._written.pop((kind, key), None)
            return cached
        return mine

    def _volume(self, name: str) -> dict | None:
        return self._newest("pv", name, self.volumes.indexer.get_by_key(name))

    def _claim(self, key: str) -> dict | None:
        return self._newest("pvc", key, self.claims.indexer.get_by_key(key))

    def _all_volumes(self) -> list[dict]:
        return [self._volume(volume["metadata"]["name"]) or volume for volume in self.volumes.indexer.list()]

    def _wrote(self, kind: str, obj: dict) -> dict:
        self._written[(kind, object_key(obj))] = obj
        return obj

    # -- claims ----------------------------------------------------------------------------------
    def sync_claim(self, key: str) -> None:
        """updateClaim: sync one claim; a failure is logged, not retried (the next event or resync retries)."""
        claim = self._claim(key)
        if claim is None:
            return
        try:
            if BIND_COMPLETED in _annotations(claim):
                self._sync_bound_claim(claim)
            else:
                self._sync_unbound_claim(claim)
        except errors.ApiError as error:
            log.debug("could not sync claim %s: %s", key, error)

    def _delay_binding(self, claim: dict) -> bool:
        """IsDelayBindingMode: the claim's class binds WaitForFirstConsumer."""
        name = claim_class(claim)
        storage_class = self.classes.indexer.get_by_key(name) if name else None
        return bool(storage_class) and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"

    def _sync_unbound_claim(self, claim: dict) -> None:
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if not volume_name:
            delay = self._delay_binding(claim)
            volume = find_best_match_for_claim(claim, self._all_volumes(), delay)
            if volume is not None:
                self._bind(volume, claim)
                return
            if delay and reclaim.SELECTED_NODE_ANNOTATION not in _annotations(claim):
                self._wait_for_first_consumer(claim)
                return
            if claim_class(claim):
                self._provision(claim)
                return
            self.recorder.event(claim, NORMAL, "FailedBinding",
                                "no persistent volumes available for this claim and no storage class is set")
            self._update_claim_status(claim, "Pending", None)
            return
        volume = self._volume(volume_name)
        if volume is None:
            self._update_claim_status(claim, "Pending", None)        # the user named a volume not made yet
            return
        if not (volume.get("spec") or {}).get("claimRef"):
            mismatch = volume_satisfies_claim(volume, claim)
            if mismatch:
                self.recorder.event(claim, WARNING, "VolumeMismatch",
                                    f'Cannot bind to requested volume "{volume_name}": {mismatch}')
                self._update_claim_status(claim, "Pending", None)
                return
            self._bind(volume, claim)
        elif is_volume_bound_to_claim(volume, claim):
            self._bind(volume, claim)
        elif BOUND_BY_CONTROLLER not in _annotations(claim):
            self._update_claim_status(claim, "Pending", None)        # someone else holds it: wait
        else:
            raise errors.ApiError(f'invalid binding of claim "{object_key(claim)}" to volume "{volume_name}": '
                                  "claim already bound to another claim")

    def _wait_for_first_consumer(self, claim: dict) -> None:
        """emitEventForUnboundDelayBindingClaim: name the unscheduled pods the claim waits for."""
        namespace = claim["metadata"].get("namespace")
        waiting = sorted(pod["metadata"]["name"] for pod in pods_using_claim(self.pods.lister.list(namespace), claim)
                         if not (pod.get("spec") or {}).get("nodeName"))
        if not waiting:
            self.recorder.event(claim, NORMAL, "WaitForFirstConsumer",
                                "waiting for first consumer to be created before binding")
        elif len(waiting) == 1:
            self.recorder.event(claim, NORMAL, "WaitForPodScheduled", f"waiting for pod {waiting[0]} to be scheduled")
        else:
            self.recorder.event(claim, NORMAL, "WaitForPodScheduled",
                                f"waiting for pods {','.join(waiting)} to be scheduled")

    def _provision(self, claim: dict) -> None:
        """provisionClaim: hand the claim to its class's external provisioner through the annotations."""
        name = claim_class(claim)
        storage_class = self.classes.indexer.get_by_key(name)
        problem = reclaim.provisioner_error(storage_class, name)
        if problem:
            self.recorder.event(claim, WARNING, "ProvisioningFailed", problem)
            return                                               # the next resync asks again
        provisioner = storage_class["provisioner"]
        if _annotations(claim).get(reclaim.STORAGE_PROVISIONER_ANNOTATION) != provisioner:
            updated = thaw(claim)
            annotations = updated["metadata"].setdefault("annotations", {})
            annotations[reclaim.BETA_STORAGE_PROVISIONER_ANNOTATION] = provisioner
            annotations[reclaim.STORAGE_PROVISIONER_ANNOTATION] = provisioner
            claim = self._wrote("pvc", self.client.update(updated))
        self.recorder.event(claim, NORMAL, "ExternalProvisioning", reclaim.external_provisioning_message(provisioner))

    def _sync_bound_claim(self, claim: dict) -> None:
        volume_name = (claim.get("spec") or {}).get("volumeName")
        if not volume_name:
            self._claim_lost(claim, "ClaimLost", "Bound claim has lost reference to PersistentVolume. "
                                                 "Data on the volume is lost!")
            return
        volume = self._volume(volume_name)
        if volume is None:
            self._claim_lost(claim, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or ref.get("uid") == claim["metadata"].get("uid"):
            self._bind(volume, claim)             # make sure every half of the binding is written
            return
        self._claim_lost(claim, "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly")

    def _claim_lost(self, claim: dict, reason: str, message: str) -> None:
        """updateClaimStatusWithEvent: Lost, with the event only when the phase changes."""
        if (claim.get("status") or {}).get("phase") == "Lost":
            return
        claim = self._update_claim_status(claim, "Lost", None)
        self.recorder.event(claim, WARNING, reason, message)

    # -- binding --------------------------------------------------------------------------------
    def _bind(self, volume: dict, claim: dict) -> None:
        """bind: the volume's claimRef, its phase, the claim's volumeName and annotations, its status."""
        volume = self._bind_volume_to_claim(volume, claim)
        volume = self._update_volume_phase(volume, "Bound", "")
        claim = self._bind_claim_to_volume(claim, volume)
        self._update_claim_status(claim, "Bound", volume)

    def _bind_volume_to_claim(self, volume: dict, claim: dict) -> dict:
        chosen_by_us = not is_volume_bound_to_claim(volume, claim)
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        metadata = claim["metadata"]
        updated = thaw(volume)
        dirty = False
        if (ref.get("name"), ref.get("namespace"), ref.get("uid")) != (
                metadata["name"], metadata.get("namespace"), metadata.get("uid")):
            updated["spec"]["claimRef"] = claim_ref(claim)
            dirty = True
        annotations = updated["metadata"].get("annotations") or {}
        if chosen_by_us and BOUND_BY_CONTROLLER not in annotations:
            updated["metadata"]["annotations"] = {**annotations, BOUND_BY_CONTROLLER: "yes"}
            dirty = True
        return self._wrote("pv", self.client.update(updated)) if dirty else volume

    def _bind_claim_to_volume(self, claim: dict, volume: dict) -> dict:
        updated = thaw(claim)
        annotations = updated["metadata"].setdefault("annotations", {})
        dirty = False
        if updated["spec"].get("volumeName") != volume["metadata"]["name"]:
            updated["spec"]["volumeName"] = volume["metadata"]["name"]
            annotations.setdefault(BOUND_BY_CONTROLLER, "yes")
            dirty = True
        if BIND_COMPLETED not in annotations:
            annotations[BIND_COMPLETED] = "yes"
            dirty = True
        return self._wrote("pvc", self.client.update(updated)) if dirty else claim

    def _update_claim_status(self, claim: dict, phase: str, volume: dict | None) -> dict:
        """updateClaimStatus: the phase, and the volume's accessModes and capacity (cleared without one)."""
        status = dict(claim.get("status") or {})
        wanted = dict(status, phase=phase)
        if volume is None:
            wanted.pop("accessModes", None)
            wanted.pop("capacity", None)
        else:
            spec = volume.get("spec") or {}
            wanted["accessModes"] = list(spec.get("accessModes") or ())
            wanted["capacity"] = {"storage": (spec.get("capacity") or {}).get("storage")}
        if wanted == thaw(status):
            return claim
        updated = thaw(claim)
        updated["status"] = wanted
        return self._wrote("pvc", self.client.update_status(updated))

    # -- volumes -------------------------------------------------------------------------------
    def _update_volume_phase(self, volume: dict, phase: str, message: str) -> dict:
        """updateVolumePhase: a new phase with its lastPhaseTransitionTime (nothing if unchanged)."""
        if (volume.get("status") or {}).get("phase") == phase:
            return volume
        updated = thaw(volume)
        status = updated.setdefault("status", {})
        status["phase"] = phase
        if message:
            status["message"] = message
        else:
            status.pop("message", None)
        status["lastPhaseTransitionTime"] = timestamp(self.loop.now)
        return self._wrote("pv", self.client.update_status(updated))

    def _volume_failed(self, volume: dict, reason: str, message: str) -> None:
        """updateVolumePhaseWithEvent: Failed, with the Warning event only when the phase changes."""
        if (volume.get("status") or {}).get("phase") == "Failed":
            return
        self.recorder.event(volume, WARNING, reason, message)
        self._update_volume_phase(volume, "Failed", message)

    def _claim_of(self, volume: dict) -> dict | None:
        """The claim named by the claimRef: cache, our writes, then (not yet released) the API server."""
        ref = volume["spec"]["claimRef"]
        key = claim_key_of_ref(ref)
        claim = self._claim(key)
        if claim is None and (volume.get("status") or {}).get("phase") not in ("Released", "Failed"):
            try:
                claim = self.client.get("persistentvolumeclaims", ref.get("name"), ref.get("namespace"))
            except errors.NotFound:
                claim = None
        return claim

    def sync_volume(self, name: str) -> None:
        """updateVolume: sync one volume; like a claim's, a failure waits for the next event or resync."""
        volume = self._volume(name)
        if volume is None:
            return
        try:
            self._sync_volume(volume)
        except errors.ApiError as error:
            log.debug("could not sync volume %s: %s", name, error)

    def _sync_volume(self, volume: dict) -> None:
        name = volume["metadata"]["name"]
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or not ref.get("uid"):
            self._update_volume_phase(volume, "Available", "")    # free, or reserved for a claim not yet bound
            return
        claim = self._claim_of(volume)
        if claim is not None and claim["metadata"].get("uid") != ref.get("uid"):
            claim = None                                         # deleted and made again: not ours
        if claim is None:
            if (volume.get("status") or {}).get("phase") not in ("Released", "Failed"):
                volume = self._update_volume_phase(volume, "Released", "")
            self._reclaim(volume)
            return
        claim_volume = (claim.get("spec") or {}).get("volumeName")
        if not claim_volume:
            if volume_mode_mismatch(claim, volume):
                self.recorder.event(volume, WARNING, "VolumeMismatch",
                                    f'Cannot bind PersistentVolume to requested PersistentVolumeClaim '
                                    f'"{claim["metadata"]["name"]}" due to incompatible volumeMode.')
                self.recorder.event(claim, WARNING, "VolumeMismatch",
                                    f'Cannot bind PersistentVolume "{name}" to requested PersistentVolumeClaim '
                                    f'due to incompatible volumeMode.')
                return
            self.claim_queue.add(object_key(claim))              # the claim's sync finishes the binding
            return
        if claim_volume == name:
            self._update_volume_phase(volume, "Bound", "")
            return
        provisioned = reclaim.PROVISIONED_BY_ANNOTATION in _annotations(volume)
        if provisioned and volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            if (volume.get("status") or {}).get("phase") not in ("Released", "Failed"):
                volume = self._update_volume_phase(volume, "Released", "")
            self._reclaim(volume)                                # made for a claim that bound elsewhere
            return
        self._unbind(volume)

    def _unbind(self, volume: dict) -> None:
        """unbindVolume: drop a binding we made (only the uid of one the user made), then Available."""
        updated = thaw(volume)
        annotations = updated["metadata"].get("annotations") or {}
        if BOUND_BY_CONTROLLER in annotations:
            updated["spec"].pop("claimRef", None)
            annotations.pop(BOUND_BY_CONTROLLER)
            if not annotations:
                updated["metadata"].pop("annotations", None)
        else:
            updated["spec"]["claimRef"]["uid"] = ""
        volume = self._wrote("pv", self.client.update(updated))
        self._update_volume_phase(volume, "Available", "")

    def _reclaim(self, volume: dict) -> None:
        """reclaimVolume: Retain keeps it, Delete deletes it (or waits for its provisioner), Recycle fails."""
        policy = volume["spec"].get("persistentVolumeReclaimPolicy")
        if policy == "Retain":
            return
        if policy == "Recycle":
            self._volume_failed(volume, "VolumeFailedRecycle", "No recycler plugin found for the volume!")
            return
        if policy != "Delete":
            self._volume_failed(volume, "VolumeUnknownReclaimPolicy",
                                "Volume has unrecognized PersistentVolumeReclaimPolicy")
            return
        if volume["metadata"].get("deletionTimestamp") or (volume.get("status") or {}).get("phase") == "Failed":
            return
        outcome = reclaim.deletion_of(volume)
        if outcome.error:
            self._volume_failed(volume, "VolumeFailedDelete", outcome.error)
            return
        if outcome.external:
            return                                               # its provisioner deletes it
        try:
            self.client.delete("persistentvolumes", volume["metadata"]["name"])
        except errors.NotFound:
            pass
