"""Block storage: disks that attach to one instance at a time (EBS volumes, simulated).

A disk has an id (``vol-`` and 17 hex digits), a zone, a size in GiB, a
type, tags, and a state that follows EBS::

    creating -> available -> in-use -> available -> deleting -> (gone)

Attaching (``AttachVolume``) names a device (``/dev/xvdba``; the caller
picks a free one, as the EBS CSI driver does) and takes a few seconds: the
attachment is ``attaching`` then ``attached``; detaching is ``detaching``
then the disk is ``available`` again. A disk attaches to one instance at a
time (``VolumeInUse`` otherwise), only in its own zone
(``InvalidVolume.ZoneMismatch``), and is deleted only when available. When
its instance is terminated, the disk is detached (EBS keeps volumes whose
DeleteOnTermination is false).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from engine.cloud.provider.errors import CloudError, CloudNotFound

DEVICE_NAMES = tuple(f"/dev/xvd{a}{b}" for a in "bcdefghijklmnopqrstuvwxyz" for b in "abcdefghijklmnopqrstuvwxyz")
"""The device names the EBS CSI driver hands out, /dev/xvdba first."""


@dataclass(frozen=True)
class Attachment:
    instance_id: str
    device: str
    state: str                    # "attaching" | "attached" | "detaching"


@dataclass
class Disk:
    id: str
    zone: str
    size_gib: int
    volume_type: str
    state: str = "creating"
    attachment: Attachment | None = None
    tags: dict[str, str] = field(default_factory=dict)


class StorageService:
    """The volumes API of the simulated cloud (mixed into ``SimCloud``)."""

    volume_types = ("standard", "ssd")

    def _init_storage(self) -> None:
        self._disks: dict[str, Disk] = {}

    def _disk(self, volume_id: str) -> Disk:
        disk = self._disks.get(volume_id)
        if disk is None:
            raise CloudNotFound("InvalidVolume.NotFound", f"The volume '{volume_id}' does not exist.")
        return disk

    def create_volume(self, size_gib: int, zone: str, volume_type: str = "standard", *,
                      tags: dict[str, str] | None = None) -> Disk:
        """CreateVolume: ``creating`` until it is ready (then ``available``)."""
        def action() -> Disk:
            if zone not in self.zones:
                raise CloudError("InvalidParameterValue", f"Invalid availability zone: [{zone}]")
            if volume_type not in self.volume_types:
                raise CloudError("InvalidParameterValue", f"The volume type '{volume_type}' is not valid.")
            disk = Disk("vol-0" + "".join(self.random.choice("0123456789abcdef") for _ in range(16)),
                        zone, int(size_gib), volume_type, "creating", None, dict(tags or {}))
            self._disks[disk.id] = disk
            self.later("CreateVolume", self._disk_state, disk.id, "creating", "available")
            return _copy(disk)
        return self.call("CreateVolume", action)

    def describe_volumes(self, volume_ids: list[str] | None = None, *,
                         tags: dict[str, str] | None = None) -> list[Disk]:
        """DescribeVolumes: by id (InvalidVolume.NotFound if one is missing), or every disk with these tags."""
        def action() -> list[Disk]:
            if volume_ids is not None:
                return [_copy(self._disk(v)) for v in volume_ids]
            return [_copy(d) for d in self._disks.values()
                    if all(d.tags.get(k) == v for k, v in (tags or {}).items())]
        return self.call("DescribeVolumes", action)

    def attach_volume(self, volume_id: str, instance_id: str, device: str) -> None:
        """AttachVolume: attaching, then attached a few seconds later."""
        def action() -> None:
            disk = self._disk(volume_id)
            instance = self._instance(instance_id)
            if disk.attachment is not None:
                if disk.attachment.instance_id == instance_id and disk.attachment.state != "detaching":
                    return
                raise CloudError("VolumeInUse", f"{volume_id} is already attached to an instance")
            if disk.state != "available":
                raise CloudError("IncorrectState", f"The volume '{volume_id}' is not 'available'.")
            if instance.state not in ("running", "stopped"):
                raise CloudError("IncorrectInstanceState", f"The instance '{instance_id}' is not 'running'.")
            if instance.zone != disk.zone:
                raise CloudError("InvalidVolume.ZoneMismatch",
                                 f"The volume '{volume_id}' is not in the same availability zone as "
                                 f"instance '{instance_id}'")
            if any(d.attachment and d.attachment.instance_id == instance_id and d.attachment.device == device
                   for d in self._disks.values()):
                raise CloudError("InvalidParameterValue", f"Invalid value '{device}' for unixDevice. "
                                 "Attachment point is already in use")
            disk.attachment = Attachment(instance_id, device, "attaching")
            disk.state = "in-use"
            self.later("AttachVolume", self._attached, volume_id, instance_id)
        self.call("AttachVolume", action)

    def detach_volume(self, volume_id: str) -> None:
        """DetachVolume: detaching, then available a few seconds later (detaching twice is fine)."""
        def action() -> None:
            disk = self._disk(volume_id)
            if disk.attachment is None:
                raise CloudError("IncorrectState", f"Volume '{volume_id}' is in the 'available' state.")
            if disk.attachment.state != "detaching":
                disk.attachment = dataclasses.replace(disk.attachment, state="detaching")
                self.later("DetachVolume", self._detached, volume_id)
        self.call("DetachVolume", action)

    def delete_volume(self, volume_id: str) -> None:
        """DeleteVolume: only an available disk; it is gone at once."""
        def action() -> None:
            disk = self._disk(volume_id)
            if disk.attachment is not None:
                raise CloudError("VolumeInUse", f"Volume {volume_id} is currently attached to "
                                 f"{disk.attachment.instance_id}")
            del self._disks[volume_id]
        self.call("DeleteVolume", action)

    def free_device(self, instance_id: str) -> str:
        """The first device name not used by a disk attached to the instance (a local choice, no API call)."""
        used = {d.attachment.device for d in self._disks.values()
                if d.attachment and d.attachment.instance_id == instance_id}
        return next(name for name in DEVICE_NAMES if name not in used)

    # -- delayed effects ------------------------------------------------------------------------
    def _disk_state(self, volume_id: str, expected: str, state: str) -> None:
        disk = self._disks.get(volume_id)
        if disk is not None and disk.state == expected:
            disk.state = state

    def _attached(self, volume_id: str, instance_id: str) -> None:
        disk = self._disks.get(volume_id)
        if disk and disk.attachment and disk.attachment.instance_id == instance_id \
                and disk.attachment.state == "attaching":
            disk.attachment = dataclasses.replace(disk.attachment, state="attached")

    def _detached(self, volume_id: str) -> None:
        disk = self._disks.get(volume_id)
        if disk and disk.attachment and disk.attachment.state == "detaching":
            disk.attachment = None
            disk.state = "available"

    def _storage_instance_gone(self, instance_id: str) -> None:
        for disk in self._disks.values():
            if disk.attachment and disk.attachment.instance_id == instance_id:
                disk.attachment = None
                disk.state = "available"


def _copy(disk: Disk) -> Disk:
    return dataclasses.replace(disk, tags=dict(disk.tags))
