"""Service and EndpointSlice objects in the real shapes, and a node stand-in."""

from __future__ import annotations

from typing import Any

from engine.network.ipvs import IPVS
from engine.network.netfilter import Netfilter


class HostStandIn:
    """What kube-proxy needs of engine.network.host.Host: the node's Netfilter and IPVS."""

    def __init__(self, loop: Any, address: str = "172.18.0.3") -> None:
        self.address = address
        self.ipvs = IPVS(lambda: loop.now)
        self.iptables = Netfilter(lambda: loop.now, loop.random,
                                  is_local=lambda a: a == self.address or a in self.ipvs.dummy_addresses)


def service(name: str = "web", namespace: str = "default", *, cluster_ip: str = "10.96.0.20", type_: str = "ClusterIP",
            ports: list[dict] | None = None, **spec: Any) -> dict:
    status = spec.pop("status", {})
    body = {"type": type_, "clusterIP": cluster_ip,
            "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}], **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": body, "status": status}


def endpoint_slice(service_name: str = "web", namespace: str = "default", *, endpoints: list[tuple] = (),
                   port: int = 8080, port_name: str = "http", name: str | None = None, protocol: str = "TCP") -> dict:
    """``endpoints``: (ip, node, ready[, serving, terminating]) tuples."""
    items = []
    for ip, node, ready, *rest in endpoints:
        conditions = {"ready": ready, "serving": rest[0] if rest else ready,
                      "terminating": rest[1] if len(rest) > 1 else False}
        items.append({"addresses": [ip], "conditions": conditions, "nodeName": node})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name or f"{service_name}-abcde", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": service_name}},
            "addressType": "IPv4", "endpoints": items,
            "ports": [{"name": port_name, "port": port, "protocol": protocol}]}
