"""Indexed Jobs (``pkg/controller/job/indexed_job_utils.go``): completion indexes and their interval notation.

With ``completionMode: Indexed`` every pod of a Job gets a completion index
from 0 to ``completions - 1``, written on the pod as the
``batch.kubernetes.io/job-completion-index`` annotation and label, exposed to
its containers as ``JOB_COMPLETION_INDEX`` (downward API), and used for its
hostname (``<job>-<index>``) and its generated name (``<job>-<index>-``). The
Job is complete when every index has a succeeded pod; ``status.completedIndexes``
lists them compressed as intervals (``"0-2,5"``).

Everything here is a pure function of plain pods and Jobs.
"""

from __future__ import annotations

import copy

COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
UNKNOWN_INDEX = -1


def is_indexed(job: dict) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def completion_index(pod: dict) -> int:
    """getCompletionIndex: the pod's index annotation, or ``UNKNOWN_INDEX`` if missing or not a number."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(COMPLETION_INDEX_ANNOTATION)
    if value is None or not value.isdigit():
        return UNKNOWN_INDEX
    return int(value)


def format_indexes(indexes: set[int] | list[int]) -> str:
    """orderedIntervals.String: sorted indexes with runs of three or more written ``a-b``, ``a,b`` for two."""
    ordered = sorted(set(indexes))
    parts: list[str] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        parts.append(str(first) if first == last else (f"{first},{last}" if last == first + 1 else f"{first}-{last}"))
        start = end + 1
    return ",".join(parts)


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """parseIndexesFromString: the indexes below ``completions`` named by an interval string."""
    indexes: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            continue
        indexes.update(range(first, min(last, completions - 1) + 1))
    return indexes


def succeeded_indexes(job: dict, pods: list[dict], tracked: set[str]) -> tuple[set[int], set[int]]:
    """calculateSucceededIndexes: (indexes already in the status, those plus newly succeeded tracked pods)."""
    completions = job["spec"]["completions"]
    previous = parse_indexes((job.get("status") or {}).get("completedIndexes"), completions)
    now = set(previous)
    for pod in pods:
        index = completion_index(pod)
        if ((pod.get("status") or {}).get("phase") == "Succeeded" and pod["metadata"].get("uid") in tracked
                and 0 <= index < completions):
            now.add(index)
    return previous, now


def first_pending_indexes(active_pods: list[dict], succeeded: set[int], count: int, completions: int) -> list[int]:
    """firstPendingIndexes: the lowest ``count`` indexes with neither a succeeded nor an active pod."""
    taken = set(succeeded) | {completion_index(pod) for pod in active_pods}
    pending: list[int] = []
    for index in range(completions):
        if len(pending) >= count:
            break
        if index not in taken:
            pending.append(index)
    return pending


def duplicated_index_pods(active_pods: list[dict], succeeded: set[int], completions: int) -> tuple[list, list]:
    """appendDuplicatedIndexPodsForRemoval: (pods to remove, pods to keep) by index.

    A pod with no valid index, with an index already succeeded, or with an index
    another active pod also has (all but one of them) is removed. ``active_pods``
    must come in deletion order (the pod to delete first, first): the last pod
    of an index is the one kept.
    """
    remove, keep = [], []
    last_of_index: dict[int, dict] = {}
    for pod in active_pods:
        index = completion_index(pod)
        if index == UNKNOWN_INDEX or index >= completions or index in succeeded:
            remove.append(pod)
            continue
        if index in last_of_index:
            remove.append(last_of_index[index])
        last_of_index[index] = pod
    keep = [pod for pod in active_pods if pod not in remove]
    return remove, keep


def indexed_template(template: dict, job_name: str, index: int) -> tuple[dict, str]:
    """The pod template for one index and the pod's generateName (``<job>-<index>-``)."""
    result = copy.deepcopy(template)
    metadata = result.setdefault("metadata", {})
    metadata.setdefault("annotations", {})[COMPLETION_INDEX_ANNOTATION] = str(index)
    metadata.setdefault("labels", {})[COMPLETION_INDEX_ANNOTATION] = str(index)
    result.setdefault("spec", {})["hostname"] = f"{job_name}-{index}"
    return result, f"{job_name}-{index}-"


def add_completion_index_env(template: dict) -> None:
    """addCompletionIndexEnvVariables: ``JOB_COMPLETION_INDEX`` from the annotation, in every container."""
    source = {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"}}
    spec = template.setdefault("spec", {})
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or ():
            env = container.setdefault("env", [])
            if not any(variable.get("name") == COMPLETION_INDEX_ENV for variable in env):
                env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": copy.deepcopy(source)})
