"""The Dashboard backend's views: what its JSON API answers, computed from the API server through a client.

Each function takes a client (``engine.client.Client``: the dashboard pod's ServiceAccount connection, or the
notebook widget's) and reads the cluster the way the real backend (``src/app/backend/resource/...``) does, with
plain list and get calls, no cache. The answers keep the real API's shapes and names:

    namespaces(client)                        {"listMeta", "namespaces": [{"objectMeta", "typeMeta", "phase"}]}
    workloads(client, ns)                     {"deploymentList", "replicaSetList", "statefulSetList",
                                               "daemonSetList", "jobList"}: each {"listMeta", "<kind>s": [...]}
                                              with each item's ``pods`` (current, desired, running, pending,
                                              failed, succeeded) and ``containerImages``
    pods(client, ns)                          {"listMeta", "status", "pods": [{"objectMeta", "typeMeta", "status",
                                               "restartCount", "nodeName", "containerImages", "ready", ...}]}
    nodes(client)                             {"listMeta", "nodes": [{"objectMeta", "typeMeta", "ready", ...}]}
    services(client, ns)                      {"listMeta", "services": [{"internalEndpoint", "clusterIP", ...}]}
    events(client, ns)                        {"listMeta", "events": [...]}, newest first
    containers(client, ns, pod)               {"containers": [...], "initContainers": [...]}
    logs(client, ns, pod, container)          {"info": {"podName", "containerName", "truncated"},
                                               "logs": [{"timestamp", "content"}]}
    raw(client, kind, ns, name)               the object itself (the page shows it as YAML)

``ns`` None means every namespace. A list the client may not read (RBAC 403) or that fails otherwise comes back
empty with the ``Status`` in its ``errors`` (``[{"ErrStatus": {...}}]``), as the real backend reports
non-critical errors; ``logs`` and ``raw`` raise ``engine.ApiError``, which the server answers with its code.
Every object also carries ``age``, its age on the cluster's virtual clock as kubectl prints it (this
miniature's addition: the page cannot use the browser's clock). What it never does: write.
"""

from __future__ import annotations

from typing import Any, Callable

from engine.api import errors
from engine.api.meta import parse_timestamp
from engine.kubectl.duration import human_duration
from engine.kubectl.printers.pods import node_roles, node_status, pod_ready, pod_status

LOG_LINES = 500
"""The newest log lines a ``logs`` answer holds (the real log viewer pages through 100 at a time)."""
WORKLOAD_KINDS = (("deployments", "deploymentList", "deployments", "deployment"),
                  ("replicasets", "replicaSetList", "replicaSets", "replicaset"),
                  ("statefulsets", "statefulSetList", "statefulSets", "statefulset"),
                  ("daemonsets", "daemonSetList", "daemonSets", "daemonset"),
                  ("jobs", "jobList", "jobs", "job"))
"""(resource, list key, items key, typeMeta kind) of each workload kind the Workloads page lists."""


def _now(client: Any) -> float:
    return client.loop.now


def _age(obj: dict, now: float) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return ""
    return human_duration(max(0.0, now - parse_timestamp(created)))


def object_meta(obj: dict) -> dict:
    """The dashboard's ObjectMeta: name, namespace, labels, annotations, creationTimestamp, uid."""
    metadata = obj.get("metadata") or {}
    meta = {key: metadata[key] for key in ("name", "namespace", "creationTimestamp", "uid") if key in metadata}
    meta["labels"] = dict(metadata.get("labels") or {})
    meta["annotations"] = dict(metadata.get("annotations") or {})
    return meta


def _item(obj: dict, kind: str, now: float, **fields: Any) -> dict:
    return {"objectMeta": object_meta(obj), "typeMeta": {"kind": kind}, "age": _age(obj, now), **fields}


def _list(client: Any, resource: str, namespace: str | None, found: list[dict]) -> list[dict]:
    """The objects, or none with the error recorded in ``found`` (a non-critical error)."""
    try:
        kind = client.kind(resource)
        return list(client.list(resource, namespace if kind.namespaced else None)["items"])
    except errors.ApiError as error:
        found.append({"ErrStatus": error.status})
        return []


def _listing(key: str, items: list[dict], found: list[dict], **extra: Any) -> dict:
    return {"listMeta": {"totalItems": len(items)}, key: items, "errors": found, **extra}


def _images(template_spec: dict | None, init: bool = False) -> list[str]:
    containers = (template_spec or {}).get("initContainers" if init else "containers") or []
    return [container.get("image", "") for container in containers]


def _by_name(objects: list[dict]) -> list[dict]:
    return sorted(objects, key=lambda obj: ((obj.get("metadata") or {}).get("namespace", ""),
                                            obj["metadata"]["name"]))


def namespaces(client: Any) -> dict:
    found: list[dict] = []
    now = _now(client)
    items = [_item(ns, "namespace", now, phase=(ns.get("status") or {}).get("phase", "Active"))
             for ns in _by_name(_list(client, "namespaces", None, found))]
    return _listing("namespaces", items, found)


def _owned_by(pod: dict, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (pod.get("metadata") or {}).get("ownerReferences") or [])


def pod_info(owned: list[dict], current: int, desired: int | None) -> dict:
    """The ``pods`` summary of a workload: how many of its pods are in each phase."""
    phases = [(pod.get("status") or {}).get("phase") or "Pending" for pod in owned]
    return {"current": current, "desired": desired, "running": phases.count("Running"),
            "pending": phases.count("Pending"), "failed": phases.count("Failed"),
            "succeeded": phases.count("Succeeded"), "warnings": []}


def _counts(resource: str, obj: dict) -> tuple[int, int | None]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if resource == "daemonsets":
        return int(status.get("currentNumberScheduled") or 0), int(status.get("desiredNumberScheduled") or 0)
    if resource == "jobs":
        return int(status.get("active") or 0), spec.get("completions")
    return int(status.get("replicas") or 0), int(spec.get("replicas", 1))


def workloads(client: Any, namespace: str | None) -> dict:
    """The Workloads page: Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs with their pods' states."""
    now = _now(client)
    pod_errors: list[dict] = []
    all_pods = _list(client, "pods", namespace, pod_errors)
    replica_sets = _list(client, "replicasets", namespace, [])
    answer: dict[str, Any] = {}
    for resource, list_key, items_key, kind in WORKLOAD_KINDS:
        found = list(pod_errors)
        items = []
        for obj in _by_name(_list(client, resource, namespace, found)):
            owned = [pod for pod in all_pods if _owned_by(pod, obj["metadata"].get("uid", ""))]
            if resource == "deployments":       # a Deployment's pods belong to its ReplicaSets
                sets = {rs["metadata"].get("uid") for rs in replica_sets if _owned_by(rs, obj["metadata"]["uid"])}
                owned = [pod for pod in all_pods if any(_owned_by(pod, uid) for uid in sets)]
            current, desired = _counts(resource, obj)
            template = ((obj.get("spec") or {}).get("template") or {}).get("spec")
            items.append(_item(obj, kind, now, pods=pod_info(owned, current, desired),
                               containerImages=_images(template), initContainerImages=_images(template, True)))
        answer[list_key] = _listing(items_key, items, found)
    return answer


def pods(client: Any, namespace: str | None) -> dict:
    """The Pods page: each pod's status (kubectl's STATUS), restarts, node, images, and the phase counts."""
    now = _now(client)
    found: list[dict] = []
    objects = _by_name(_list(client, "pods", namespace, found))
    items = []
    for pod in objects:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        items.append(_item(pod, "pod", now, status=pod_status(pod), ready=pod_ready(pod),
                           restartCount=sum(int(s.get("restartCount") or 0) for s in statuses),
                           nodeName=(pod.get("spec") or {}).get("nodeName", ""),
                           podIP=(pod.get("status") or {}).get("podIP", ""),
                           containerImages=_images(pod.get("spec")), warnings=[]))
    summary = pod_info(objects, len(objects), None)
    status = {key: summary[key] for key in ("running", "pending", "failed", "succeeded")}
    return _listing("pods", items, found, status=status)


def nodes(client: Any) -> dict:
    """The Nodes page: Ready, roles, kubelet version, InternalIP."""
    now = _now(client)
    found: list[dict] = []
    items = []
    for node in sorted(_list(client, "nodes", None, found), key=lambda n: n["metadata"]["name"]):
        status = node.get("status") or {}
        addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
        ready = next((c.get("status", "Unknown") for c in status.get("conditions") or [] if c.get("type") == "Ready"),
                     "Unknown")
        items.append(_item(node, "node", now, ready=ready, status=node_status(node), roles=node_roles(node),
                           kubeletVersion=(status.get("nodeInfo") or {}).get("kubeletVersion", ""),
                           internalIP=addresses.get("InternalIP", ""),
                           unschedulable=bool((node.get("spec") or {}).get("unschedulable"))))
    return _listing("nodes", items, found)


def services(client: Any, namespace: str | None) -> dict:
    """The Services page: type, ClusterIP, the internal endpoint (``name.namespace`` and its ports), selector."""
    now = _now(client)
    found: list[dict] = []
    items = []
    for service in _by_name(_list(client, "services", namespace, found)):
        spec, meta = service.get("spec") or {}, service["metadata"]
        ports = [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"), "nodePort": p.get("nodePort", 0)}
                 for p in spec.get("ports") or []]
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        external = [{"host": entry.get("ip") or entry.get("hostname", ""), "ports": ports} for entry in ingress]
        items.append(_item(service, "service", now, type=spec.get("type", "ClusterIP"),
                           clusterIP=spec.get("clusterIP", ""), selector=dict(spec.get("selector") or {}),
                           internalEndpoint={"host": f"{meta['name']}.{meta.get('namespace', '')}", "ports": ports},
                           externalEndpoints=external))
    return _listing("services", items, found)


def _event_time(event: dict, *fields: str) -> str:
    for key in fields:
        if event.get(key):
            return str(event[key])
    return str((event.get("metadata") or {}).get("creationTimestamp", ""))


def events(client: Any, namespace: str | None) -> dict:
    """The Events list: newest (last seen) first, with the involved object and its source."""
    now = _now(client)
    found: list[dict] = []
    items = []
    for event in _list(client, "events", namespace, found):
        involved = event.get("involvedObject") or {}
        source = event.get("source") or {}
        last = _event_time(event, "lastTimestamp", "eventTime", "firstTimestamp")
        items.append(_item(event, "event", now, message=event.get("message", ""), reason=event.get("reason", ""),
                           type=event.get("type", ""), count=int(event.get("count") or 1),
                           sourceComponent=source.get("component") or event.get("reportingComponent", ""),
                           sourceHost=source.get("host", ""), objectKind=involved.get("kind", ""),
                           objectName=involved.get("name", ""), objectNamespace=involved.get("namespace", ""),
                           firstSeen=_event_time(event, "firstTimestamp", "eventTime"), lastSeen=last,
                           lastSeenAge=human_duration(max(0.0, now - parse_timestamp(last))) if last else ""))
    items.sort(key=lambda item: (item["lastSeen"], item["objectMeta"].get("name", "")), reverse=True)
    return _listing("events", items, found)


def containers(client: Any, namespace: str, pod: str) -> dict:
    """The pod's container names (the log viewer's choices)."""
    spec = client.get("pods", pod, namespace).get("spec") or {}
    return {"containers": [c["name"] for c in spec.get("containers") or []],
            "initContainers": [c["name"] for c in spec.get("initContainers") or []]}


def logs(client: Any, namespace: str, pod: str, container: str | None = None, lines: int = LOG_LINES) -> dict:
    """The newest ``lines`` lines of a container's log (the first container when none is named), timestamped."""
    if not container:
        names = containers(client, namespace, pod)["containers"]
        container = names[0] if names else ""
    text = client.get("pods", pod, namespace, subresource="log",
                      params={"container": container, "timestamps": True, "tailLines": lines + 1}) or ""
    entries = []
    for line in str(text).splitlines():
        stamp, _, content = line.partition(" ")
        entries.append({"timestamp": stamp, "content": content})
    truncated = len(entries) > lines
    entries = entries[-lines:]
    return {"info": {"podName": pod, "containerName": container, "initContainerName": "",
                     "fromDate": entries[0]["timestamp"] if entries else "",
                     "toDate": entries[-1]["timestamp"] if entries else "", "truncated": truncated},
            "logs": entries}


def raw(client: Any, kind: str, namespace: str | None, name: str) -> dict:
    """The object itself, as the API server has it (``kind`` as kubectl accepts it: ``pod``, ``deployment``)."""
    resolved = client.kind(kind)
    return client.get(resolved.plural, name, namespace if resolved.namespaced else None)


VIEWS: dict[str, Callable[..., dict]] = {"namespace": namespaces, "workloads": workloads, "pod": pods,
                                         "node": nodes, "service": services, "event": events}
"""The list views by the path segment the JSON API names them with (``/api/v1/pod/{namespace}``)."""
