"""The CronJob controller (``pkg/controller/cronjob/cronjob_controllerv2.go``): Jobs on a cron schedule.

For each CronJob it keeps, on the virtual clock, the promise of
``kubectl explain cronjob.spec``: when a start is due (``schedule`` in cron
syntax, in ``timeZone`` or UTC) and not later than ``startingDeadlineSeconds``,
it creates a Job from ``jobTemplate`` named ``<cronjob>-<scheduled minutes
since the Unix epoch>`` (the name is the lock that stops a second Job for the
same start), unless the CronJob is suspended or ``concurrencyPolicy: Forbid``
finds one still running; ``Replace`` deletes the running ones first. It
tracks ``status.active``, ``lastScheduleTime`` and ``lastSuccessfulTime``,
deletes finished Jobs beyond ``successfulJobsHistoryLimit`` and
``failedJobsHistoryLimit`` (oldest first), and records upstream's events
(SuccessfulCreate, SawCompletedJob, SuccessfulDelete, MissSchedule,
JobAlreadyActive, UnexpectedJob, MissingJob, TooManyMissedTimes, ...).

There is no polling: after each sync the CronJob's key is put back on the
queue for the next start (``add_after``), as upstream's DelayingQueue does.
The schedule arithmetic lives in ``engine.controllers.cronjob_schedule``.
This controller never touches pods: the Job controller runs the Job, and the
garbage collector removes a deleted Job's pods.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference, parse_timestamp, timestamp
from engine.api.selectors import go_quote
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import NORMAL, WARNING, EventRecorder, object_reference
from engine.client.workqueue import WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import cronjob_schedule as schedules

log = logging.getLogger(__name__)

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def controller_of(obj: dict) -> dict | None:
    """metav1.GetControllerOf: the ownerReference with ``controller: true``."""
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if reference.get("controller"):
            return reference
    return None


def finished_condition(job: dict) -> str | None:
    """jobutil.FinishedCondition: "Complete" or "Failed" once the Job has that condition True."""
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"]
    return None


def job_from_template(cronjob: dict, scheduled: float, zone: Any) -> dict:
    """getJobFromTemplate2: the Job for one scheduled start, owned by the CronJob."""
    template = cronjob["spec"].get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = schedules.scheduled_timestamp(scheduled, zone)
    metadata: dict[str, Any] = {
        "name": schedules.job_name(cronjob["metadata"]["name"], scheduled),
        "namespace": cronjob["metadata"]["namespace"],
        "labels": dict(template_meta.get("labels") or {}),
        "annotations": annotations,
        "ownerReferences": [owner_reference(cronjob)],
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": thaw(template.get("spec") or {})}


def _start_time_order(job: dict) -> tuple:
    """byJobStartTime: Jobs with a start time first, oldest first, then by name."""
    start = (job.get("status") or {}).get("startTime")
    return (start is None, parse_timestamp(start) if start else 0.0, job["metadata"]["name"])


class CronJobController:
    """ControllerV2: one key per CronJob, requeued for its next start."""

    name = "cronjob"
    service_account = "cronjob-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.queue = WorkQueue(context.loop, name="cronjob")
        self.recorder = EventRecorder(context.client, "cronjob-controller")
        informers = context.informers
        self.jobs = informers.informer("jobs")
        self.cronjobs = informers.informer("cronjobs")
        self.jobs.add_event_handler(on_add=self._job_added, on_update=self._job_updated,
                                    on_delete=self._job_deleted)
        self.cronjobs.add_event_handler(on_add=self.queue.add_key, on_update=self._cronjob_updated,
                                        on_delete=self.queue.add_key)
        self.workers = None

    def start(self) -> None:
        self.workers = run_workers(self.queue, self.sync)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    # -- event handlers: they only enqueue keys --------------------------------
    def _resolve(self, namespace: str, reference: dict | None) -> dict | None:
        """resolveControllerRef: the CronJob a controller reference names, if it is still that one."""
        if reference is None or reference.get("kind") != "CronJob":
            return None
        cronjob = self.cronjobs.indexer.get_by_key(f"{namespace}/{reference.get('name')}")
        if cronjob is None or cronjob["metadata"].get("uid") != reference.get("uid"):
            return None
        return cronjob

    def _enqueue_owner(self, job: dict, reference: dict | None = None) -> None:
        cronjob = self._resolve(job["metadata"]["namespace"], reference or controller_of(job))
        if cronjob is not None:
            self.queue.add_key(cronjob)

    def _job_added(self, job: dict) -> None:
        self._enqueue_owner(job)

    def _job_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref is not None and old_ref != new_ref:
            self._enqueue_owner(old, old_ref)
        if new_ref is not None:
            self._enqueue_owner(new, new_ref)

    def _job_deleted(self, job: Any) -> None:
        if isinstance(job, DeletedFinalStateUnknown):
            job = job.obj
        self._enqueue_owner(job)

    def _cronjob_updated(self, old: dict, new: dict) -> None:
        """A changed schedule or zone requeues for its next start; any other change syncs now."""
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        if (old_spec.get("schedule"), old_spec.get("timeZone")) == (new_spec.get("schedule"),
                                                                    new_spec.get("timeZone")):
            self.queue.add_key(new)
            return
        try:
            schedule = schedules.parse(schedules.format_schedule(new))
        except ValueError:
            self.recorder.eventf(new, WARNING, "UnParseableCronJobSchedule", "unparseable schedule for cronjob: %s",
                                 new_spec.get("schedule"))
            return
        delay = schedules.next_schedule_time_duration(new, self.loop.now, schedule)
        if delay is not None:
            self.queue.add_after(self.queue_key(new), delay)

    @staticmethod
    def queue_key(cronjob: dict) -> str:
        return f"{cronjob['metadata']['namespace']}/{cronjob['metadata']['name']}"

    # -- sync ----------------------------------------------------------------
    def sync(self, key: str) -> None:
        """Reconcile one CronJob; on success, requeue it for its next start."""
        cronjob = self.cronjobs.indexer.get_by_key(key)
        if cronjob is None:
            return
        namespace = cronjob["metadata"]["namespace"]
        jobs = [job for job in self.jobs.lister.list(namespace)
                if (controller_of(job) or {}).get("name") == cronjob["metadata"]["name"]]
        working = thaw(cronjob)                       # every change goes into one status update
        cleaned = self._cleanup_finished_jobs(working, jobs)
        requeue_after, changed = self._sync_cronjob(working, jobs)
        if cleaned or changed:
            self.client.update_status(working)
        if requeue_after is not None:
            self.queue.add_after(key, requeue_after)

    def _sync_cronjob(self, cronjob: dict, jobs: list[dict]) -> tuple[float | None, bool]:
        """syncCronJob: (seconds until the next look, whether the status changed)."""
        now = self.loop.now
        status = cronjob.setdefault("status", {})
        changed = False
        children = set()
        for job in jobs:
            uid = job["metadata"]["uid"]
            children.add(uid)
            active = _in_active_list(cronjob, uid)
            finished = finished_condition(job)
            if not active and finished is None:
                fresh = self.client.get("cronjobs", cronjob["metadata"]["name"], cronjob["metadata"]["namespace"])
                if _in_active_list(fresh, uid):
                    cronjob.clear()
                    cronjob.update(fresh)
                    status = cronjob.setdefault("status", {})
                    continue
                self.recorder.eventf(cronjob, WARNING, "UnexpectedJob",
                                     "Saw a job that the controller did not create or forgot: %s",
                                     job["metadata"]["name"])
            elif finished is not None:
                if active:
                    _delete_from_active_list(cronjob, uid)
                    self.recorder.eventf(cronjob, NORMAL, "SawCompletedJob", "Saw completed job: %s, condition: %s",
                                         job["metadata"]["name"], finished)
                    changed = True
                completion = (job.get("status") or {}).get("completionTime")
                if finished == "Complete" and completion is not None:
                    last = status.get("lastSuccessfulTime")
                    if last is None or parse_timestamp(completion) > parse_timestamp(last):
                        status["lastSuccessfulTime"] = completion
                        changed = True
        for reference in list(status.get("active") or ()):
            if reference.get("uid") in children:
                continue
            try:
                self.client.get("jobs", reference["name"], reference.get("namespace"))
            except errors.NotFound:
                self.recorder.eventf(cronjob, NORMAL, "MissingJob", "Active job went missing: %s", reference["name"])
                _delete_from_active_list(cronjob, reference.get("uid"))
                changed = True
        if cronjob["metadata"].get("deletionTimestamp"):
            return None, changed
        spec = cronjob["spec"]
        if spec.get("timeZone") is not None:
            try:
                schedules.load_location(spec["timeZone"])
            except ValueError as error:
                self.recorder.eventf(cronjob, WARNING, "UnknownTimeZone", "invalid timeZone: %s: %s",
                                     go_quote(spec["timeZone"]), error)
                return None, changed
        if spec.get("suspend"):
            return None, changed
        schedule_text = schedules.format_schedule(cronjob)
        if "TZ" in spec.get("schedule", ""):
            self.recorder.eventf(cronjob, WARNING, "UnsupportedSchedule",
                                 "CRON_TZ or TZ used in schedule %s is not officially supported, see "
                                 "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more "
                                 "details", go_quote(spec["schedule"]))
        try:
            schedule = schedules.parse(schedule_text)
        except ValueError as error:
            self.recorder.eventf(cronjob, WARNING, "UnparseableSchedule", "unparseable schedule: %s : %s",
                                 go_quote(spec.get("schedule", "")), error)
            return None, changed
        try:
            scheduled, missed = schedules.next_schedule_time(cronjob, now, schedule)
        except schedules.InvalidSchedule as error:
            self.recorder.eventf(cronjob, WARNING, "InvalidSchedule", "invalid schedule: %s : %s",
                                 spec.get("schedule"), error)
            return None, changed
        if missed is schedules.MissedSchedules.MANY and scheduled is not None:
            self.recorder.event(cronjob, WARNING, "TooManyMissedTimes",
                                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
                                "check clock skew")
        if scheduled is None:
            return schedules.next_schedule_time_duration(cronjob, now, schedule), changed
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + deadline < now:
            self.recorder.eventf(cronjob, WARNING, "MissSchedule", "Missed scheduled time to start a job: %s",
                                 _rfc1123z(scheduled))
            return schedules.next_schedule_time_duration(cronjob, now, schedule), changed
        name = schedules.job_name(cronjob["metadata"]["name"], scheduled)
        last = status.get("lastScheduleTime")
        if (any(reference.get("name") == name for reference in status.get("active") or ())
                or (last is not None and parse_timestamp(last) == scheduled)):
            return schedules.next_schedule_time_duration(cronjob, now, schedule), changed
        if spec.get("concurrencyPolicy") == "Forbid" and status.get("active"):
            self.recorder.event(cronjob, NORMAL, "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is Forbid")
            return schedules.next_schedule_time_duration(cronjob, now, schedule), changed
        if spec.get("concurrencyPolicy") == "Replace":
            for reference in list(status.get("active") or ()):
                try:
                    job = self.client.get("jobs", reference["name"], reference.get("namespace"))
                except errors.ApiError as error:
                    self.recorder.eventf(cronjob, WARNING, "FailedGet", "Get job: %s", error)
                    raise
                if not self._delete_job(cronjob, job):
                    raise RuntimeError(f"could not replace job {reference.get('namespace')}/{reference['name']}")
                changed = True
        request = job_from_template(cronjob, scheduled, schedule.zone)
        try:
            created = self.client.create(request)
        except errors.AlreadyExists:
            created = self.client.get("jobs", request["metadata"]["name"], request["metadata"]["namespace"])
            reference = controller_of(created)
            if reference is None or reference.get("uid") != cronjob["metadata"]["uid"]:
                return None, changed
            if _in_active_list(cronjob, created["metadata"]["uid"]):
                return None, changed
            log.info("cronjob %s: job %s already exists", self.queue_key(cronjob), request["metadata"]["name"])
        except errors.ApiError as error:
            if not _namespace_terminating(error):
                self.recorder.eventf(cronjob, WARNING, "FailedCreate", "Error creating job: %s", error)
            raise
        else:
            self.recorder.eventf(cronjob, NORMAL, "SuccessfulCreate", "Created job %s", created["metadata"]["name"])
        status.setdefault("active", []).append(object_reference(created))
        status["lastScheduleTime"] = timestamp(scheduled)
        return schedules.next_schedule_time_duration(cronjob, now, schedule), True

    # -- history ---------------------------------------------------------------
    def _cleanup_finished_jobs(self, cronjob: dict, jobs: list[dict]) -> bool:
        """cleanupFinishedJobs: delete the oldest finished Jobs beyond each history limit."""
        spec = cronjob["spec"]
        successful = [job for job in jobs if finished_condition(job) == "Complete"]
        failed = [job for job in jobs if finished_condition(job) == "Failed"]
        changed = False
        for finished, limit in ((successful, spec.get("successfulJobsHistoryLimit")),
                                (failed, spec.get("failedJobsHistoryLimit"))):
            if limit is None or len(finished) <= limit:
                continue
            for job in sorted(finished, key=_start_time_order)[:len(finished) - limit]:
                changed = self._delete_job(cronjob, job) or changed
        return changed

    def _delete_job(self, cronjob: dict, job: dict) -> bool:
        """deleteJob: delete the Job (its pods go in the background) and its reference in the active list."""
        name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
        try:
            self.client.delete("jobs", name, namespace, propagation_policy="Background")
        except errors.ApiError as error:
            self.recorder.eventf(cronjob, WARNING, "FailedDelete", "Deleted job: %s", error)
            return False
        _delete_from_active_list(cronjob, job["metadata"].get("uid"))
        self.recorder.eventf(cronjob, NORMAL, "SuccessfulDelete", "Deleted job %s", name)
        return True


def _in_active_list(cronjob: dict, uid: str) -> bool:
    return any(reference.get("uid") == uid for reference in (cronjob.get("status") or {}).get("active") or ())


def _delete_from_active_list(cronjob: dict, uid: str | None) -> None:
    status = cronjob.setdefault("status", {})
    status["active"] = [reference for reference in status.get("active") or () if reference.get("uid") != uid]


def _namespace_terminating(error: errors.ApiError) -> bool:
    causes = (error.details or {}).get("causes") or ()
    return any(cause.get("type") == "NamespaceTerminating" for cause in causes)


def _rfc1123z(seconds: float) -> str:
    """Go's time.RFC1123Z in UTC: ``Mon, 02 Jan 2006 15:04:05 +0000``."""
    return schedules.to_datetime(seconds).strftime("%a, %d %b %Y %H:%M:%S +0000")
