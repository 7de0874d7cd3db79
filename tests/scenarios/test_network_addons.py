"""Clusters booted with a network add-on the kubeadm way: the agents run as DaemonSet pods and carry traffic."""

import pytest

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER
from network_setup import pod, pod_ip


def _boot(network: str) -> engine.Cluster:
    c = engine.Cluster(nodes=2, components=[*COMPONENTS, SCHEDULER, KUBELET], network=network)
    c.run(20)
    c.apply(pod("web", "node-2", labels={"app": "nginx"}))
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(20)
    return c


@pytest.fixture(scope="module")
def flannel() -> engine.Cluster:
    return _boot("flannel")


def test_the_flannel_daemonset_runs_on_every_node_on_the_host_network(flannel: engine.Cluster) -> None:
    pods = flannel.list("pods", "kube-flannel")
    assert sorted(p["spec"]["nodeName"] for p in pods) == flannel.node_names
    assert all(p["status"]["phase"] == "Running" and p["status"]["podIP"] == p["status"]["hostIP"] for p in pods)
    node = flannel.get("nodes", "node-1", None)
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    assert node["metadata"]["annotations"]["flannel.alpha.coreos.com/public-ip"] == "172.18.0.3"


def test_flanneld_reached_the_api_server_through_the_kubernetes_service(flannel: engine.Cluster) -> None:
    slice_ = flannel.get("endpointslice", "kubernetes")
    assert slice_["endpoints"][0]["addresses"] == ["172.18.0.2"] and slice_["ports"][0]["port"] == 6443
    result = flannel.curl("node-1", "http://10.96.0.1:443/")
    assert any(hop.what == "DNAT" and hop.rule == "--to-destination 172.18.0.2:6443" for hop in result.hops)


def test_pods_of_a_flannel_cluster_talk_across_nodes_in_vxlan(flannel: engine.Cluster) -> None:
    result = flannel.curl("client", f"http://{pod_ip(flannel, 'web')}/")
    assert result.status == 200
    assert "encapsulate" in [hop.what for hop in result.hops]


def test_a_calico_cluster_routes_and_enforces_network_policy() -> None:
    c = _boot("calico")
    assert all(p["status"]["phase"] == "Running" for p in c.list("pods", "kube-system", selector="k8s-app=calico-node"))
    url = f"http://{pod_ip(c, 'web')}/"
    assert c.curl("client", url).status == 200
    c.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    c.run(2)
    assert c.curl("client", url, connect_timeout=2).error == "curl: (28) Connection timed out after 2001 milliseconds"


def test_canal_runs_calico_and_flannel_in_one_pod_per_node() -> None:
    c = _boot("canal")
    pods = c.list("pods", "kube-system", selector="k8s-app=canal")
    assert len(pods) == 3 and all(len(p["status"]["containerStatuses"]) == 2 for p in pods)
    result = c.curl("client", f"http://{pod_ip(c, 'web')}/")
    assert result.status == 200
    assert {"encapsulate", "policy"} <= {hop.what for hop in result.hops}
