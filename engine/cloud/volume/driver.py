"""The CSI driver ``disk.csi.sim.local``: its controller service over the simulated cloud's disks.

Real clouds ship such a driver: ``ebs.csi.aws.com`` (AWS EBS),
``pd.csi.storage.gke.io`` (GCE persistent disks), ``disk.csi.azure.com``
(Azure managed disks). Its controller service is what the CSI sidecars
call; each call is idempotent, because a sidecar retries after a timeout
without knowing whether the first call took effect:

    create_volume(name, size_bytes, parameters, zone)   a disk tagged CSIVolumeName=<name>; the
                                                        same name finds the same disk again
    delete_volume(volume_id)                            gone (an unknown id is success)
    controller_publish(volume_id, provider_id)          attach to the node's instance: the publish
                                                        context {"devicePath": "/dev/xvdba"} once
                                                        attached, None while still attaching
    controller_unpublish(volume_id, provider_id)        detach: True once detached, False while detaching

A disk attached to another instance fails publish with the cloud's
``VolumeInUse``. Sizes round up to whole GiB, as EBS's do; the minimum is 1 GiB.
"""

from __future__ import annotations

import math

from engine.cloud.provider import CloudError, CloudNotFound, SimCloud, parse_provider_id

DRIVER_NAME = "disk.csi.sim.local"
VOLUME_NAME_TAG = "CSIVolumeName"
GIB = 1024 ** 3


class DiskDriver:
    """The controller service of the CSI driver (the part that runs next to the sidecars)."""

    name = DRIVER_NAME

    def __init__(self, cloud: SimCloud) -> None:
        self.cloud = cloud

    def create_volume(self, name: str, size_bytes: int, parameters: dict[str, str], zone: str) -> tuple[str, int]:
        """CreateVolume: (volume id, size in bytes); an existing disk of this name is returned as it is."""
        existing = self.cloud.describe_volumes(tags={VOLUME_NAME_TAG: name})
        if existing:
            return existing[0].id, existing[0].size_gib * GIB
        size_gib = max(1, math.ceil(size_bytes / GIB))
        disk = self.cloud.create_volume(size_gib, zone, parameters.get("type", "standard"),
                                        tags={VOLUME_NAME_TAG: name})
        return disk.id, size_gib * GIB

    def delete_volume(self, volume_id: str) -> None:
        try:
            self.cloud.delete_volume(volume_id)
        except CloudNotFound:
            pass

    def controller_publish(self, volume_id: str, provider_id: str) -> dict[str, str] | None:
        """ControllerPublishVolume: attach; the publish context once attached, None while attaching."""
        _, instance_id = parse_provider_id(provider_id)
        disk = self.cloud.describe_volumes([volume_id])[0]
        attachment = disk.attachment
        if attachment is None:
            self.cloud.attach_volume(volume_id, instance_id, self.cloud.free_device(instance_id))
            return None
        if attachment.instance_id != instance_id:
            raise CloudError("VolumeInUse", f"{volume_id} is already attached to an instance "
                             f"({attachment.instance_id})")
        return {"devicePath": attachment.device} if attachment.state == "attached" else None

    def controller_unpublish(self, volume_id: str, provider_id: str) -> bool:
        """ControllerUnpublishVolume: detach; True once the disk is no longer attached to that instance."""
        _, instance_id = parse_provider_id(provider_id)
        try:
            disk = self.cloud.describe_volumes([volume_id])[0]
        except CloudNotFound:
            return True
        attachment = disk.attachment
        if attachment is None or attachment.instance_id != instance_id:
            return True
        if attachment.state != "detaching":
            self.cloud.detach_volume(volume_id)
        return False
