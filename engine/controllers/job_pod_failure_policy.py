"""A Job's podFailurePolicy (``pkg/controller/job/pod_failure_policy.go``): what one failed pod means.

``spec.podFailurePolicy.rules`` are tried in order against a failed pod; the
first rule that matches decides, the rest are skipped:

- ``onExitCodes``: a terminated container (app containers first, then init
  containers; optionally only the one named ``containerName``) whose non-zero
  exit code is ``In`` / ``NotIn`` the rule's ``values``;
- ``onPodConditions``: one of the pod's conditions with the pattern's
  ``type`` and ``status`` (``True`` by default), e.g. ``DisruptionTarget``,
  which eviction, preemption and the taint manager set.

The rule's ``action``: ``FailJob`` fails the whole Job at once (the
``FailureTarget`` condition, reason ``PodFailurePolicy``, with a message
naming the container, pod, exit code and rule); ``Ignore`` does not count the
failure towards ``backoffLimit`` (a replacement pod is still made); ``Count``
counts it, as if no rule matched; ``FailIndex`` (with
``backoffLimitPerIndex``) marks the pod's index failed. An unknown action
makes the rule be skipped, as clients are told to do.

Everything here is a pure function of plain pods and Jobs; the Job
controller (``engine.controllers.job``) calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

FAIL_JOB = "FailJob"
FAIL_INDEX = "FailIndex"
IGNORE = "Ignore"
COUNT = "Count"
REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
"""JobReasonPodFailurePolicy: the FailureTarget and Failed conditions' reason after a FailJob rule."""


@dataclass(frozen=True)
class Match:
    """matchPodFailurePolicy's three results: the FailJob message, whether to count the failure, the action."""

    fail_job_message: str | None = None
    count_failed: bool = True
    action: str | None = None


NO_MATCH = Match()


def _exit_code_matches(code: int, requirement: dict) -> bool:
    """isOnExitCodesOperatorMatching: In or NotIn the values; any other operator never matches."""
    values = [int(v) for v in requirement.get("values") or ()]
    operator = requirement.get("operator")
    if operator == "In":
        return code in values
    if operator == "NotIn":
        return code not in values
    return False


def _matching_container(statuses: list[dict], requirement: dict) -> dict | None:
    """getMatchingContainerFromList: the first terminated container with a non-zero, matching exit code."""
    name = requirement.get("containerName")
    for status in statuses:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None:
            continue                      # still terminating: no exit code to match yet
        if name is not None and name != status.get("name"):
            continue
        code = int(terminated.get("exitCode") or 0)
        if code != 0 and _exit_code_matches(code, requirement):
            return status
    return None


def match_on_exit_codes(pod: dict, requirement: dict) -> dict | None:
    """matchOnExitCodes: the app containers first, then the init containers."""
    status = pod.get("status") or {}
    return (_matching_container(status.get("containerStatuses") or [], requirement)
            or _matching_container(status.get("initContainerStatuses") or [], requirement))


def match_on_pod_conditions(pod: dict, patterns: list[dict]) -> dict | None:
    """matchOnPodConditions: the first of the pod's conditions that some pattern names (type and status)."""
    for condition in (pod.get("status") or {}).get("conditions") or ():
        for pattern in patterns:
            if condition.get("type") == pattern.get("type") and condition.get("status") == pattern.get(
                    "status", "True"):
                return condition
    return None


def match_pod_failure_policy(policy: dict | None, pod: dict) -> Match:
    """matchPodFailurePolicy: the first rule that matches the failed ``pod`` decides; none: count it."""
    if policy is None:
        return NO_MATCH
    namespace, name = pod["metadata"].get("namespace", ""), pod["metadata"].get("name", "")
    for index, rule in enumerate(policy.get("rules") or ()):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container = match_on_exit_codes(pod, rule["onExitCodes"])
            if container is None:
                continue
            code = int(container["state"]["terminated"].get("exitCode") or 0)
            message = (f"Container {container.get('name')} for pod {namespace}/{name} failed with exit code "
                       f"{code} matching {action} rule at index {index}")
        elif rule.get("onPodConditions") is not None:
            condition = match_on_pod_conditions(pod, rule["onPodConditions"])
            if condition is None:
                continue
            message = (f"Pod {namespace}/{name} has condition {condition.get('type')} matching {action} "
                       f"rule at index {index}")
        else:
            continue
        if action == IGNORE:
            return Match(None, False, IGNORE)
        if action == FAIL_INDEX:
            return Match(None, True, FAIL_INDEX)
        if action == COUNT:
            return Match(None, True, COUNT)
        if action == FAIL_JOB:
            return Match(message, True, FAIL_JOB)
        # an action this version does not know: skip the rule
    return NO_MATCH


def fail_job_message(job: dict, failed_pods: list[dict]) -> str | None:
    """getFailJobMessage: the message of the first failed pod that matches a FailJob rule."""
    policy = (job.get("spec") or {}).get("podFailurePolicy")
    if policy is None:
        return None
    for pod in failed_pods:
        message = match_pod_failure_policy(policy, pod).fail_job_message
        if message is not None:
            return message
    return None


def counts_towards_backoff_limit(job: dict, pod: dict) -> bool:
    """Whether a failed pod counts towards backoffLimit: not when an Ignore rule matches it."""
    return match_pod_failure_policy((job.get("spec") or {}).get("podFailurePolicy"), pod).count_failed
