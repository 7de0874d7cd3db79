"""matchPodFailurePolicy: which rule a failed pod matches, and what it means for the Job."""

from __future__ import annotations

import pytest

from engine.controllers.job_pod_failure_policy import (
    COUNT, FAIL_INDEX, FAIL_JOB, IGNORE, Match, counts_towards_backoff_limit, fail_job_message,
    match_pod_failure_policy,
)

# The docs' job-pod-failure-policy-example: exit code 42 fails the Job, a disruption is ignored.
DOCS_POLICY = {"rules": [
    {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
]}


def failed_pod(*containers: tuple[str, int | None], conditions: tuple[str, ...] = (), init: tuple = ()) -> dict:
    def statuses(pairs):
        return [{"name": name, "state": {"terminated": {"exitCode": code}} if code is not None else {"running": {}}}
                for name, code in pairs]
    return {"metadata": {"namespace": "default", "name": "job-pi-abcde"},
            "status": {"phase": "Failed", "containerStatuses": statuses(containers),
                       "initContainerStatuses": statuses(init),
                       "conditions": [{"type": c, "status": "True"} for c in conditions]}}


@pytest.mark.parametrize("policy, pod, expected", [
    (DOCS_POLICY, failed_pod(("main", 42)),
     Match("Container main for pod default/job-pi-abcde failed with exit code 42 matching FailJob rule at index 0",
           True, FAIL_JOB)),
    (DOCS_POLICY, failed_pod(("main", 1)), Match()),
    (DOCS_POLICY, failed_pod(("sidecar", 42)), Match()),
    (DOCS_POLICY, failed_pod(("main", 137), conditions=("DisruptionTarget",)), Match(None, False, IGNORE)),
    ({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [0, 1]}}]},
     failed_pod(("a", 1), ("b", 3)),
     Match("Container b for pod default/job-pi-abcde failed with exit code 3 matching FailJob rule at index 0",
           True, FAIL_JOB)),
    ({"rules": [{"action": "Count", "onExitCodes": {"operator": "In", "values": [5]}}]},
     failed_pod(("main", None), init=(("setup", 5),)), Match(None, True, COUNT)),
    ({"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [5]}}]},
     failed_pod(("main", 5)), Match(None, True, FAIL_INDEX)),
    ({"rules": [{"action": "Retry", "onExitCodes": {"operator": "In", "values": [5]}},
                {"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
     failed_pod(("main", 5), conditions=("DisruptionTarget",)),
     Match("Pod default/job-pi-abcde has condition DisruptionTarget matching FailJob rule at index 1", True, FAIL_JOB)),
    (None, failed_pod(("main", 42)), Match()),
], ids=[
    "the docs' exit code 42 in container main matches the FailJob rule, with upstream's message",
    "another exit code matches no rule: the failure counts as usual",
    "containerName restricts the rule to that container",
    "a pod with the DisruptionTarget condition matches the Ignore rule and is not counted",
    "NotIn matches the first container whose non-zero exit code is outside the values",
    "init containers are matched after the app containers, and a running container has no exit code",
    "FailIndex is reported for backoffLimitPerIndex",
    "a rule with an unknown action is skipped; onPodConditions names the condition",
    "no policy: every failure counts",
])
def test_match_pod_failure_policy(policy, pod, expected):
    assert match_pod_failure_policy(policy, pod) == expected


def test_the_job_level_helpers_use_the_jobs_policy():
    job = {"spec": {"podFailurePolicy": DOCS_POLICY}}
    pods = [failed_pod(("main", 1)), failed_pod(("main", 42))]
    assert fail_job_message(job, pods).endswith("exit code 42 matching FailJob rule at index 0")
    assert fail_job_message({"spec": {}}, pods) is None
    assert counts_towards_backoff_limit(job, failed_pod(("main", 1), conditions=("DisruptionTarget",))) is False
    assert counts_towards_backoff_limit(job, failed_pod(("main", 1))) is True
