"""A LoadBalancer Service reachable from outside through the cloud address, on a flannel cluster with kube-proxy.

The cloud's load balancer hands the connection to a node still addressed to the ingress IP (ipMode VIP);
kube-proxy's rule for that IP (KUBE-SERVICES -> KUBE-EXT -> KUBE-SVC -> KUBE-SEP) DNATs it to a pod,
maybe on the other node through the VXLAN overlay, and the answer returns through conntrack. flanneld and
kube-proxy run as bare components (network_setup), so only they and the cloud are under test.
"""

from __future__ import annotations

import pytest

import engine
from engine.cloud import follow_routes
from engine.cloud.internet import curl_from_internet
from engine.network.flannel import FlannelAgent
from network_setup import network_cluster

WEB = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "web", "image": "nginx",
                                                    "ports": [{"containerPort": 80}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
     "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}},
]


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    cluster = network_cluster(FlannelAgent, nodes=2, seed=0, proxy_mode="iptables", cloud="sim")
    follow_routes(cluster)
    cluster.apply(WEB)
    cluster.run(40)
    return cluster


def test_the_cloud_address_answers_from_outside_through_kube_proxys_rule(cluster):
    ip = cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    answers = [curl_from_internet(cluster, f"http://{ip}/") for _ in range(2)]
    assert [a.status for a in answers] == [200, 200] and "Welcome to nginx" in answers[0].body
    entered = [next(h.where for h in a.hops if h.what == "nat PREROUTING") for a in answers]
    assert sorted(entered) == ["node-1", "node-2"], "the load balancer takes its targets in turn"
    rules = [h.rule for h in answers[0].hops if h.what == "nat PREROUTING"]
    assert any(f"-d {ip}/32" in rule and "default/web loadbalancer IP" in rule for rule in rules)
    assert any(h.what == "DNAT" for h in answers[0].hops)


def test_without_a_listener_on_that_port_nothing_answers(cluster):
    ip = cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    result = curl_from_internet(cluster, f"http://{ip}:8080/")
    assert result.exit_code == 28 and not result.hops


def test_the_vpc_router_follows_the_route_controller(cluster):
    instances = {i.name: i.private_ip for i in cluster.cloud.describe_instances()}
    expected = {n["spec"]["podCIDR"]: instances[n["metadata"]["name"]] for n in cluster.list("nodes")}
    assert cluster.fabric.vpc_routes == expected and len(expected) == 3
