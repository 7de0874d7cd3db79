"""The external-attacher (``kubernetes-csi/external-attacher``) for ``disk.csi.sim.local``.

It watches VolumeAttachments whose ``spec.attacher`` is its driver and makes
the cloud match them:

- a VolumeAttachment not yet attached: add the finalizer
  ``external-attacher/disk-csi-sim-local`` (so it cannot disappear before the
  disk is detached), then ControllerPublishVolume (attach the PV's disk to
  the node's instance, found by the node's ``spec.providerID``). While the
  cloud is still attaching the key is looked at again a second later; once
  attached, ``status.attached: true`` and ``status.attachmentMetadata``
  (``devicePath``) are written. A failure is written to ``status.attachError``
  (time, message) and retried with backoff (1 s doubling to 5 min,
  ``--retry-interval-start`` / ``--retry-interval-max``).
- a VolumeAttachment being deleted: ControllerUnpublishVolume (detach),
  waiting the same way; once detached, ``status.attached: false`` and the
  finalizer is removed, which lets the deletion finish. Failures go to
  ``status.detachError``.

It never decides what should be attached: that is the attach/detach
controller's job; it only carries out what the objects say.
"""

from __future__ import annotations

import logging

from engine import flags
from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import timestamp
from engine.client.workqueue import ItemExponentialFailureRateLimiter, WorkQueue, run_workers
from engine.cloud.provider import CloudError
from engine.cloud.volume.driver import DRIVER_NAME, DiskDriver
from engine.components import ComponentContext

log = logging.getLogger(__name__)

FINALIZER = "external-attacher/" + DRIVER_NAME.replace(".", "-")
POLL_SECONDS = 1.0
"""How soon an attachment still in progress in the cloud is looked at again."""


class DiskAttacher:
    """Attaches and detaches the disks that VolumeAttachments name."""

    name = "csi-attacher"
    service_account = "disk-csi-controller-sa"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.driver = DiskDriver(context.options["cloud"])
        informers = context.informers
        self.attachments = informers.informer("volumeattachments")
        self.volumes = informers.informer("persistentvolumes")
        self.nodes = informers.informer("nodes")
        self.queue = WorkQueue(context.loop, name="csi-attacher", rate_limiter=ItemExponentialFailureRateLimiter(
            flags.csi_retry_interval_start, flags.csi_retry_interval_max))
        self.attachments.add_event_handler(on_add=self._enqueue, on_update=lambda _old, new: self._enqueue(new))
        self.loop = context.loop
        self.workers = None

    def _enqueue(self, attachment: dict) -> None:
        if attachment["spec"].get("attacher") == DRIVER_NAME:
            self.queue.add_key(attachment)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        attachment = self.attachments.indexer.get_by_key(key)
        if attachment is None:
            return
        deleting = attachment["metadata"].get("deletionTimestamp") is not None
        if deleting and FINALIZER not in (attachment["metadata"].get("finalizers") or ()):
            return
        if not deleting and (attachment.get("status") or {}).get("attached"):
            return
        volume_handle, provider_id = self._handle_and_node(attachment)
        if deleting:
            self._detach(key, attachment, volume_handle, provider_id)
        else:
            self._attach(key, attachment, volume_handle, provider_id)

    def _handle_and_node(self, attachment: dict) -> tuple[str | None, str | None]:
        pv = self.volumes.indexer.get_by_key(attachment["spec"]["source"].get("persistentVolumeName") or "")
        node = self.nodes.indexer.get_by_key(attachment["spec"]["nodeName"])
        handle = ((pv or {}).get("spec", {}).get("csi") or {}).get("volumeHandle")
        return handle, ((node or {}).get("spec") or {}).get("providerID")

    def _attach(self, key: str, attachment: dict, volume_handle: str | None, provider_id: str | None) -> None:
        if FINALIZER not in (attachment["metadata"].get("finalizers") or ()):
            attachment = thaw(attachment)
            attachment["metadata"].setdefault("finalizers", []).append(FINALIZER)
            attachment = self.client.update(attachment)
        try:
            if volume_handle is None or provider_id is None:
                raise CloudError("NotReady", "the persistent volume or the node's providerID is not known yet")
            context = self.driver.controller_publish(volume_handle, provider_id)
        except CloudError as error:
            self._write_status(attachment, attached=False, error=("attachError", str(error)))
            raise
        if context is None:
            self.queue.add_after(key, POLL_SECONDS)
            return
        self._write_status(attachment, attached=True, metadata=context)

    def _detach(self, key: str, attachment: dict, volume_handle: str | None, provider_id: str | None) -> None:
        try:
            done = volume_handle is None or provider_id is None or \
                self.driver.controller_unpublish(volume_handle, provider_id)
        except CloudError as error:
            self._write_status(attachment, attached=True, error=("detachError", str(error)))
            raise
        if not done:
            self.queue.add_after(key, POLL_SECONDS)
            return
        attachment = self._write_status(attachment, attached=False)
        attachment = thaw(attachment)
        attachment["metadata"]["finalizers"] = [f for f in attachment["metadata"].get("finalizers") or ()
                                                if f != FINALIZER]
        try:
            self.client.update(attachment)
        except errors.NotFound:
            pass

    def _write_status(self, attachment: dict, *, attached: bool, metadata: dict | None = None,
                      error: tuple[str, str] | None = None) -> dict:
        attachment = thaw(attachment)
        status: dict = {"attached": attached}
        if metadata:
            status["attachmentMetadata"] = dict(metadata)
        if error is not None:
            status[error[0]] = {"time": timestamp(self.loop.now), "message": error[1]}
        attachment["status"] = status
        return self.client.update_status(attachment)
