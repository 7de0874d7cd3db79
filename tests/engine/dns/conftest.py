"""A cluster's API server with CoreDNS running beside it on the virtual clock (no pods: the component itself).

``dns_env()`` builds a one-node cluster, applies kubeadm's CoreDNS RBAC, and starts ``CoreDNS`` with the
``coredns`` ServiceAccount's client, the default Corefile in its filesystem and the outside world's resolver
as its upstream; ``env.ask(name, qtype)`` sends one query; ``env.service(...)`` and ``env.endpoint_slice(...)``
build objects to apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import pytest

import engine
from engine.components import ComponentContext
from engine.dns import default_corefile, manifests
from engine.dns.coredns import CoreDNS
from engine.dns.message import DnsQuery, DnsResponse
from engine.dns.upstream import NODE_RESOLV_CONF, outside_send

SA_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:kube-system")


@dataclass
class DnsEnv:
    cluster: engine.Cluster
    server: CoreDNS
    fs: dict[str, str]
    logs: list[str] = field(default_factory=list)
    fatal: list[float] = field(default_factory=list)

    def ask(self, name: str, qtype: str = "A") -> DnsResponse:
        return self.server.handle_dns(DnsQuery(name, qtype, id=1), "10.244.1.9")

    def apply(self, obj: dict[str, Any], seconds: float = 1.0) -> None:
        self.cluster.apply(obj)
        self.cluster.run(seconds)

    @staticmethod
    def service(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
        spec.setdefault("ports", [{"name": "http", "port": 80, "protocol": "TCP"}])
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


    @staticmethod
    def endpoint_slice(service_name: str, endpoints: list[dict[str, Any]], namespace: str = "default",
                       ports: list[dict[str, Any]] | None = None, name: str | None = None) -> dict[str, Any]:
        """A slice managed by hand (not by the EndpointSlice controller), as for a Service without selector."""
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": name or f"{service_name}-manual", "namespace": namespace,
                             "labels": {"kubernetes.io/service-name": service_name,
                                        "endpointslice.kubernetes.io/managed-by": "staff"}},
                "addressType": "IPv4", "endpoints": endpoints,
                "ports": ports if ports is not None else [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def start(corefile: str | None = None, resolv_conf: str = NODE_RESOLV_CONF, send: Any = outside_send,
          settle: float = 1.0, rbac: bool = True) -> DnsEnv:
    cluster = engine.Cluster(nodes=1, seed=3)
    for obj in manifests()[1:4] if rbac else manifests()[3:4]:
        cluster.apply(obj)
    fs = {"/etc/coredns/Corefile": corefile or default_corefile(), "/etc/resolv.conf": resolv_conf}
    env = DnsEnv(cluster, None, fs)  # type: ignore[arg-type]
    client = cluster.client("system:serviceaccount:kube-system:coredns", SA_GROUPS)
    context = ComponentContext("coredns", client, cluster.loop, options={
        "fs": fs, "send": send, "log": env.logs.append, "address": "10.244.0.5",
        "on_fatal": lambda: env.fatal.append(cluster.now)})
    env.server = CoreDNS(context)
    env.server.start()
    cluster.run(settle)
    return env


@pytest.fixture
def dns() -> DnsEnv:
    return start()


@pytest.fixture
def start_dns() -> Callable[..., DnsEnv]:
    """``start_dns(corefile=None, resolv_conf=..., send=..., settle=1.0, rbac=True)``: a CoreDNS set up otherwise."""
    return start


