"""What the Endpoints and EndpointSlice controllers share (``pkg/controller/util/endpoint``, ``endpointslice/util``).

Which pods belong behind a Service (``ShouldPodBeInEndpoints``), which pod
port a Service port reaches (``podutil.FindPort``: a number as it is, a name
looked up among the pod's container ports of the same protocol), when an
endpoint carries the pod's hostname, and which Services select a pod (to
queue them when the pod changes). Pure functions of plain objects; nothing
here talks to the API server.
"""

from __future__ import annotations

from typing import Iterable

from engine.api.selectors import from_set


class PortNotFound(LookupError):
    """The pod has no container port of that name (the Service port is skipped for this pod)."""


def is_pod_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_ips(pod: dict) -> list[str]:
    status = pod.get("status") or {}
    ips = [entry.get("ip") for entry in status.get("podIPs") or () if entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips


def should_pod_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: not terminal, has an IP, and (unless asked to) not being deleted."""
    if is_pod_terminal(pod) or not pod_ips(pod):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def find_port(pod: dict, service_port: dict) -> int:
    """podutil.FindPort: the container port a Service port's targetPort names, or its number."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    raise PortNotFound(f"no suitable port for manifest: {pod['metadata'].get('uid', '')}")


def should_set_hostname(pod: dict, service: dict) -> bool:
    """A pod with a hostname whose subdomain is this Service (in its namespace) is addressed by that name."""
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == service["metadata"]["name"] \
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")


def is_headless(service: dict) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def selects(service: dict, pod: dict) -> bool:
    """The Service has a selector and it matches the pod's labels (same namespace)."""
    selector = (service.get("spec") or {}).get("selector")
    if not selector or service["metadata"].get("namespace") != pod["metadata"].get("namespace"):
        return False
    return from_set(selector).matches(pod["metadata"].get("labels") or {})


def services_for_pod(services: Iterable[dict], *pods: dict) -> list[dict]:
    """GetPodServiceMemberships: the Services selecting any of these versions of a pod."""
    return [service for service in services if any(selects(service, pod) for pod in pods if pod)]


def target_ref(pod: dict) -> dict:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}
