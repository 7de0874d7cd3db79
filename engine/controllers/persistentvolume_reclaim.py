"""What becomes of a released PersistentVolume, and who provisions new ones (``pv_controller.go``'s
``reclaimVolume``, ``findDeletablePlugin`` and ``findProvisionablePlugin``).

A volume is *released* when the claim it was bound to is gone. Its
``persistentVolumeReclaimPolicy`` then decides:

- ``Retain``: nothing; the volume stays ``Released`` with its claimRef, and
  an administrator recovers the data and deletes or reuses it by hand;
- ``Delete``: the volume's deleter removes the storage, then the controller
  deletes the PV object. A volume made by an *external* provisioner (its
  ``pv.kubernetes.io/provisioned-by`` annotation names one not starting with
  ``kubernetes.io/``) is left to that provisioner, which deletes it. Of the
  in-tree deleters only hostPath's exists here, and like the real one it
  only accepts paths under ``/tmp/``; any other volume fails (phase
  ``Failed``, event ``VolumeFailedDelete`` with the plugin's error);
- ``Recycle`` (deprecated): no recycler plugin exists here (the real ones
  run a scrubber pod for hostPath and NFS), so the volume fails with
  ``VolumeFailedRecycle``.

Dynamic provisioning likewise goes to a provisioner named by the claim's
StorageClass. None is built in (the in-tree cloud provisioners moved out to
CSI drivers); the controller writes ``volume.kubernetes.io/storage-provisioner``
(and its beta twin) on the claim and waits. **The seam for a provisioner**
(the simulated cloud's, in ``engine/cloud``, or a learner's): watch claims
whose ``volume.kubernetes.io/storage-provisioner`` is your name and that have
no ``spec.volumeName``; create a PV sized from the request with
``spec.claimRef`` naming the claim (with its uid), the class's
``storageClassName`` and ``reclaimPolicy``, and the annotation
``pv.kubernetes.io/provisioned-by: <your name>``; with
``WaitForFirstConsumer`` wait until the claim carries
``volume.kubernetes.io/selected-node`` and give the PV node affinity for it.
The PV controller then binds the pre-bound PV. When such a volume is
released with reclaimPolicy ``Delete``, delete the PV yourself.

Pure functions of plain objects; the controller (``engine.controllers.persistentvolume``) acts on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVISIONED_BY_ANNOTATION = "pv.kubernetes.io/provisioned-by"
STORAGE_PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER_ANNOTATION = "volume.beta.kubernetes.io/storage-provisioner"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
IN_TREE_PREFIX = "kubernetes.io/"
IN_TREE_PROVISIONERS: frozenset[str] = frozenset()
"""In-tree provisioner plugins enabled here: none (kubernetes.io/host-path needs --enable-hostpath-provisioner)."""
_HOST_PATH_DELETABLE = re.compile("/tmp/.+")


@dataclass(frozen=True)
class Deletion:
    """doDeleteVolume's outcome: ``external`` (wait for the provisioner), delete the PV now, or ``error``."""

    external: bool = False
    error: str = ""


def deletion_of(volume: dict) -> Deletion:
    """findDeletablePlugin and the deleter's Delete: who removes a released volume's storage."""
    provisioned_by = (volume["metadata"].get("annotations") or {}).get(PROVISIONED_BY_ANNOTATION)
    if provisioned_by and not provisioned_by.startswith(IN_TREE_PREFIX):
        return Deletion(external=True)
    host_path = (volume.get("spec") or {}).get("hostPath")
    if isinstance(host_path, dict):
        path = host_path.get("path") or ""
        if not _HOST_PATH_DELETABLE.search(path):
            return Deletion(error=f"host_path deleter only supports /tmp/.+ but received provided {path}")
        return Deletion()
    name = volume["metadata"]["name"]
    return Deletion(error=f'error getting deleter volume plugin for volume "{name}": '
                          "no deletable volume plugin matched")


def provisioner_error(storage_class: dict | None, class_name: str) -> str:
    """findProvisionablePlugin's error ("" when an external provisioner is to be asked)."""
    if storage_class is None:
        return f'storageclass.storage.k8s.io "{class_name}" not found'
    provisioner = storage_class.get("provisioner") or ""
    if provisioner.startswith(IN_TREE_PREFIX) and provisioner not in IN_TREE_PROVISIONERS:
        return f"no volume plugin matched name: {provisioner}"
    return ""


def external_provisioning_message(provisioner: str) -> str:
    return (f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually "
            "by the system administrator. If volume creation is delayed, please verify that the provisioner is "
            "running and correctly registered.")
