"""describe for the workload controllers' objects: Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet, Job.

Interface: one ``describe_<kind>(obj, client, now)`` per kind. A Deployment
names its new ReplicaSet (the owned one whose template matches, ignoring
``pod-template-hash``) and its old ones still holding replicas; the others
count their pods by phase (``Pods Status``), as ``getPodStatusForController`` does.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from engine.api.meta import parse_timestamp
from engine.api.selectors import format_label_selector, from_label_selector
from engine.kubectl.describe.pods import describe_pod_template
from engine.kubectl.describe.writer import (Writer, controller_text, describe_events, dig, find_events, go_bool,
                                            go_list, print_annotations, print_labels, rfc1123z)
from engine.kubectl.printers import format_labels

if TYPE_CHECKING:
    from engine.client.client import Client


def _owned(client: "Client", owner: dict, plural: str) -> list[dict]:
    """Objects selected by ``owner``'s selector and controlled by it, as kubectl lists them."""
    uid = owner["metadata"].get("uid")
    selector = from_label_selector(dig(owner, "spec", "selector"))
    items = client.list(plural, owner["metadata"].get("namespace"))["items"]
    return [item for item in items if selector.matches(item["metadata"].get("labels"))
            and any(ref.get("controller") and ref.get("uid") == uid
                    for ref in item["metadata"].get("ownerReferences") or [])]


def _template_without_hash(template: dict) -> dict:
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop("pod-template-hash", None)
    return template


def _replicasets_text(replicasets: list[dict]) -> str:
    texts = [f"{rs['metadata']['name']} ({int(dig(rs, 'status', 'replicas') or 0)}/"
             f"{int(dig(rs, 'spec', 'replicas') or 0)} replicas created)" for rs in replicasets]
    return ", ".join(texts) or "<none>"


def describe_deployment(deployment: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = deployment["metadata"], deployment.get("spec") or {}, deployment.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{int(spec.get('replicas') or 0)} desired | {int(status.get('updatedReplicas') or 0)} "
               f"updated | {int(status.get('replicas') or 0)} total | {int(status.get('availableReplicas') or 0)} "
               f"available | {int(status.get('unavailableReplicas') or 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{int(spec.get('minReadySeconds') or 0)}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        w.write(0, f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '25%')} max unavailable, "
                   f"{rolling.get('maxSurge', '25%')} max surge\n")
    describe_pod_template(w, spec.get("template"))
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')} \t{c.get('status', '')}\t{c.get('reason', '')}\n")
    owned = sorted(_owned(client, deployment, "replicasets"),
                   key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]))
    wanted = _template_without_hash(spec.get("template"))
    new = next((rs for rs in owned if _template_without_hash(rs["spec"].get("template")) == wanted), None)
    old = [rs for rs in owned if rs is not new and int(dig(rs, "spec", "replicas") or 0) != 0]
    w.write(0, f"OldReplicaSets:\t{_replicasets_text(old)}\n")
    w.write(0, f"NewReplicaSet:\t{_replicasets_text([new] if new else [])}\n")
    describe_events(w, find_events(client, deployment), now)
    return w.text()


def describe_replicaset(rs: dict, client: "Client", now: float) -> str:
    return _describe_replicas(rs, client, now, format_label_selector(dig(rs, "spec", "selector")), controlled=True)


def describe_replicationcontroller(rc: dict, client: "Client", now: float) -> str:
    """describeReplicationController: a ReplicaSet's page with a map selector and no Controlled By."""
    return _describe_replicas(rc, client, now, format_labels(dig(rc, "spec", "selector")), controlled=False)


def _describe_replicas(owner: dict, client: "Client", now: float, selector: str, *, controlled: bool) -> str:
    """The page describeReplicaSet and describeReplicationController share, given the selector's text."""
    w = Writer()
    metadata, spec, status = owner["metadata"], owner.get("spec") or {}, owner.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{selector}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    if controlled and controller_text(owner):
        w.write(0, f"Controlled By:\t{controller_text(owner)}\n")
    w.write(0, f"Replicas:\t{int(status.get('replicas') or 0)} current / {int(spec.get('replicas') or 0)} desired\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, owner)}\n")
    describe_pod_template(w, spec.get("template"))
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')} \t{c.get('status', '')}\t{c.get('reason', '')}\n")
    describe_events(w, find_events(client, owner), now)
    return w.text()


def _pods_status(client: "Client", owner: dict) -> str:
    """``getPodStatusForController``: the owner's pods by phase."""
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in _owned(client, owner, "pods"):
        phase = dig(pod, "status", "phase")
        if phase in counts:
            counts[phase] += 1
    return (f"{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} Succeeded / "
            f"{counts['Failed']} Failed")


def describe_daemonset(daemon: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = daemon["metadata"], daemon.get("spec") or {}, daemon.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    w.write(0, f"Node-Selector:\t{format_labels(dig(spec, 'template', 'spec', 'nodeSelector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    for label, key in (("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
                       ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
                       ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
                       ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
                       ("Number of Nodes Misscheduled", "numberMisscheduled")):
        w.write(0, f"{label}: {int(status.get(key) or 0)}\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, daemon)}\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, find_events(client, daemon), now)
    return w.text()


def describe_statefulset(stateful: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = stateful["metadata"], stateful.get("spec") or {}, stateful.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Replicas:\t{int(spec.get('replicas') or 0)} desired | {int(status.get('replicas') or 0)} total\n")
    strategy = spec.get("updateStrategy") or {}
    w.write(0, f"Update Strategy:\t{strategy.get('type', '')}\n")
    rolling = strategy.get("rollingUpdate") or {}
    if rolling.get("partition") is not None:
        w.write(1, f"Partition:\t{rolling['partition']}\n")
        if rolling.get("maxUnavailable") is not None:
            w.write(1, f"MaxUnavailable:\t{rolling['maxUnavailable']}\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, stateful)}\n")
    describe_pod_template(w, spec.get("template"))
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        w.write(0, "Volume Claims:\t<none>\n")
    else:
        w.write(0, "Volume Claims:\n")
        for claim in claims:
            claim_spec = claim.get("spec") or {}
            w.write(1, f"Name:\t{dig(claim, 'metadata', 'name') or ''}\n")
            w.write(1, f"StorageClass:\t{claim_spec.get('storageClassName') or ''}\n")
            print_labels(w, "Labels", dig(claim, "metadata", "labels"), "  ")
            w.write(1, "Annotations:\t")
            annotations = dig(claim, "metadata", "annotations") or {}
            w.line(",".join(f"{k}={annotations[k]}" for k in sorted(annotations)) or "<none>")
            w.write(1, f"Capacity:\t{dig(claim_spec, 'resources', 'requests', 'storage') or '<default>'}\n")
            w.write(1, f"Access Modes:\t{go_list(claim_spec.get('accessModes'))}\n")
    describe_events(w, find_events(client, stateful), now)
    return w.text()


def describe_job(job: dict, client: "Client", now: float) -> str:
    from engine.kubectl.duration import human_duration
    w = Writer()
    metadata, spec, status = job["metadata"], job.get("spec") or {}, job.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    controlled = controller_text(job)
    if controlled:
        w.write(0, f"Controlled By:\t{controlled}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    w.write(0, f"Completions:\t{spec['completions'] if spec.get('completions') is not None else '<unset>'}\n")
    if spec.get("completionMode"):
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend") is not None:
        w.write(0, f"Suspend:\t{go_bool(spec['suspend'])}\n")
    if spec.get("backoffLimit") is not None:
        w.write(0, f"Backoff Limit:\t{spec['backoffLimit']}\n")
    if spec.get("ttlSecondsAfterFinished") is not None:
        w.write(0, f"TTL Seconds After Finished:\t{spec['ttlSecondsAfterFinished']}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    if status.get("completionTime"):
        w.write(0, f"Completed At:\t{rfc1123z(status['completionTime'])}\n")
    if status.get("startTime") and status.get("completionTime"):
        elapsed = parse_timestamp(status["completionTime"]) - parse_timestamp(status["startTime"])
        w.write(0, f"Duration:\t{human_duration(elapsed)}\n")
    if spec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    active, succeeded, failed = (int(status.get(key) or 0) for key in ("active", "succeeded", "failed"))
    if status.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")
    else:
        w.write(0, f"Pods Statuses:\t{active} Active ({status['ready']} Ready) / {succeeded} Succeeded / "
                   f"{failed} Failed\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, find_events(client, job), now)
    return w.text()


def _bool_ptr(value: object) -> str:
    """``printBoolPtr``: ``True``, ``False`` or ``<unset>``."""
    return "<unset>" if value is None else ("True" if value else "False")


def _or_unset(value: object, suffix: str = "") -> str:
    return "<unset>" if value is None else f"{value}{suffix}"


def describe_cronjob(cronjob: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = cronjob["metadata"], cronjob.get("spec") or {}, cronjob.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Schedule:\t{spec.get('schedule', '')}\n")
    w.write(0, f"Concurrency Policy:\t{spec.get('concurrencyPolicy', '')}\n")
    w.write(0, f"Suspend:\t{_bool_ptr(spec.get('suspend'))}\n")
    w.write(0, f"Successful Job History Limit:\t{_or_unset(spec.get('successfulJobsHistoryLimit'))}\n")
    w.write(0, f"Failed Job History Limit:\t{_or_unset(spec.get('failedJobsHistoryLimit'))}\n")
    w.write(0, f"Starting Deadline Seconds:\t{_or_unset(spec.get('startingDeadlineSeconds'), 's')}\n")
    job_spec = dig(spec, "jobTemplate", "spec") or {}
    selector = job_spec.get("selector")
    w.write(0, f"Selector:\t{format_label_selector(selector) if selector is not None else '<unset>'}\n")
    w.write(0, f"Parallelism:\t{_or_unset(job_spec.get('parallelism'))}\n")
    w.write(0, f"Completions:\t{_or_unset(job_spec.get('completions'))}\n")
    if job_spec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{job_spec['activeDeadlineSeconds']}s\n")
    describe_pod_template(w, job_spec.get("template"))
    last = status.get("lastScheduleTime")
    w.write(0, f"Last Schedule Time:\t{rfc1123z(last) if last else '<unset>'}\n")
    active = [ref.get("name", "") for ref in status.get("active") or []]
    w.write(0, f"Active Jobs:\t{', '.join(active) or '<none>'}\n")
    describe_events(w, find_events(client, cronjob), now)
    return w.text()


def _hpa_metric_lines(hpa: dict) -> list[str]:
    """``describeHorizontalPodAutoscalerV2`` metric lines (resource metrics; others briefly)."""
    current = dig(hpa, "status", "currentMetrics") or []
    lines = []
    for index, metric in enumerate(dig(hpa, "spec", "metrics") or []):
        now_metric = current[index] if index < len(current) else {}
        if metric.get("type") == "Resource":
            resource = metric.get("resource") or {}
            target = resource.get("target") or {}
            if target.get("averageUtilization") is not None:
                value = dig(now_metric, "resource", "current", "averageUtilization")
                actual = "<unknown>" if value is None else f"{value}% ({dig(now_metric, 'resource', 'current', 'averageValue')})"
                lines.append(f"  resource {resource.get('name')} on pods  (as a percentage of request):\t{actual} / "
                             f"{target['averageUtilization']}%\n")
            else:
                value = dig(now_metric, "resource", "current", "averageValue")
                lines.append(f"  resource {resource.get('name')} on pods:\t{value or '<unknown>'} / "
                             f"{target.get('averageValue')}\n")
        else:
            lines.append(f"  {str(metric.get('type', '')).lower()} metric:\t<unknown> / <unknown>\n")
    return lines


def describe_hpa(hpa: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = hpa["metadata"], hpa.get("spec") or {}, hpa.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    target = spec.get("scaleTargetRef") or {}
    w.write(0, f"Reference:\t{target.get('kind', '')}/{target.get('name', '')}\n")
    w.write(0, "Metrics:\t( current / target )\n")
    for line in _hpa_metric_lines(hpa):
        w.write(0, line)
    w.write(0, f"Min replicas:\t{_or_unset(spec.get('minReplicas'))}\n")
    w.write(0, f"Max replicas:\t{spec.get('maxReplicas', 0)}\n")
    w.write(0, f"{target.get('kind', '')} pods:\t{int(status.get('currentReplicas') or 0)} current / "
               f"{int(status.get('desiredReplicas') or 0)} desired\n")
    if status.get("conditions"):
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tReason\tMessage\n")
        w.write(1, "----\t------\t------\t-------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')}\t{c.get('status', '')}\t{c.get('reason', '')}\t{c.get('message', '')}\n")
    describe_events(w, find_events(client, hpa), now)
    return w.text()
