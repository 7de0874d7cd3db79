"""The TTL-after-finished controller (``pkg/controller/ttlafterfinished``): finished Jobs deleted after their TTL.

A Job with ``spec.ttlSecondsAfterFinished`` is deleted that many seconds
after it finished (the ``lastTransitionTime`` of its Complete or Failed
condition), with foreground propagation so that its pods go first, and with
a uid precondition so that a new Job of the same name is never deleted by
mistake. Before deleting, the Job is read fresh from the API server: its TTL
may have been changed meanwhile. A Job not yet expired is requeued for the
moment it expires (``add_after``), so nothing polls. Like upstream, it
records no events.
"""

from __future__ import annotations

import logging

from engine.api import errors
from engine.api.meta import parse_timestamp
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext

log = logging.getLogger(__name__)


def finish_time(job: dict) -> float | None:
    """jobFinishTime: when the Complete or Failed condition turned True (None if the Job has not finished)."""
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            stamp = condition.get("lastTransitionTime")
            return parse_timestamp(stamp) if stamp else None
    return None


def needs_cleanup(job: dict) -> bool:
    """A TTL is set and the Job has finished."""
    return (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and finish_time(job) is not None


def time_left(job: dict, now: float) -> float | None:
    """Seconds until the Job expires (<= 0 once it has), or None if it never will."""
    if not needs_cleanup(job):
        return None
    return finish_time(job) + job["spec"]["ttlSecondsAfterFinished"] - now   # type: ignore[operator]


class TTLAfterFinishedController:
    """Deletes finished Jobs whose ttlSecondsAfterFinished has passed."""

    name = "ttl-after-finished"
    service_account = "ttl-after-finished-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.queue = WorkQueue(context.loop, name="ttl_jobs_to_delete")
        self.jobs = context.informers.informer("jobs")
        self.jobs.add_event_handler(on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new))
        self.workers = None

    def _enqueue(self, job: dict) -> None:
        if job["metadata"].get("deletionTimestamp") is None and needs_cleanup(job):
            self.queue.add_key(job)

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def sync(self, key: str) -> None:
        """processJob: requeue a Job that has time left; delete an expired one, checked against a fresh read."""
        job = self.jobs.indexer.get_by_key(key)
        if job is None or not self._expired(key, job):
            return
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        try:
            fresh = self.client.get("jobs", name, namespace)
        except errors.NotFound:
            return
        if not self._expired(key, fresh):
            return
        try:
            self.client.delete("jobs", name, namespace, propagation_policy="Foreground",
                               preconditions={"uid": fresh["metadata"]["uid"]})
        except errors.NotFound:
            return
        log.info("ttl-after-finished: deleted job %s", key)

    def _expired(self, key: str, job: dict) -> bool:
        if job["metadata"].get("deletionTimestamp") is not None:
            return False
        left = time_left(job, self.loop.now)
        if left is None:
            return False
        if left > 0:
            self.queue.add_after(key, left)
            return False
        return True
