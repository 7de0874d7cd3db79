"""The external-provisioner (``kubernetes-csi/external-provisioner``) for ``disk.csi.sim.local``.

Dynamic provisioning is split between two controllers, and they meet only
through API objects. The PV controller (kube-controller-manager's
persistent-volume-binder) sees a PVC whose StorageClass names a provisioner
it does not run in-tree, and annotates the claim
``volume.kubernetes.io/storage-provisioner: disk.csi.sim.local``. This
controller, running next to the CSI driver, picks up claims carrying its
name that are not yet bound (no ``spec.volumeName``) and:

1. records ``Provisioning`` ("External provisioner is provisioning volume
   for claim "default/data"");
2. asks the driver for a disk (CreateVolume, named ``pvc-<claim uid>`` so a
   retry finds the same disk) of the requested size, in a zone the class
   allows (``allowedTopologies``) or else one of the nodes' zones, chosen
   by a hash of the claim's name so the choice is stable;
3. creates the PersistentVolume ``pvc-<claim uid>``: ``spec.csi`` (driver,
   volumeHandle = the disk id, fsType), capacity, access modes, the class's
   reclaim policy, a ``claimRef`` to the claim (so the PV controller binds
   exactly this pair), node affinity to the disk's zone, and the annotation
   ``pv.kubernetes.io/provisioned-by``;
4. records ``ProvisioningSucceeded`` ("Successfully provisioned volume pvc-...");
   a failure records ``ProvisioningFailed`` ("failed to provision volume with
   StorageClass "fast": ...") and is retried with backoff (1 s doubling to 5 min).

Binding the claim is left to the PV controller. The other half: a PV it
provisioned whose phase is ``Released`` with reclaim policy ``Delete`` has
its disk deleted (DeleteVolume), then the PV object.
"""

from __future__ import annotations

import hashlib
import logging

from engine import flags
from engine.api import errors
from engine.api.quantity import parse_quantity
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import ItemExponentialFailureRateLimiter, WorkQueue, run_workers
from engine.cloud.node import ZONE
from engine.cloud.provider import CloudError
from engine.cloud.volume.driver import DRIVER_NAME, DiskDriver
from engine.components import ComponentContext

log = logging.getLogger(__name__)

STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
DEFAULT_FS_TYPE = "ext4"


def wants_provisioning(claim: dict, driver: str = DRIVER_NAME) -> bool:
    """shouldProvision: the claim is annotated for this driver and not yet bound to a volume."""
    annotations = claim["metadata"].get("annotations") or {}
    provisioner = annotations.get(STORAGE_PROVISIONER) or annotations.get(BETA_STORAGE_PROVISIONER)
    return (provisioner == driver and not (claim.get("spec") or {}).get("volumeName")
            and claim["metadata"].get("deletionTimestamp") is None)


def pick_zone(claim: dict, storage_class: dict, node_zones: list[str]) -> str | None:
    """The class's allowed zones, else the nodes' zones; one of them chosen by a hash of the claim's name."""
    allowed: list[str] = []
    for term in storage_class.get("allowedTopologies") or ():
        for expression in term.get("matchLabelExpressions") or ():
            if expression.get("key") == ZONE:
                allowed.extend(expression.get("values") or ())
    zones = sorted(set(allowed or node_zones))
    if not zones:
        return None
    digest = hashlib.sha256(f"{claim['metadata'].get('namespace')}/{claim['metadata']['name']}".encode()).digest()
    return zones[int.from_bytes(digest[:4], "big") % len(zones)]


def persistent_volume(claim: dict, storage_class: dict, volume_id: str, size_bytes: int, zone: str) -> dict:
    """The PV the provisioner creates for the claim (pre-bound to it through claimRef)."""
    metadata = claim["metadata"]
    spec = claim.get("spec") or {}
    parameters = storage_class.get("parameters") or {}
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{metadata['uid']}", "annotations": {PROVISIONED_BY: DRIVER_NAME}},
        "spec": {
            "capacity": {"storage": str(size_bytes // (1024 ** 3)) + "Gi"},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": metadata["namespace"],
                         "name": metadata["name"], "uid": metadata["uid"],
                         "resourceVersion": metadata.get("resourceVersion", "")},
            "csi": {"driver": DRIVER_NAME, "volumeHandle": volume_id,
                    "fsType": parameters.get("csi.storage.k8s.io/fstype", DEFAULT_FS_TYPE),
                    "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": f"0-sim-{DRIVER_NAME}"}},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": ZONE, "operator": "In", "values": [zone]}]}]}},
        },
    }


class DiskProvisioner:
    """Provisions disks and PVs for claims annotated for ``disk.csi.sim.local``; deletes released ones."""

    name = "csi-provisioner"
    service_account = "disk-csi-controller-sa"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.driver = DiskDriver(context.options["cloud"])
        informers = context.informers
        self.claims = informers.informer("persistentvolumeclaims")
        self.volumes = informers.informer("persistentvolumes")
        self.classes = informers.informer("storageclasses")
        self.nodes = informers.informer("nodes")
        limiter = lambda: ItemExponentialFailureRateLimiter(flags.csi_retry_interval_start,  # noqa: E731
                                                            flags.csi_retry_interval_max)
        self.claim_queue = WorkQueue(context.loop, name="claims", rate_limiter=limiter())
        self.volume_queue = WorkQueue(context.loop, name="volumes", rate_limiter=limiter())
        self.claims.add_event_handler(on_add=self._claim, on_update=lambda _old, new: self._claim(new))
        self.volumes.add_event_handler(on_add=self._volume, on_update=lambda _old, new: self._volume(new))
        self.recorder = EventRecorder(self.client, f"{DRIVER_NAME}_csi-provisioner")
        self.workers: list = []

    def _claim(self, claim: dict) -> None:
        if wants_provisioning(claim):
            self.claim_queue.add_key(claim)

    def _volume(self, volume: dict) -> None:
        if (volume["metadata"].get("annotations") or {}).get(PROVISIONED_BY) == DRIVER_NAME:
            self.volume_queue.add_key(volume)

    def start(self) -> None:
        self.workers = [run_workers(self.claim_queue, self.sync_claim), run_workers(self.volume_queue,
                                                                                   self.sync_volume)]

    def stop(self) -> None:
        for workers in self.workers:
            workers.stop()

    def sync_claim(self, key: str) -> None:
        claim = self.claims.indexer.get_by_key(key)
        if claim is None or not wants_provisioning(claim):
            return
        pv_name = f"pvc-{claim['metadata']['uid']}"
        if self.volumes.indexer.get_by_key(pv_name) is not None:
            return
        class_name = (claim.get("spec") or {}).get("storageClassName") or ""
        storage_class = self.classes.indexer.get_by_key(class_name)
        if storage_class is None or storage_class.get("provisioner") != DRIVER_NAME:
            return
        self.recorder.event(claim, NORMAL, "Provisioning",
                            f'External provisioner is provisioning volume for claim "{key}"')
        try:
            zone = pick_zone(claim, storage_class, self._node_zones())
            if zone is None:
                raise CloudError("NoZone", "no topology key found on any node")
            size = parse_quantity((((claim.get("spec") or {}).get("resources") or {}).get("requests") or {})
                                  .get("storage", "1Gi")).value()
            volume_id, size_bytes = self.driver.create_volume(pv_name, size, storage_class.get("parameters") or {},
                                                              zone)
        except CloudError as error:
            self.recorder.event(claim, WARNING, "ProvisioningFailed",
                                f'failed to provision volume with StorageClass "{class_name}": {error}')
            raise
        try:
            self.client.create(persistent_volume(claim, storage_class, volume_id, size_bytes, zone))
        except errors.AlreadyExists:
            pass
        self.recorder.event(claim, NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}")

    def _node_zones(self) -> list[str]:
        return sorted({zone for n in self.nodes.lister.list()
                       if (zone := (n["metadata"].get("labels") or {}).get(ZONE))})

    def sync_volume(self, key: str) -> None:
        """The deletion half: a Released PV with reclaim policy Delete loses its disk, then its object."""
        volume = self.volumes.indexer.get_by_key(key)
        if volume is None or (volume.get("status") or {}).get("phase") != "Released" \
                or volume["spec"].get("persistentVolumeReclaimPolicy") != "Delete" \
                or volume["metadata"].get("deletionTimestamp") is not None:
            return
        try:
            self.driver.delete_volume(volume["spec"]["csi"]["volumeHandle"])
        except CloudError as error:
            self.recorder.event(volume, WARNING, "VolumeFailedDelete", str(error))
            raise
        try:
            self.client.delete("persistentvolumes", volume["metadata"]["name"])
        except errors.NotFound:
            pass
