"""backoffLimitPerIndex (``pkg/controller/job``'s per-index backoff, 1.31 beta): each index of an Indexed Job
fails on its own.

With ``spec.backoffLimitPerIndex`` (Indexed Jobs only) a failing pod costs only
its own index: every pod carries the failures of its index so far in the
annotation ``batch.kubernetes.io/job-index-failure-count`` (and those an
``Ignore`` rule forgave in ``...-index-ignored-failure-count``), copied from
the pod it replaces plus one. An index whose failed pod had already used up
``backoffLimitPerIndex`` failures (or that matched a ``FailIndex`` rule of the
podFailurePolicy) is *failed*: it goes to ``status.failedIndexes`` and gets no
more pods, while the other indexes go on. A replacement waits the pod-failure
backoff of its own index (10 s doubled per failure of that index, at most 6
minutes). The Job fails with ``MaxFailedIndexesExceeded`` once more indexes
failed than ``spec.maxFailedIndexes``, or with ``FailedIndexes`` when every
index is finished and some failed.

Pure functions of plain Jobs and pods; ``engine.controllers.job`` calls them.
"""

from __future__ import annotations

from engine.controllers import job_backoff, job_indexed, job_pod_failure_policy

FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
REASON_FAILED_INDEXES = "FailedIndexes"
REASON_MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"


def has_backoff_limit_per_index(job: dict) -> bool:
    return (job.get("spec") or {}).get("backoffLimitPerIndex") is not None


def _count(pod: dict, annotation: str) -> int:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(annotation, "0")
    return int(value) if str(value).isdigit() else 0


def failure_count(pod: dict) -> int:
    """getIndexFailureCount: the failures of the pod's index before this pod."""
    return _count(pod, FAILURE_COUNT_ANNOTATION)


def is_index_failed(job: dict, pod: dict, pod_failed: bool) -> bool:
    """isIndexFailed: this failed pod fails its index (a FailIndex rule, or the index's limit used up)."""
    if not pod_failed:
        return False
    match = job_pod_failure_policy.match_pod_failure_policy(job["spec"].get("podFailurePolicy"), pod)
    if match.action == job_pod_failure_policy.FAIL_INDEX:
        return True
    return match.count_failed and failure_count(pod) >= job["spec"]["backoffLimitPerIndex"]


def failed_indexes(job: dict, pods: list[dict], failed: set[str], tracked: set[str]) -> set[int]:
    """calculateFailedIndexes: those in ``status.failedIndexes`` and those of tracked pods that fail theirs.

    ``failed`` holds the uids of the failed pods, ``tracked`` those still carrying the tracking finalizer.
    """
    completions = job["spec"]["completions"]
    indexes = job_indexed.parse_indexes((job.get("status") or {}).get("failedIndexes"), completions)
    for pod in pods:
        uid = pod["metadata"].get("uid")
        index = job_indexed.completion_index(pod)
        if uid in tracked and 0 <= index < completions and is_index_failed(job, pod, uid in failed):
            indexes.add(index)
    return indexes


def last_failed_pods(pods: list[dict], failed: set[str]) -> dict[int, dict]:
    """The last pod of each index that failed (by finish time): the one a new pod of the index replaces."""
    last: dict[int, dict] = {}
    for pod in pods:
        index = job_indexed.completion_index(pod)
        if index < 0 or pod["metadata"].get("uid") not in failed:
            continue
        if index not in last or job_backoff.finished_time(pod) > job_backoff.finished_time(last[index]):
            last[index] = pod
    return last


def new_failure_counts(job: dict, replaced: dict | None) -> tuple[int, int]:
    """getNewIndexFailureCounts: the replaced pod's counts, plus its own failure (counted or ignored)."""
    if replaced is None:
        return 0, 0
    counted, ignored = failure_count(replaced), _count(replaced, IGNORED_FAILURE_COUNT_ANNOTATION)
    if job_pod_failure_policy.counts_towards_backoff_limit(job, replaced):
        return counted + 1, ignored
    return counted, ignored + 1


def annotate(template: dict, job: dict, replaced: dict | None) -> None:
    """addIndexFailureCountAnnotation: the counts on a new pod's template."""
    counted, ignored = new_failure_counts(job, replaced)
    annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[FAILURE_COUNT_ANNOTATION] = str(counted)
    if ignored:
        annotations[IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)


def remaining_backoff(now: float, replaced: dict | None) -> float:
    """getRemainingTimePerIndex: what is left of the index's backoff after its last failure."""
    if replaced is None:
        return 0.0
    failures = failure_count(replaced) + _count(replaced, IGNORED_FAILURE_COUNT_ANNOTATION) + 1
    return job_backoff.remaining_time_for_failures(now, failures, job_backoff.finished_time(replaced))


def finished_condition(job: dict, failed: set[int], succeeded: set[int]) -> tuple[str, str] | None:
    """The FailureTarget (reason, message) per-index failures call for, if any."""
    most = job["spec"].get("maxFailedIndexes")
    if most is not None and len(failed) > most:
        return REASON_MAX_FAILED_INDEXES_EXCEEDED, "Job has exceeded the specified maximal number of failed indexes"
    if failed and len(failed | succeeded) >= job["spec"]["completions"]:
        return REASON_FAILED_INDEXES, "Job has failed indexes"
    return None
