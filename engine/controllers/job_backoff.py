"""The Job's pod-failure backoff (``pkg/controller/job/backoff_utils.go``): how long to wait before a new pod.

After a pod fails, the Job controller waits before creating its
replacement: 10 s after the first failure, doubling with each further
failure since the last success (20 s, 40 s, ...), at most 10 minutes
(``MaxJobPodFailureBackOff``; the docs still say six, the code has said ten
since 1.28). A success resets the count. The record per Job is kept in the
controller's memory (``BackoffStore``), as upstream's is, and a pod's finish
time is read from its containers' ``terminated.finishedAt``, else its
``Ready=False`` condition, else its deletion, else its creation.

Pure functions of pods and times, plus the small in-memory store.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.api.meta import parse_timestamp

DEFAULT_POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0


@dataclass(frozen=True)
class BackoffRecord:
    """How many pods failed since the last success, and when the last of them finished."""

    key: str
    failures_after_last_success: int = 0
    last_failure_time: float | None = None

    def remaining_time(self, now: float, base: float = DEFAULT_POD_FAILURE_BACKOFF,
                       cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
        """getRemainingTime: seconds still to wait before creating pods (0 when none)."""
        return remaining_time_for_failures(now, self.failures_after_last_success, self.last_failure_time, base, cap)


def remaining_time_for_failures(now: float, failures: int, last_failure: float | None,
                                base: float = DEFAULT_POD_FAILURE_BACKOFF,
                                cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
    """getRemainingTimeForFailuresCount: ``base * 2**(failures-1)`` capped, minus the time since the failure."""
    if failures == 0 or last_failure is None:
        return 0.0
    delay = base
    for _ in range(1, failures):
        delay *= 2
        if delay >= cap:
            delay = cap
            break
    elapsed = now - last_failure
    return 0.0 if delay < elapsed else delay - elapsed


def finished_time(pod: dict) -> float:
    """getFinishedTime: when a finished pod finished, by upstream's order of evidence."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    latest: float | None = None
    for status in statuses:
        finished = ((status.get("state") or {}).get("terminated") or {}).get("finishedAt")
        if not finished:
            latest = None
            break
        moment = parse_timestamp(finished)
        latest = moment if latest is None or moment > latest else latest
    if latest is not None and statuses:
        return latest
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready" and condition.get("status") == "False" and \
                condition.get("lastTransitionTime"):
            return parse_timestamp(condition["lastTransitionTime"])
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return parse_timestamp(metadata["deletionTimestamp"]) - (metadata.get("deletionGracePeriodSeconds") or 0)
    return parse_timestamp(metadata["creationTimestamp"]) if metadata.get("creationTimestamp") else 0.0


def new_backoff_record(old: BackoffRecord, succeeded: list[dict], failed: list[dict]) -> BackoffRecord:
    """newBackoffRecord: the record after newly counted succeeded and failed pods."""
    succeeded_times = sorted(finished_time(pod) for pod in succeeded)
    failed_times = sorted(finished_time(pod) for pod in failed)
    if not succeeded_times:
        if not failed_times:
            return old
        return BackoffRecord(old.key, old.failures_after_last_success + len(failed_times), failed_times[-1])
    last_success = succeeded_times[-1]
    after = [moment for moment in failed_times if moment > last_success]
    return BackoffRecord(old.key, len(after), after[-1] if after else None)


class BackoffStore:
    """The controller's in-memory backoff records, one per Job key."""

    def __init__(self) -> None:
        self.records: dict[str, BackoffRecord] = {}

    def get(self, key: str) -> BackoffRecord:
        return self.records.get(key) or BackoffRecord(key)

    def update(self, record: BackoffRecord) -> None:
        self.records[record.key] = record

    def remove(self, key: str) -> None:
        self.records.pop(key, None)
