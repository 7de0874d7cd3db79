"""Printers for Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs, CronJobs and HPAs.

Interface: one ``<kind>_row(obj, now, wide)`` per kind, plus ``job_status(job)``
(the Job STATUS column: Complete, Failed, Terminating, Suspended,
FailureTarget, SuccessCriteriaMet or Running).
"""

from __future__ import annotations

from engine.kubectl.duration import age, human_duration
from engine.kubectl.printers.cells import (NONE, Row, containers_and_images, created_age, dig, find_condition,
                                           format_labels, parse_time, selector_string, template_cells)


def deployment_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
           str(int(status.get("updatedReplicas") or 0)), str(int(status.get("availableReplicas") or 0)),
           created_age(obj, now)]
    if wide:
        row += [*template_cells(obj), selector_string(spec.get("selector"))]
    return row


def replicaset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], str(int(spec.get("replicas") or 0)), str(int(status.get("replicas") or 0)),
           str(int(status.get("readyReplicas") or 0)), created_age(obj, now)]
    if wide:
        row += [*template_cells(obj), selector_string(spec.get("selector"))]
    return row


def replicationcontroller_row(obj: dict, now: float, wide: bool) -> Row:
    """printReplicationController: a ReplicaSet's columns, the selector a plain label map."""
    row = replicaset_row(obj, now, False)
    if wide:
        row += [*template_cells(obj), format_labels((obj.get("spec") or {}).get("selector"))]
    return row


def statefulset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
           created_age(obj, now)]
    if wide:
        row += [*template_cells(obj)]
    return row


def daemonset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"]] + [str(int(status.get(field) or 0)) for field in (
        "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
        "numberAvailable")]
    row += [format_labels(dig(obj, "spec", "template", "spec", "nodeSelector")), created_age(obj, now)]
    if wide:
        row += [*template_cells(obj), selector_string(spec.get("selector"))]
    return row


def job_status(job: dict) -> str:
    conditions = dig(job, "status", "conditions") or []

    def has(kind: str) -> bool:
        condition = find_condition(conditions, kind)
        return condition is not None and condition.get("status") == "True"

    if has("Complete"):
        return "Complete"
    if has("Failed"):
        return "Failed"
    if dig(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if has(kind):
            return kind
    return "Running"


def job_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    row = [obj["metadata"]["name"], job_status(obj), completions, duration, created_age(obj, now)]
    if wide:
        row += [*template_cells(obj), selector_string(spec.get("selector"))]
    return row


def cronjob_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    suspend = spec.get("suspend")
    last = status.get("lastScheduleTime")
    row = [obj["metadata"]["name"], spec.get("schedule", ""), spec.get("timeZone") or NONE,
           "<unset>" if suspend is None else ("True" if suspend else "False"),
           str(len(status.get("active") or [])), age(now, last) if last else NONE, created_age(obj, now)]
    if wide:
        row += [*containers_and_images(dig(obj, "spec", "jobTemplate", "spec", "template", "spec")),
                selector_string(dig(obj, "spec", "jobTemplate", "spec", "selector"))]
    return row


def _hpa_targets(hpa: dict) -> str:
    metrics = dig(hpa, "spec", "metrics") or []
    current = dig(hpa, "status", "currentMetrics") or []
    if not metrics:
        return NONE
    pieces = []
    for index, metric in enumerate(metrics[:3]):
        if metric.get("type") == "Resource":
            target = dig(metric, "resource", "target") or {}
            now_metric = current[index] if index < len(current) else {}
            actual = "<unknown>"
            if target.get("averageUtilization") is not None:
                value = dig(now_metric, "resource", "current", "averageUtilization")
                if value is not None:
                    actual = f"{value}%"
                name = dig(metric, "resource", "name")
                pieces.append(f"{name}: {actual}/{target['averageUtilization']}%")
            else:
                value = dig(now_metric, "resource", "current", "averageValue")
                pieces.append(f"{value if value is not None else '<unknown>'}/{target.get('averageValue')}")
        else:
            pieces.append("<unknown>/<unknown>")
    text = ", ".join(pieces)
    if len(metrics) > 3:
        text += f" + {len(metrics) - 3} more..."
    return text


def hpa_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", _hpa_targets(obj),
            "<unset>" if minimum is None else str(minimum), str(spec.get("maxReplicas", 0)),
            str(int(status.get("currentReplicas") or 0)), created_age(obj, now)]
