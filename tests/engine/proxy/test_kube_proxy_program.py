"""kube-proxy as kubeadm runs it: the DaemonSet's pods start the registry.k8s.io/kube-proxy binary on every node."""

from __future__ import annotations

import pytest

import engine
import engine.proxy as proxy
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.network import attach
from engine.scheduler import SCHEDULER

CONFIG = {"mode": "", "clusterCIDR": "10.244.0.0/16", "controlPlaneEndpoint": "https://172.18.0.2:6443"}


def boot(network_stacks: bool) -> engine.Cluster:
    cluster = engine.Cluster(nodes=1, seed=2, components=[COMPONENTS[0], SCHEDULER, KUBELET])
    if network_stacks:
        attach(cluster)
    proxy.register_images(cluster.registry)
    for obj in proxy.manifests(CONFIG):
        cluster.apply(obj)
    cluster.run(12)
    return cluster


def kube_proxy_pods(cluster: engine.Cluster) -> list[dict]:
    return cluster.list("pods", "kube-system", selector="k8s-app=kube-proxy")


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    return boot(network_stacks=True)


def test_a_kube_proxy_pod_runs_on_every_node_in_the_host_network(cluster: engine.Cluster) -> None:
    pods = kube_proxy_pods(cluster)
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(cluster.node_names)
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["status"]["podIP"] == pod["status"]["hostIP"]
        assert "Started kube-proxy" in cluster.kubectl(f"logs -n kube-system {pod['metadata']['name']}")


def test_each_pod_programs_its_own_nodes_tables_through_the_api_server(cluster: engine.Cluster) -> None:
    for node in cluster.node_names:
        saved = proxy.dump(cluster, node)
        assert '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in saved
        assert '"default/kubernetes:https' in saved, "the kubernetes Service is programmed (REJECT without endpoints)"


def test_without_the_nodes_network_namespace_it_exits_and_crash_loops() -> None:
    cluster = boot(network_stacks=False)
    pod = kube_proxy_pods(cluster)[0]
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] >= 1
    assert "Error running ProxyServer" in cluster.kubectl(f"logs -n kube-system {pod['metadata']['name']}")
