"""KubeProxy as a component of a real cluster: informers through the API server program each node's stand-in host."""

from __future__ import annotations

from collections import Counter

import pytest

from engine import Cluster
from engine.components import COMPONENTS, ComponentContext, ComponentSpec
from engine.kubelet import KUBELET
from engine.proxy.config import render
from engine.proxy.server import KubeProxy, KubeProxyError, load_configuration
from engine.scheduler import SCHEDULER
from engine.sim.loop import Loop
from engine.network.packet import Packet

from proxy_fakes import HostStandIn

HOSTS: dict[tuple[int, str], HostStandIn] = {}


class KubeProxyOnStandIn(KubeProxy):
    """kube-proxy on a stand-in host per node (until engine.network.host exists), from kubeadm's config file."""

    def __init__(self, context: ComponentContext) -> None:
        host = HOSTS.setdefault((id(context.loop), context.node_name), HostStandIn(context.loop,
                                                                                   context.options["address"]))
        context.options.update(stack=host, fs={"/var/lib/kube-proxy/config.conf": render("", "10.244.0.0/16")},
                               config="/var/lib/kube-proxy/config.conf")
        super().__init__(context)


WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80, name: http}]
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    spec = ComponentSpec("kube-proxy", "node", "test_proxy_server:KubeProxyOnStandIn", user="system:kube-proxy")
    cluster = Cluster(nodes=2, seed=5, components=[COMPONENTS[0], SCHEDULER, KUBELET, spec])
    cluster.apply(WEB)
    cluster.run(40)
    return cluster


def host(cluster: Cluster, node: str) -> HostStandIn:
    return HOSTS[(id(cluster.loop), node)]


def ready_pod_ips(cluster: Cluster) -> set[str]:
    return {p["status"]["podIP"] for p in cluster.list("pods") if p["metadata"]["labels"].get("app") == "web"
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}


def test_every_node_sends_the_service_ip_to_the_ready_pods(cluster: Cluster) -> None:
    svc = cluster.get("service", "web")
    ips = ready_pod_ips(cluster)
    assert len(ips) == 3
    for node in cluster.node_names:
        spread = Counter(host(cluster, node).iptables.traverse(
            "nat", "OUTPUT", Packet("10.244.9.9", svc["spec"]["clusterIP"], 1000 + i, 80)).dnat
            for i in range(600))
        assert {ip for ip, _ in spread} == ips
        assert all(port == 80 for _, port in spread)
        assert all(150 < n < 250 for n in spread.values()), spread


def test_the_kubernetes_service_reaches_the_api_server_endpoint(cluster: Cluster) -> None:
    # The slice kube-apiserver's endpoint reconciler keeps (written here by hand: main has no reconciler yet).
    cluster.apply({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"name": "kubernetes", "namespace": "default",
                                "labels": {"kubernetes.io/service-name": "kubernetes"}},
                   "addressType": "IPv4", "endpoints": [{"addresses": ["172.18.0.2"], "conditions": {"ready": True}}],
                   "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
    cluster.run(2)
    node = cluster.node_names[-1]
    verdict = host(cluster, node).iptables.traverse("nat", "OUTPUT", Packet("10.244.9.9", "10.96.0.1", 1, 443))
    assert verdict.dnat == ("172.18.0.2", 6443)
    assert "KUBE-SVC-NPX46M4PTMTKRN6Y" in host(cluster, node).iptables.save()


def test_a_pod_that_goes_away_leaves_the_rules(cluster: Cluster) -> None:
    before = ready_pod_ips(cluster)
    cluster.kubectl("scale deployment web --replicas=2")
    cluster.run(5)
    (gone,) = before - ready_pod_ips(cluster)
    for node in cluster.node_names:
        saved = host(cluster, node).iptables.save()
        assert f"{gone}:80" not in saved
        assert saved.count("-m statistic --mode random --probability 0.50000000000") == 1


def test_config_file_is_required_when_named() -> None:
    with pytest.raises(KubeProxyError, match="failed to load kube-proxy config file"):
        load_configuration({"config": "/var/lib/kube-proxy/config.conf", "fs": {}})


def test_kube_proxy_needs_a_network_stack() -> None:
    from engine.client.client import Client  # noqa: F401  (the context below never dials)
    context = ComponentContext("kube-proxy", client=None, loop=Loop(), node_name="node-1", options={})
    with pytest.raises(KubeProxyError, match="no network stack"):
        KubeProxy(context)
