"""The Job controller (``pkg/controller/job/job_controller.go``, as in Kubernetes 1.31): pods that run to completion.

For each Job it keeps ``min(parallelism, completions - succeeded)`` pods
running (``parallelism`` until the first success when ``completions`` is
unset), creating them from the template with the
``batch.kubernetes.io/job-tracking`` finalizer and deleting surplus ones in
ActivePods order. Finished pods are counted the way upstream tracks them:
their uids go to ``status.uncountedTerminatedPods`` first, then the
finalizer comes off, then they move into ``succeeded`` / ``failed``, so a
pod is never counted twice nor lost to garbage collection.

The Job finishes, in 1.31's two steps, when:

- enough pods succeeded: ``SuccessCriteriaMet``, then ``Complete`` with
  ``completionTime`` once no pod is left terminating (event ``Completed``);
- more pods failed than ``backoffLimit`` (or, for ``restartPolicy:
  OnFailure``, the containers restarted that often): ``FailureTarget``, the
  active pods deleted, then ``Failed`` with reason ``BackoffLimitExceeded``
  (event ``Job has reached the specified backoff limit``);
- it ran longer than ``activeDeadlineSeconds``: the same with
  ``DeadlineExceeded``;
- a failed pod matched a ``FailJob`` rule of ``spec.podFailurePolicy``
  (``engine.controllers.job_pod_failure_policy``): the same with
  ``PodFailurePolicy`` and the rule's message. Pods an ``Ignore`` rule
  matches are not counted in ``failed`` nor against ``backoffLimit``;
- with ``backoffLimitPerIndex`` (``engine.controllers.job_backoff_per_index``)
  too many indexes failed (``MaxFailedIndexesExceeded``), or every index
  finished and some failed (``FailedIndexes``).

A failed pod is replaced only after the pod-failure backoff
(``engine.controllers.job_backoff``). Indexed Jobs (``engine.controllers.
job_indexed``) give every pod its completion index. ``suspend`` deletes the
active pods (``Suspended`` / ``Resumed``). Status also carries ``active``,
``ready``, ``terminating`` and ``startTime``.

Like every controller here it reads only its informers' caches and writes
only through the client; expectations keep it from acting on a cache older
than its own writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from engine.api import errors
from engine.api.frozen import thaw
from engine.api.meta import owner_reference, parse_timestamp, timestamp
from engine.api.selectors import SelectorError, from_label_selector
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.record import NORMAL, WARNING, EventRecorder
from engine.client.workqueue import ItemExponentialFailureRateLimiter, WorkQueue, run_workers
from engine.components import ComponentContext
from engine.controllers import job_backoff, job_backoff_per_index, job_indexed, job_pod_failure_policy
from engine.controllers.controller_ref_manager import ControllerRefManager, controller_of
from engine.controllers.controller_utils import (
    ControllerExpectations, PodControl, filter_active_pods, is_pod_ready, pod_from_template,
    sort_active_pods_with_ranks,
)

log = logging.getLogger(__name__)

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
SYNC_JOB_BATCH_PERIOD = 1.0
"""syncJobBatchPeriod: pod events are batched into one sync a second later."""
DEFAULT_JOB_API_BACKOFF = 1.0
MAX_JOB_API_BACKOFF = 60.0
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500


# -- small pure helpers -------------------------------------------------------------------

def has_tracking_finalizer(pod: dict) -> bool:
    return JOB_TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ())


def find_condition(job: dict, type_: str) -> dict | None:
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") == type_:
            return condition
    return None


def is_job_finished(job: dict) -> bool:
    """util.IsJobFinished: a Complete or Failed condition that is True."""
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or ())


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> dict:
    stamp = timestamp(now)
    return {"type": type_, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def ensure_condition(conditions: list[dict], type_: str, status: str, reason: str, message: str,
                     now: float) -> bool:
    """ensureJobConditionStatus: set or add the condition (never add a False one); True if it changed."""
    for index, condition in enumerate(conditions):
        if condition.get("type") == type_:
            if (condition.get("status"), condition.get("reason"), condition.get("message")) != (status, reason,
                                                                                                 message):
                conditions[index] = new_condition(type_, status, reason, message, now)
                return True
            return False
    if status != "False":
        conditions.append(new_condition(type_, status, reason, message, now))
        return True
    return False


def only_replace_failed_pods(job: dict) -> bool:
    spec = job["spec"]
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def is_pod_failed(pod: dict, job: dict) -> bool:
    """isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"


def count_terminating(pods: list[dict]) -> int:
    """controller.CountTerminatingPods: being deleted and not yet in a terminal phase."""
    return sum(1 for pod in pods if pod["metadata"].get("deletionTimestamp")
               and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
    """pastBackoffLimitOnFailure: with restartPolicy OnFailure, restarts of running pods count as failures."""
    if job["spec"]["template"].get("spec", {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") in ("Running", "Pending"):
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(int(s.get("restartCount") or 0) for s in status.get(key) or ())
    limit = job["spec"]["backoffLimit"]
    return restarts > 0 if limit == 0 else restarts >= limit


def wanted_active(job: dict, succeeded: int, active: int) -> int:
    """How many pods should run: ``min(parallelism, completions - succeeded)``, or parallelism until a success."""
    parallelism = job["spec"].get("parallelism") or 0
    completions = job["spec"].get("completions")
    if completions is None:
        return active if succeeded > 0 else parallelism
    return max(0, min(completions - succeeded, parallelism))


def deletion_order(pods: list[dict]) -> list[dict]:
    """controller.ActivePods: unscheduled, pending, not ready, then newer pods first."""
    return sort_active_pods_with_ranks(list(pods), [0] * len(pods), None)


@dataclass
class SyncContext:
    """syncJobCtx: what one sync of one Job has worked out."""

    job: dict
    pods: list[dict]
    active_pods: list[dict]
    ready: int
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    expected_removals: set[str]
    terminating: int
    succeeded: int = 0
    failed: int = 0
    finished_condition: dict | None = None
    previous_indexes: set[int] = field(default_factory=set)
    succeeded_indexes: set[int] = field(default_factory=set)
    failed_indexes: set[int] = field(default_factory=set)
    last_failed: dict[int, dict] = field(default_factory=dict)
    backoff: job_backoff.BackoffRecord | None = None


class JobController:
    """Creates and counts the pods of every Job; writes its status."""

    name = "job"
    service_account = "job-controller"

    def __init__(self, context: ComponentContext) -> None:
        self.client = context.client
        self.loop = context.loop
        self.recorder = EventRecorder(context.client, "job-controller")
        self.pod_control = PodControl(context.client, self.recorder)
        self.expectations = ControllerExpectations(lambda: self.loop.now)
        self.finalizer_expectations: dict[str, set[str]] = {}
        self.backoff = job_backoff.BackoffStore()
        self.queue = WorkQueue(context.loop, name="job", rate_limiter=ItemExponentialFailureRateLimiter(
            DEFAULT_JOB_API_BACKOFF, MAX_JOB_API_BACKOFF))
        self.orphan_queue = WorkQueue(context.loop, name="job_orphan_pod", rate_limiter=(
            ItemExponentialFailureRateLimiter(DEFAULT_JOB_API_BACKOFF, MAX_JOB_API_BACKOFF)))
        informers = context.informers
        self.jobs = informers.informer("jobs")
        self.pods = informers.informer("pods")
        self.jobs.add_event_handler(on_add=self._job_added, on_update=self._job_updated,
                                    on_delete=self._job_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=lambda pod: self._pod_deleted(pod, final=True))
        self.workers: list[Any] = []

    def start(self) -> None:
        self.workers = [run_workers(self.queue, self.sync), run_workers(self.orphan_queue, self.sync_orphan_pod)]

    def stop(self) -> None:
        for workers in self.workers:
            workers.stop()

    # -- event handlers --------------------------------------------------------------
    def _resolve(self, namespace: str, reference: dict | None) -> dict | None:
        if reference is None or reference.get("kind") != "Job":
            return None
        job = self.jobs.indexer.get_by_key(f"{namespace}/{reference.get('name')}")
        if job is None or job["metadata"].get("uid") != reference.get("uid"):
            return None
        return job

    @staticmethod
    def key_of(obj: dict) -> str:
        return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"

    def _enqueue_batched(self, job: dict) -> None:
        self.queue.add_after(self.key_of(job), SYNC_JOB_BATCH_PERIOD)

    def _pod_added(self, pod: dict) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod, final=False)
            return
        reference = controller_of(pod)
        if reference is None:
            if has_tracking_finalizer(pod):
                self.orphan_queue.add_key(pod)
            return
        job = self._resolve(pod["metadata"]["namespace"], reference)
        if job is None:
            return
        self.expectations.creation_observed(self.key_of(job))
        self._enqueue_batched(job)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if new["metadata"].get("deletionTimestamp"):
            self._pod_deleted(new, final=False)
            return
        removed = not has_tracking_finalizer(new)
        old_ref, new_ref = controller_of(old), controller_of(new)
        for reference, pod in ((old_ref, old), (new_ref, new)):
            if reference is None or (pod is old and old_ref == new_ref):
                continue
            job = self._resolve(pod["metadata"]["namespace"], reference)
            if job is not None:
                if removed:
                    self._finalizer_removal_observed(self.key_of(job), new["metadata"]["uid"])
                self._enqueue_batched(job)
        if new_ref is None and has_tracking_finalizer(new):
            self.orphan_queue.add_key(new)

    def _pod_deleted(self, pod: Any, *, final: bool) -> None:
        if isinstance(pod, DeletedFinalStateUnknown):
            pod = pod.obj
        reference = controller_of(pod)
        finalizer = has_tracking_finalizer(pod)
        if reference is None:
            if finalizer:
                self.orphan_queue.add_key(pod)
            return
        job = self._resolve(pod["metadata"]["namespace"], reference)
        if job is None or is_job_finished(job):
            if finalizer:
                self.orphan_queue.add_key(pod)
            return
        key = self.key_of(job)
        self.expectations.deletion_observed(key)
        if final or not finalizer:
            self._finalizer_removal_observed(key, pod["metadata"]["uid"])
        self._enqueue_batched(job)

    def _job_added(self, job: dict) -> None:
        self.queue.add_key(job)

    def _job_updated(self, old: dict, new: dict) -> None:
        key = self.key_of(new)
        if old["metadata"].get("generation") == new["metadata"].get("generation"):
            self._enqueue_batched(new)
        else:
            self.queue.add(key)
        if is_job_finished(new):
            self._cleanup_pod_finalizers(new)
        start = (new.get("status") or {}).get("startTime")
        deadline = new["spec"].get("activeDeadlineSeconds")
        if start and deadline is not None and deadline != old["spec"].get("activeDeadlineSeconds"):
            self.queue.add_after(key, deadline - (self.loop.now - parse_timestamp(start)))

    def _job_deleted(self, job: Any) -> None:
        self.queue.add_key(job)
        if isinstance(job, DeletedFinalStateUnknown):
            job = job.obj
        self._cleanup_pod_finalizers(job)

    def _cleanup_pod_finalizers(self, job: dict) -> None:
        """Pods of a finished or deleted Job that still carry the finalizer go to the orphan queue."""
        for pod in self.pods.lister.list(job["metadata"]["namespace"], job["spec"].get("selector")):
            reference = controller_of(pod)
            if reference and reference.get("uid") == job["metadata"]["uid"] and has_tracking_finalizer(pod):
                self.orphan_queue.add_key(pod)

    def _finalizer_removal_observed(self, key: str, uid: str) -> None:
        pending = self.finalizer_expectations.get(key)
        if pending is not None:
            pending.discard(uid)

    # -- orphan pods ---------------------------------------------------------------------
    def sync_orphan_pod(self, key: str) -> None:
        """syncOrphanPod: take the tracking finalizer off a pod no unfinished Job of ours owns."""
        pod = self.pods.indexer.get_by_key(key)
        if pod is None:
            return
        reference = controller_of(pod)
        if reference is not None:
            if reference.get("kind") != "Job" or reference.get("apiVersion") != "batch/v1":
                return
            job = self._resolve(pod["metadata"]["namespace"], reference)
            if job is not None and not is_job_finished(job):
                return
        self._remove_finalizer(pod)

    def _remove_finalizer(self, pod: dict) -> None:
        if not has_tracking_finalizer(pod):
            return
        patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}
        try:
            self.pod_control.patch_pod(pod["metadata"]["namespace"], pod["metadata"]["name"], patch)
        except errors.NotFound:
            pass

    # -- sync ----------------------------------------------------------------------------
    def sync(self, key: str) -> None:
        """syncJob: reconcile one Job's pods and status."""
        shared = self.jobs.indexer.get_by_key(key)
        if shared is None:
            self.expectations.delete(key)
            self.finalizer_expectations.pop(key, None)
            self.backoff.remove(key)
            return
        if shared["spec"].get("managedBy") not in (None, "kubernetes.io/job-controller"):
            return
        if is_job_finished(shared):
            self.backoff.remove(key)
            return
        job = thaw(shared)
        status = job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        satisfied = self.expectations.satisfied(key)
        pods = self._pods_for_job(job)
        active_pods = filter_active_pods(pods)
        ctx = SyncContext(job, pods, active_pods, sum(1 for pod in active_pods if is_pod_ready(pod)),
                          set(uncounted.get("succeeded") or ()), set(uncounted.get("failed") or ()),
                          set(self.finalizer_expectations.get(key, ())), count_terminating(pods))
        active = len(active_pods)
        new_succeeded, new_failed = self._new_finished_pods(ctx)
        ctx.succeeded = (status.get("succeeded") or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        counted = [pod for pod in new_failed if job_pod_failure_policy.counts_towards_backoff_limit(job, pod)]
        ctx.failed = (status.get("failed") or 0) + len(counted) + len(ctx.uncounted_failed)
        now = self.loop.now
        if not status.get("startTime") and not job["spec"].get("suspend"):
            status["startTime"] = timestamp(now)
        ctx.backoff = job_backoff.new_backoff_record(self.backoff.get(key), new_succeeded, new_failed)
        ctx.finished_condition = find_condition(job, "SuccessCriteriaMet")
        if ctx.finished_condition is not None and ctx.finished_condition.get("status") != "True":
            ctx.finished_condition = None
        if ctx.finished_condition is None:
            target = find_condition(job, "FailureTarget")
            if target is not None and target.get("status") == "True":
                ctx.finished_condition = new_condition("Failed", "True", target.get("reason", ""),
                                                       target.get("message", ""), now)
            else:
                message = job_pod_failure_policy.fail_job_message(job, [p for p in pods if is_pod_failed(p, job)])
                if message is not None:          # FailureTarget first, so the message outlives the pods
                    ctx.finished_condition = new_condition(
                        "FailureTarget", "True", job_pod_failure_policy.REASON_POD_FAILURE_POLICY, message, now)
        if ctx.finished_condition is None:
            if ctx.failed > job["spec"]["backoffLimit"] or past_backoff_limit_on_failure(job, pods):
                ctx.finished_condition = new_condition("FailureTarget", "True", "BackoffLimitExceeded",
                                                       "Job has reached the specified backoff limit", now)
            elif self._past_active_deadline(job):
                ctx.finished_condition = new_condition("FailureTarget", "True", "DeadlineExceeded",
                                                       "Job was active longer than specified deadline", now)
            elif job["spec"].get("activeDeadlineSeconds") is not None and not job["spec"].get("suspend"):
                elapsed = now - parse_timestamp(status["startTime"])
                self.queue.add_after(key, job["spec"]["activeDeadlineSeconds"] - elapsed)
        if job_indexed.is_indexed(job):
            tracked = {pod["metadata"]["uid"] for pod in pods if has_tracking_finalizer(pod)
                       and pod["metadata"]["uid"] not in ctx.expected_removals}
            ctx.previous_indexes, ctx.succeeded_indexes = job_indexed.succeeded_indexes(job, pods, tracked)
            ctx.succeeded = len(ctx.succeeded_indexes)
            if job_backoff_per_index.has_backoff_limit_per_index(job):
                failed_uids = {pod["metadata"]["uid"] for pod in pods if is_pod_failed(pod, job)}
                ctx.failed_indexes = job_backoff_per_index.failed_indexes(job, pods, failed_uids, tracked)
                ctx.last_failed = job_backoff_per_index.last_failed_pods(pods, failed_uids)
                verdict = job_backoff_per_index.finished_condition(job, ctx.failed_indexes, ctx.succeeded_indexes)
                if ctx.finished_condition is None and verdict is not None:
                    ctx.finished_condition = new_condition("FailureTarget", "True", *verdict, now)
        error: Exception | None = None
        suspend_changed = False
        if ctx.finished_condition is not None:
            deleted_ready, deleted, error = self._delete_active_pods(job, ctx.active_pods)
            if deleted != active or not satisfied:
                ctx.finished_condition = None       # pods or finalizers may still be coming
            active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            managed = False
            if satisfied and not job["metadata"].get("deletionTimestamp"):
                active, error = self._manage_job(job, ctx)
                managed = True
            completions = job["spec"].get("completions")
            if completions is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= completions and active == 0
            if complete:
                ctx.finished_condition = new_condition("SuccessCriteriaMet", "True", "CompletionsReached",
                                                       "Reached expected number of succeeded pods", now)
            elif managed:
                suspend_changed = self._suspend_conditions(job)
        needs_update = (suspend_changed or active != (status.get("active") or 0) or ctx.ready != status.get("ready")
                        or ctx.terminating != status.get("terminating"))
        _set_count(status, "active", active)
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        self._track_status_and_remove_finalizers(ctx, needs_update)
        if error is not None:
            raise error

    def _pods_for_job(self, job: dict) -> list[dict]:
        """getPodsForJob: the namespace's pods this Job controls, after adoption and release."""
        try:
            selector = from_label_selector(job["spec"].get("selector"))
        except SelectorError as error:
            raise errors.ApiError(f"couldn't convert Job selector: {error}") from None
        candidates = self.pods.lister.list(job["metadata"]["namespace"])
        manager = ControllerRefManager(self.client, job, selector, "pods", "jobs")
        return manager.claim(candidates)

    def _new_finished_pods(self, ctx: SyncContext) -> tuple[list[dict], list[dict]]:
        """getNewFinishedPods: finished pods still carrying the finalizer and not yet in the uncounted lists."""
        def valid(pod: dict, uncounted: set[str]) -> bool:
            uid = pod["metadata"]["uid"]
            if not has_tracking_finalizer(pod) or uid in uncounted or uid in ctx.expected_removals:
                return False
            if job_indexed.is_indexed(ctx.job):
                index = job_indexed.completion_index(pod)
                return 0 <= index < ctx.job["spec"]["completions"]
            return True
        succeeded = [pod for pod in ctx.pods if valid(pod, ctx.uncounted_succeeded)
                     and (pod.get("status") or {}).get("phase") == "Succeeded"]
        failed = [pod for pod in ctx.pods if valid(pod, ctx.uncounted_failed) and is_pod_failed(pod, ctx.job)]
        return succeeded, failed

    def _past_active_deadline(self, job: dict) -> bool:
        deadline = job["spec"].get("activeDeadlineSeconds")
        start = (job.get("status") or {}).get("startTime")
        if deadline is None or not start or job["spec"].get("suspend"):
            return False
        return self.loop.now - parse_timestamp(start) >= deadline

    def _suspend_conditions(self, job: dict) -> bool:
        """The Suspended condition and its events; resuming restarts the clock of activeDeadlineSeconds."""
        conditions = job["status"].setdefault("conditions", [])
        now = self.loop.now
        if job["spec"].get("suspend"):
            if ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now):
                self.recorder.event(job, NORMAL, "Suspended", "Job suspended")
                return True
            return False
        if ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now):
            self.recorder.event(job, NORMAL, "Resumed", "Job resumed")
            job["status"]["startTime"] = timestamp(now)
            return True
        return False

    # -- creating and deleting pods ------------------------------------------------------
    def _manage_job(self, job: dict, ctx: SyncContext) -> tuple[int, Exception | None]:
        """manageJob: create or delete pods towards the wanted number; returns the new active count."""
        key = self.key_of(job)
        active = len(ctx.active_pods)
        if job["spec"].get("suspend"):
            doomed = deletion_order(ctx.active_pods)
            self.expectations.expect_deletions(key, len(doomed))
            removed_ready, removed, error = self._delete_job_pods(job, key, doomed)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error
        want = wanted_active(job, ctx.succeeded, active)
        doomed = self._pods_for_removal(job, ctx, max(0, active - want))[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if doomed:
            self.expectations.expect_deletions(key, len(doomed))
            removed_ready, removed, error = self._delete_job_pods(job, key, doomed)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error
        terminating = ctx.terminating if only_replace_failed_pods(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None
        per_index = job_backoff_per_index.has_backoff_limit_per_index(job)
        remaining = ctx.backoff.remaining_time(self.loop.now) if ctx.backoff and not per_index else 0.0
        if remaining > 0:
            self.queue.add_after(key, max(remaining, SYNC_JOB_BATCH_PERIOD))
            return 0, None
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int] = []
        if job_indexed.is_indexed(job):
            excluded = ctx.succeeded_indexes | ctx.failed_indexes
            if per_index:                   # an index still in its own backoff waits
                waits = {index: job_backoff_per_index.remaining_backoff(self.loop.now, pod)
                         for index, pod in ctx.last_failed.items()}
                delayed = {index: wait for index, wait in waits.items() if wait > 0}
                excluded |= set(delayed)
                if delayed:
                    self.queue.add_after(key, max(min(delayed.values()), SYNC_JOB_BATCH_PERIOD))
            indexes = job_indexed.first_pending_indexes(ctx.active_pods, excluded, diff, job["spec"]["completions"])
            diff = len(indexes)
        template = thaw(job["spec"]["template"])
        if job_indexed.is_indexed(job):
            job_indexed.add_completion_index_env(template)
        finalizers = template.setdefault("metadata", {}).setdefault("finalizers", [])
        if JOB_TRACKING_FINALIZER not in finalizers:
            finalizers.append(JOB_TRACKING_FINALIZER)
        self.expectations.expect_creations(key, diff)
        active += diff
        first_error: Exception | None = None
        batch, created_so_far = min(diff, 1), 0
        while created_so_far < diff:
            failures = 0
            for _ in range(batch):
                index = indexes[created_so_far] if indexes else None
                created_so_far += 1
                try:
                    self._create_pod(job, template, index, ctx.last_failed.get(index) if index is not None else None)
                except errors.ApiError as error:
                    self.expectations.creation_observed(key)
                    active -= 1
                    failures += 1
                    first_error = first_error or error
            if failures:
                skipped = diff - created_so_far
                active -= skipped
                for _ in range(skipped):
                    self.expectations.creation_observed(key)
                break
            batch = min(2 * batch, diff - created_so_far)
        return active, first_error

    def _create_pod(self, job: dict, template: dict, index: int | None, replaced: dict | None = None) -> None:
        """CreatePodsWithGenerateName: the Job's pod (``<job>-<index>-`` for an index), with its event.

        With backoffLimitPerIndex the pod carries its index's failure counts, from the pod it ``replaced``.
        """
        if index is None:
            self.pod_control.create_pods(job["metadata"]["namespace"], template, job, owner_reference(job))
            return
        indexed, generate_name = job_indexed.indexed_template(template, job["metadata"]["name"], index)
        if job_backoff_per_index.has_backoff_limit_per_index(job):
            job_backoff_per_index.annotate(indexed, job, replaced)
        pod = pod_from_template(indexed, job, owner_reference(job))
        pod["metadata"]["generateName"] = generate_name
        try:
            created = self.client.create(pod, job["metadata"]["namespace"])
        except errors.ApiError as error:
            self.recorder.event(job, WARNING, "FailedCreate", f"Error creating: {error}")
            raise
        self.recorder.event(job, NORMAL, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    def _pods_for_removal(self, job: dict, ctx: SyncContext, at_least: int) -> list[dict]:
        """activePodsForRemoval: duplicated or invalid indexes first, then ActivePods order."""
        ordered = deletion_order(ctx.active_pods)
        remove: list[dict] = []
        left = ordered
        if job_indexed.is_indexed(job):
            remove, left = job_indexed.duplicated_index_pods(list(reversed(ordered)), ctx.succeeded_indexes,
                                                             job["spec"]["completions"])
            left = deletion_order(left)
            failed = [pod for pod in left if job_indexed.completion_index(pod) in ctx.failed_indexes]
            remove += failed                # the active pods of a failed index go
            left = [pod for pod in left if pod not in failed]
        if len(remove) < at_least:
            remove += left[:at_least - len(remove)]
        return remove

    def _delete_job_pods(self, job: dict, key: str, pods: list[dict]) -> tuple[int, int, Exception | None]:
        """deleteJobPods: take the finalizer off, then delete (surplus or suspended pods are not failures)."""
        deleted, ready, first_error = 0, 0, None
        for pod in pods:
            try:
                self._remove_finalizer(pod)
                self.pod_control.delete_pod(job["metadata"]["namespace"], pod["metadata"]["name"], job)
            except errors.ApiError as error:
                self.expectations.deletion_observed(key)
                if not isinstance(error, errors.NotFound):
                    first_error = first_error or error
                    continue
            deleted += 1
            ready += is_pod_ready(pod)
        return ready, deleted, first_error

    def _delete_active_pods(self, job: dict, pods: list[dict]) -> tuple[int, int, Exception | None]:
        """deleteActivePods: delete every active pod, keeping finalizers (they are counted as failed)."""
        deleted, ready, first_error = 0, 0, None
        for pod in pods:
            try:
                self.pod_control.delete_pod(job["metadata"]["namespace"], pod["metadata"]["name"], job)
            except errors.NotFound:
                pass
            except errors.ApiError as error:
                first_error = first_error or error
                continue
            deleted += 1
            ready += is_pod_ready(pod)
        return ready, deleted, first_error

    # -- counting finished pods -------------------------------------------------------------
    def _track_status_and_remove_finalizers(self, ctx: SyncContext, needs_flush: bool) -> None:
        """trackJobStatusAndRemoveFinalizers: uncounted uids, finalizers off, counters, the final condition."""
        job, now = ctx.job, self.loop.now
        status = job["status"]
        uncounted = status["uncountedTerminatedPods"]
        indexed = job_indexed.is_indexed(job)
        with_finalizer = {pod["metadata"]["uid"] for pod in ctx.pods
                          if has_tracking_finalizer(pod) and pod["metadata"]["uid"] not in ctx.expected_removals}
        needs_flush = _clean_uncounted(status, with_finalizer) or needs_flush
        to_remove: list[dict] = []
        new_indexes: list[int] = []
        pods = sorted(ctx.pods, key=job_indexed.completion_index) if indexed else ctx.pods
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if not has_tracking_finalizer(pod) or uid in ctx.expected_removals:
                continue
            failed = is_pod_failed(pod, job)
            if not (job["metadata"].get("deletionTimestamp") or ctx.finished_condition is not None
                    or (pod.get("status") or {}).get("phase") == "Succeeded" or failed):
                continue
            to_remove.append(pod)
            if (pod.get("status") or {}).get("phase") == "Succeeded" and uid not in ctx.uncounted_failed:
                if indexed:
                    index = job_indexed.completion_index(pod)
                    if 0 <= index < job["spec"]["completions"] and index not in ctx.previous_indexes:
                        new_indexes.append(index)
                        needs_flush = True
                elif uid not in ctx.uncounted_succeeded:
                    uncounted.setdefault("succeeded", []).append(uid)
                    needs_flush = True
            elif failed or (ctx.finished_condition is not None
                            and ctx.finished_condition["type"] != "SuccessCriteriaMet"):
                index = job_indexed.completion_index(pod)
                if uid not in ctx.uncounted_failed and (
                        not indexed or 0 <= index < job["spec"]["completions"]) and (
                        job_pod_failure_policy.counts_towards_backoff_limit(job, pod)):
                    uncounted.setdefault("failed", []).append(uid)
                    needs_flush = True
            if len(new_indexes) + len(uncounted.get("succeeded") or ()) + len(
                    uncounted.get("failed") or ()) >= MAX_UNCOUNTED_PODS:
                break
        if indexed:
            ctx.succeeded_indexes = ctx.previous_indexes | set(new_indexes) | ctx.succeeded_indexes
            text = job_indexed.format_indexes(ctx.succeeded_indexes)
            if text != status.get("completedIndexes", ""):
                needs_flush = True
            _set_count(status, "succeeded", len(ctx.succeeded_indexes))
            status["completedIndexes"] = text
            if job_backoff_per_index.has_backoff_limit_per_index(job):
                failed_text = job_indexed.format_indexes(ctx.failed_indexes)
                if status.get("failedIndexes") != failed_text:
                    status["failedIndexes"] = failed_text
                    needs_flush = True
        condition = ctx.finished_condition
        if condition is not None and condition["type"] == "FailureTarget":
            status.setdefault("conditions", []).append(condition)
            needs_flush = True
            condition = ctx.finished_condition = new_condition("Failed", "True", condition["reason"],
                                                               condition["message"], now)
        if condition is not None and condition["type"] == "SuccessCriteriaMet":
            if find_condition(job, "SuccessCriteriaMet") is None:
                status.setdefault("conditions", []).append(condition)
                needs_flush = True
            condition = ctx.finished_condition = new_condition("Complete", "True", condition["reason"],
                                                               condition["message"], now)
        if needs_flush:
            self._update_status(ctx)
            needs_flush = False
        error: Exception | None = None
        if to_remove:
            key = self.key_of(job)
            self.finalizer_expectations.setdefault(key, set()).update(pod["metadata"]["uid"] for pod in to_remove)
            for pod in to_remove:
                try:
                    self._remove_finalizer(pod)
                except errors.ApiError as failure:
                    self._finalizer_removal_observed(key, pod["metadata"]["uid"])
                    error = error or failure
                    continue
                with_finalizer.discard(pod["metadata"]["uid"])
        if _clean_uncounted(ctx.job["status"], with_finalizer):
            needs_flush = True
        if error is not None:
            if needs_flush:
                self._update_status(ctx)
            raise error
        finished = self._enact_job_finished(ctx)
        if finished or needs_flush:
            self._update_status(ctx)
            if finished:
                self._record_job_finished(ctx.job, ctx.finished_condition)

    def _update_status(self, ctx: SyncContext) -> None:
        if not ctx.job["status"].get("conditions"):
            ctx.job["status"].pop("conditions", None)       # omitempty
        ctx.job = self.client.update_status(ctx.job)
        ctx.job.setdefault("status", {}).setdefault("uncountedTerminatedPods", {})
        if ctx.backoff is not None:
            self.backoff.update(ctx.backoff)

    def _enact_job_finished(self, ctx: SyncContext) -> bool:
        """enactJobFinished: the Complete or Failed condition, once nothing is uncounted or terminating."""
        condition = ctx.finished_condition
        if condition is None:
            return False
        status = ctx.job["status"]
        uncounted = status.get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed") or ctx.terminating > 0:
            return False
        ensure_condition(status.setdefault("conditions", []), condition["type"], condition["status"],
                         condition["reason"], condition["message"], self.loop.now)
        if condition["type"] == "Complete":
            status["completionTime"] = condition["lastTransitionTime"]
        return True

    def _record_job_finished(self, job: dict, condition: dict) -> None:
        if condition["type"] == "Complete":
            completions = job["spec"].get("completions")
            if completions is not None and (job["status"].get("succeeded") or 0) > completions:
                self.recorder.event(job, WARNING, "TooManySucceededPods",
                                    "Too many succeeded pods running after completion count reached")
            self.recorder.event(job, NORMAL, "Completed", "Job completed")
        else:
            self.recorder.event(job, WARNING, condition["reason"], condition["message"])


def _set_count(status: dict, name: str, value: int) -> None:
    """int32 counters with omitempty: 0 is left out."""
    if value:
        status[name] = value
    else:
        status.pop(name, None)


def _clean_uncounted(status: dict, with_finalizer: set[str]) -> bool:
    """cleanUncountedPodsWithoutFinalizers: uids whose finalizer is gone move into the counters."""
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    changed = False
    for kind, counter in (("succeeded", "succeeded"), ("failed", "failed")):
        uids = uncounted.get(kind) or []
        kept = [uid for uid in uids if uid in with_finalizer]
        if len(kept) != len(uids):
            changed = True
            _set_count(status, counter, (status.get(counter) or 0) + len(uids) - len(kept))
            if kept:
                uncounted[kind] = kept
            else:
                uncounted.pop(kind, None)
    return changed
