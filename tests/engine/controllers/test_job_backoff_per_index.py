"""backoffLimitPerIndex: when a failed pod fails its index, the counts a replacement carries, the Job's verdict."""

from __future__ import annotations

import pytest

from engine.api.meta import parse_timestamp

from engine.controllers.job_backoff_per_index import (
    annotate, failed_indexes, finished_condition, is_index_failed, remaining_backoff,
)


def job(limit: int = 1, policy: dict | None = None, most: int | None = None, failed: str = "") -> dict:
    spec = {"completions": 4, "completionMode": "Indexed", "backoffLimitPerIndex": limit}
    if policy:
        spec["podFailurePolicy"] = policy
    if most is not None:
        spec["maxFailedIndexes"] = most
    return {"spec": spec, "status": {"failedIndexes": failed}}


def pod(index: int, failures: int = 0, ignored: int = 0, exit_code: int = 1, finished: str = "2025-01-01T00:01:00Z",
        uid: str = "") -> dict:
    annotations = {"batch.kubernetes.io/job-completion-index": str(index),
                   "batch.kubernetes.io/job-index-failure-count": str(failures)}
    if ignored:
        annotations["batch.kubernetes.io/job-index-ignored-failure-count"] = str(ignored)
    return {"metadata": {"name": f"p{index}", "namespace": "default", "uid": uid or f"u{index}-{failures}",
                         "annotations": annotations},
            "status": {"phase": "Failed", "containerStatuses": [
                {"name": "main", "state": {"terminated": {"exitCode": exit_code, "finishedAt": finished}}}]}}


FAIL_INDEX_ON_42 = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]}
IGNORE_ON_7 = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}}]}


@pytest.mark.parametrize("the_job, the_pod, expected", [
    (job(1), pod(0, failures=0), False),
    (job(1), pod(0, failures=1), True),
    (job(0), pod(0, failures=0), True),
    (job(3, FAIL_INDEX_ON_42), pod(0, failures=0, exit_code=42), True),
    (job(0, IGNORE_ON_7), pod(0, failures=0, exit_code=7), False),
], ids=["the first failure of an index with limit 1 leaves a retry", "the retry's failure fails the index",
        "limit 0: the first failure fails it", "a FailIndex rule fails the index at once",
        "an ignored failure never fails the index"])
def test_is_index_failed(the_job, the_pod, expected):
    assert is_index_failed(the_job, the_pod, True) is expected
    assert is_index_failed(the_job, the_pod, False) is False


def test_failed_indexes_keep_the_status_and_add_tracked_pods_only():
    pods = [pod(1, failures=1, uid="a"), pod(2, failures=1, uid="b")]
    assert failed_indexes(job(1, failed="3"), pods, {"a", "b"}, {"a"}) == {1, 3}


def test_a_replacement_carries_the_counts_of_the_pod_it_replaces_plus_its_failure():
    template: dict = {}
    annotate(template, job(2), None)
    assert template["metadata"]["annotations"] == {"batch.kubernetes.io/job-index-failure-count": "0"}
    annotate(template, job(2), pod(0, failures=1))
    assert template["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"] == "2"
    ignored: dict = {}
    annotate(ignored, job(2, IGNORE_ON_7), pod(0, failures=1, exit_code=7))
    assert ignored["metadata"]["annotations"] == {"batch.kubernetes.io/job-index-failure-count": "1",
                                                  "batch.kubernetes.io/job-index-ignored-failure-count": "1"}


def test_the_index_backoff_doubles_with_its_failures():
    finished = parse_timestamp("2025-01-01T00:01:00Z")
    assert remaining_backoff(finished + 4, pod(0, failures=0)) == 6.0
    assert remaining_backoff(finished + 4, pod(0, failures=1)) == 16.0
    assert remaining_backoff(finished + 4, None) == 0.0


def test_the_jobs_verdict():
    assert finished_condition(job(1, most=1), {1, 3}, {0}) == (
        "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes")
    assert finished_condition(job(1), {1, 3}, {0}) is None                # index 2 still runs
    assert finished_condition(job(1), {1, 3}, {0, 2}) == ("FailedIndexes", "Job has failed indexes")
    assert finished_condition(job(1), set(), {0, 1, 2, 3}) is None
