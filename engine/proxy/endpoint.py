"""Endpoints as kube-proxy sees them: from EndpointSlices to per-port backends, then by traffic policy.

``pkg/proxy/endpointslicecache.go`` merges every EndpointSlice of a Service
(label ``kubernetes.io/service-name``) into, per Service port name, a list
of endpoints ``ip:port`` with their conditions (a missing ``ready`` counts
as ready, a missing ``serving`` as ``ready``, a missing ``terminating`` as
false) and whether they are on this node; the list is sorted by ``ip:port``
(``byEndpoint``). ``categorize_endpoints`` is ``pkg/proxy/topology.go``'s
``CategorizeEndpoints``: the endpoints "Cluster" traffic policy uses (ready
ones, else serving-and-terminating ones), those "Local" policy uses (ready
local ones, else serving-terminating local ones), every endpoint this node
can reach, and whether the Service has any usable endpoint at all. Both are
pure functions of plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.proxy.serviceport import ServicePortInfo, ServicePortName

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class EndpointInfo:
    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    is_local: bool = False
    node_name: str = ""
    zone: str = ""

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


def endpoints_map(slices: list[dict], node_name: str | None) -> dict[ServicePortName, list[EndpointInfo]]:
    """Every Service port's endpoints from ``slices`` (any Services), de-duplicated and sorted."""
    found: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    for slice_ in sorted(slices, key=lambda s: (s["metadata"].get("namespace", ""), s["metadata"]["name"])):
        if slice_.get("addressType", "IPv4") != "IPv4":
            continue
        service = (slice_["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        if not service:
            continue
        namespace = slice_["metadata"].get("namespace", "default")
        for port in slice_.get("ports") or ():
            if port.get("port") is None:
                continue
            name = ServicePortName(namespace, service, port.get("name") or "", port.get("protocol") or "TCP")
            bucket = found.setdefault(name, {})
            for endpoint in slice_.get("endpoints") or ():
                conditions = endpoint.get("conditions") or {}
                ready = conditions.get("ready") is not False
                serving = conditions["serving"] if conditions.get("serving") is not None else ready
                info = EndpointInfo(
                    ip=endpoint["addresses"][0], port=int(port["port"]), ready=ready, serving=bool(serving),
                    terminating=bool(conditions.get("terminating")),
                    is_local=bool(node_name) and endpoint.get("nodeName") == node_name,
                    node_name=endpoint.get("nodeName") or "", zone=endpoint.get("zone") or "")
                bucket.setdefault(str(info), info)
    return {name: sorted(bucket.values(), key=str) for name, bucket in found.items()}


@dataclass(frozen=True)
class Categorized:
    cluster: list[EndpointInfo]
    local: list[EndpointInfo]
    all_reachable: list[EndpointInfo]
    has_any: bool


def categorize_endpoints(endpoints: list[EndpointInfo], service: ServicePortInfo) -> Categorized:
    """CategorizeEndpoints (topology hints left out: the engine's Services carry none)."""
    cluster: list[EndpointInfo] = []
    local: list[EndpointInfo] = []
    has_any = False
    if service.uses_cluster_endpoints():
        cluster = [ep for ep in endpoints if ep.ready]
        if not cluster:
            cluster = [ep for ep in endpoints if ep.serving and ep.terminating]
        has_any = bool(cluster)
    if not service.uses_local_endpoints():
        return Categorized(cluster, [], cluster, has_any)
    local_ready = local_serving_terminating = False
    for ep in endpoints:
        if ep.ready:
            has_any = True
            local_ready = local_ready or ep.is_local
        elif ep.serving and ep.terminating:
            has_any = True
            local_serving_terminating = local_serving_terminating or ep.is_local
    if local_ready:
        local = [ep for ep in endpoints if ep.is_local and ep.ready]
    elif local_serving_terminating:
        local = [ep for ep in endpoints if ep.is_local and ep.serving and ep.terminating]
    if not service.uses_cluster_endpoints():
        return Categorized([], local, local, has_any)
    merged = {str(ep): ep for ep in cluster}
    merged.update({str(ep): ep for ep in local})
    return Categorized(cluster, local, sorted(merged.values(), key=str), has_any)
