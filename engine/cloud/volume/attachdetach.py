"""The attach/detach controller (kube-controller-manager's ``pkg/controller/volume/attachdetach``), CSI part.

A disk must be attached to a machine before the kubelet there can mount it,
and it attaches to one machine at a time. Since CSI, attaching is a
conversation through API objects: this controller decides *what* should be
attached *where* and says so with a ``VolumeAttachment``; the driver's
external-attacher does it and reports back in the object's status; the
kubelet waits until the node's ``status.volumesAttached`` lists the volume.

Per node (``sync(node_name)``), comparing desired with actual state:

- desired: the CSI PersistentVolumes of the PVCs used by the node's pods
  that have not finished (``spec.nodeName`` set, phase not Succeeded/Failed);
- attach: a desired volume without a VolumeAttachment gets one, named
  ``csi-<sha256(volumeHandle + driver + node)>``; if the volume (ReadWriteOnce)
  is still attached to another node, nothing is created and the pod gets a
  ``FailedAttachVolume`` Warning ("Multi-Attach error for volume "pvc-..."
  Volume is already exclusively attached to one node and can't be attached
  to another");
- once the attacher reports ``status.attached``, the volume is listed in
  ``node.status.volumesAttached`` (``kubernetes.io/csi/<driver>^<handle>``) and
  the pods get ``SuccessfulAttachVolume`` ("AttachVolume.Attach succeeded for
  volume "pvc-..."");
- detach: a VolumeAttachment no longer desired is taken out of
  ``volumesAttached`` at once, but deleted (the attacher then detaches) only
  when the kubelet no longer reports the volume in ``status.volumesInUse``
  (it is unmounted), or the node is gone, or ``maxWaitForUnmountDuration``
  (6 min) has passed, as the real reconciler's safe detach does.

It reads pods, nodes, PVCs, PVs and VolumeAttachments from informers and
writes only VolumeAttachments, node status and events.
"""

from __future__ import annotations

import hashlib
import logging

from engine import flags
from engine.api import errors
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.sim.loop import Timer

log = logging.getLogger(__name__)


def attachment_name(volume_handle: str, driver: str, node_name: str) -> str:
    """getAttachmentName in the CSI attacher plugin: ``csi-`` and the sha256 of the three."""
    return "csi-" + hashlib.sha256(f"{volume_handle}{driver}{node_name}".encode()).hexdigest()


def unique_volume_name(csi: dict) -> str:
    """The name a CSI volume has in volumesAttached / volumesInUse: ``kubernetes.io/csi/<driver>^<handle>``."""
    return f"kubernetes.io/csi/{csi['driver']}^{csi['volumeHandle']}"


def _unwrap(obj: object) -> dict:
    """The object of a delete notification, or the last state a tombstone recorded."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj   # type: ignore[return-value]


def pod_active(pod: dict) -> bool:
    return ((pod.get("spec") or {}).get("nodeName") is not None
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


class AttachDetachController:
    """Creates and deletes VolumeAttachments for the CSI volumes of each node's pods."""

    name = "attachdetach"
    service_account = "attachdetach-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        informers = context.informers
        self.pods = informers.informer("pods")
        self.nodes = informers.informer("nodes")
        self.claims = informers.informer("persistentvolumeclaims")
        self.volumes = informers.informer("persistentvolumes")
        self.attachments = informers.informer("volumeattachments")
        self.queue = WorkQueue(context.loop, name="attachdetach")
        self.pods.add_event_handler(on_add=self._pod, on_update=self._pod_updated,
                                    on_delete=lambda pod: self._pod(_unwrap(pod)))
        self.nodes.on_change(self.queue.add_key)
        self.attachments.add_event_handler(on_add=self._attachment, on_update=lambda _old, new: self._attachment(new),
                                           on_delete=lambda _va: self._all_nodes())   # a volume is free again
        self.claims.on_change(lambda _claim: self._all_nodes())
        self.volumes.on_change(lambda _volume: self._all_nodes())
        self.recorder = EventRecorder(self.client, "attachdetach-controller")
        self.undesired_since: dict[str, float] = {}
        """VolumeAttachment name -> when it stopped being desired (for maxWaitForUnmountDuration)."""
        self.workers = None
        self._timer: Timer | None = None

    def _pod(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            self.queue.add(node)

    def _pod_updated(self, old: dict, new: dict) -> None:
        self._pod(old)
        self._pod(new)

    def _attachment(self, attachment: dict) -> None:
        self.queue.add(attachment["spec"]["nodeName"])

    def _all_nodes(self) -> None:
        for node in sorted({p["spec"]["nodeName"] for p in self.pods.lister.list() if p["spec"].get("nodeName")}):
            self.queue.add(node)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)
        self._timer = self.loop.call_later(flags.attach_detach_reconcile_sync_period, self._resync,
                                           label="attachdetach resync")

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self._timer is not None:
            self._timer.cancel()

    def _resync(self) -> None:
        for node in sorted({va["spec"]["nodeName"] for va in self.attachments.lister.list()}):
            self.queue.add(node)
        self._timer = self.loop.call_later(flags.attach_detach_reconcile_sync_period, self._resync,
                                           label="attachdetach resync")

    # -- the reconciler --------------------------------------------------------------------
    def desired(self, node_name: str) -> dict[str, tuple[dict, list[dict]]]:
        """VolumeAttachment name -> (the PV, the pods that use it) for the node's active pods."""
        wanted: dict[str, tuple[dict, list[dict]]] = {}
        for pod in sorted(self.pods.lister.list(), key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
            if pod["spec"].get("nodeName") != node_name or not pod_active(pod):
                continue
            for volume in pod["spec"].get("volumes") or ():
                claim_ref = volume.get("persistentVolumeClaim")
                if not claim_ref:
                    continue
                claim = self.claims.indexer.get_by_key(f"{pod['metadata']['namespace']}/{claim_ref['claimName']}")
                pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
                pv = self.volumes.indexer.get_by_key(pv_name) if pv_name else None
                csi = (pv or {}).get("spec", {}).get("csi")
                if not csi:
                    continue
                name = attachment_name(csi["volumeHandle"], csi["driver"], node_name)
                wanted.setdefault(name, (pv, []))[1].append(pod)
        return wanted

    def sync(self, node_name: str) -> None:
        node = self.nodes.indexer.get_by_key(node_name)
        wanted = self.desired(node_name) if node is not None else {}
        existing = {va["metadata"]["name"]: va for va in self.attachments.lister.list()
                    if va["spec"]["nodeName"] == node_name}
        for name, (pv, pods) in wanted.items():
            self.undesired_since.pop(name, None)
            attachment = existing.get(name)
            if attachment is None:
                self._attach(name, pv, pods, node_name)
            elif (attachment.get("status") or {}).get("attached") and not self._reported(node, pv):
                for pod in pods:
                    self.recorder.event(pod, NORMAL, "SuccessfulAttachVolume",
                                        f'AttachVolume.Attach succeeded for volume "{pv["metadata"]["name"]}"')
        in_use = set((node or {}).get("status", {}).get("volumesInUse") or ())
        for name, attachment in existing.items():
            if name in wanted or attachment["metadata"].get("deletionTimestamp") is not None:
                continue
            since = self.undesired_since.setdefault(name, self.loop.now)
            pv = self.volumes.indexer.get_by_key(attachment["spec"]["source"].get("persistentVolumeName") or "")
            mounted = pv is not None and unique_volume_name(pv["spec"]["csi"]) in in_use
            waited = self.loop.now - since
            if node is not None and mounted and waited < flags.max_wait_for_unmount_duration:
                self.queue.add_after(node_name, flags.max_wait_for_unmount_duration - waited)
                continue
            try:
                self.client.delete("volumeattachments", name)
            except errors.NotFound:
                pass
            self.undesired_since.pop(name, None)
        if node is not None:
            self._update_volumes_attached(node, wanted, existing)

    def _attach(self, name: str, pv: dict, pods: list[dict], node_name: str) -> None:
        pv_name = pv["metadata"]["name"]
        elsewhere = [va for va in self.attachments.lister.list()
                     if va["spec"]["source"].get("persistentVolumeName") == pv_name and va["spec"]["nodeName"] != node_name]
        if elsewhere and "ReadWriteMany" not in (pv["spec"].get("accessModes") or ()):
            for pod in pods:
                self.recorder.event(pod, WARNING, "FailedAttachVolume",
                                    f'Multi-Attach error for volume "{pv_name}" Volume is already exclusively '
                                    "attached to one node and can't be attached to another")
            return
        try:
            self.client.create({
                "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": {"name": name},
                "spec": {"attacher": pv["spec"]["csi"]["driver"], "nodeName": node_name,
                         "source": {"persistentVolumeName": pv_name}}})
        except errors.AlreadyExists:
            pass

    @staticmethod
    def _reported(node: dict | None, pv: dict) -> bool:
        unique = unique_volume_name(pv["spec"]["csi"])
        return any(v.get("name") == unique for v in (node or {}).get("status", {}).get("volumesAttached") or ())

    def _update_volumes_attached(self, node: dict, wanted: dict, existing: dict[str, dict]) -> None:
        """node.status.volumesAttached: the desired volumes whose attachment the attacher reports done."""
        attached = []
        for name, (pv, _pods) in sorted(wanted.items()):
            attachment = existing.get(name)
            if attachment is not None and (attachment.get("status") or {}).get("attached"):
                metadata = (attachment.get("status") or {}).get("attachmentMetadata") or {}
                attached.append({"name": unique_volume_name(pv["spec"]["csi"]),
                                 "devicePath": metadata.get("devicePath", "")})
        attached.sort(key=lambda v: v["name"])
        if (node.get("status") or {}).get("volumesAttached", []) == attached:
            return
        self.client.patch("nodes", node["metadata"]["name"], {"status": {"volumesAttached": attached or None}},
                          subresource="status")
