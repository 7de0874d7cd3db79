"""A calico cluster: routed pod networking (no overlay) and NetworkPolicy, from the docs' examples."""

import pytest

import engine
from engine.network.calico import CalicoNode
from network_setup import network_cluster, pod, pod_ip

DEFAULT_DENY_INGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""

ACCESS_NGINX = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: access-nginx
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
  - from:
    - podSelector:
        matchLabels:
          access: "true"
"""

DEFAULT_DENY_EGRESS = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-egress
spec:
  podSelector: {}
  policyTypes:
  - Egress
"""


@pytest.fixture
def cluster() -> engine.Cluster:
    c = network_cluster(CalicoNode)
    c.apply(pod("nginx", "node-2", labels={"app": "nginx"}))
    c.apply(pod("allowed", "node-1", image="busybox", labels={"access": "true"}, command=["sleep", "3600"]))
    c.apply(pod("other", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(20)
    return c


def test_pods_cross_nodes_by_bgp_routes_without_encapsulation(cluster: engine.Cluster) -> None:
    host = cluster.fabric.hosts["node-1"]
    assert "10.244.2.0/24 via 172.18.0.4 dev eth0 proto bird" in host.routes.show().splitlines()
    assert "blackhole 10.244.1.0/24 proto bird" in host.routes.show().splitlines()
    result = cluster.curl("other", f"http://{pod_ip(cluster, 'nginx')}/")
    assert result.status == 200
    assert "encapsulate" not in [hop.what for hop in result.hops]
    assert any(hop.where == "node-1" and hop.rule.startswith("10.244.2.0/24 via 172.18.0.4") for hop in result.hops)
    assert any(hop.where == "default/other" and hop.rule == "default via 169.254.1.1 dev eth0"
               for hop in result.hops)
    assert any(hop.rule.startswith(f"{pod_ip(cluster, 'nginx')}/32 dev cali") for hop in result.hops)


def test_default_deny_then_allow_by_label(cluster: engine.Cluster) -> None:
    url = f"http://{pod_ip(cluster, 'nginx')}/"
    cluster.apply(DEFAULT_DENY_INGRESS)
    cluster.run(1)
    denied = cluster.curl("other", url, connect_timeout=5)
    assert denied.error == "curl: (28) Connection timed out after 5001 milliseconds"
    drop = next(hop for hop in denied.hops if hop.what == "policy DROP")
    assert drop.where == "node-2" and drop.rule.startswith("cali-tw-cali")
    assert "default/default-deny-ingress" in drop.rule
    cluster.apply(ACCESS_NGINX)
    cluster.run(1)
    assert cluster.curl("allowed", url).status == 200
    assert cluster.curl("other", url, connect_timeout=5).exit_code == 28
    cluster.delete("networkpolicy", "default-deny-ingress")
    cluster.delete("networkpolicy", "access-nginx")
    cluster.run(1)
    assert cluster.curl("other", url).status == 200


def test_egress_default_deny_stops_the_client_and_answers_still_return(cluster: engine.Cluster) -> None:
    url = f"http://{pod_ip(cluster, 'nginx')}/"
    cluster.apply(DEFAULT_DENY_EGRESS)
    cluster.run(1)
    assert cluster.curl("other", url, connect_timeout=5).exit_code == 28
    # nginx itself sends nothing new: its answers belong to connections it accepted (conntrack)
    cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                   "metadata": {"name": "allow-to-nginx"},
                   "spec": {"podSelector": {"matchLabels": {"access": "true"}}, "policyTypes": ["Egress"],
                            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "nginx"}}}],
                                        "ports": [{"port": 80}]}]}})
    cluster.run(1)
    allowed = cluster.curl("allowed", url)
    assert allowed.status == 200
    assert any("ESTABLISHED" in hop.rule for hop in allowed.hops)


def test_a_namespace_selector_admits_pods_of_labelled_namespaces(cluster: engine.Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod", "labels": {"team": "prod"}}})
    cluster.run(2)      # the ServiceAccount controller creates prod/default
    cluster.apply(pod("client", "node-1", image="busybox", namespace="prod", command=["sleep", "3600"]))
    cluster.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "from-prod"},
                   "spec": {"podSelector": {"matchLabels": {"app": "nginx"}},
                            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "prod"}}}]}]}})
    cluster.run(20)
    url = f"http://{pod_ip(cluster, 'nginx')}/"
    assert cluster.curl("prod/client", url).status == 200
    assert cluster.curl("default/allowed", url, connect_timeout=1).exit_code == 28


def test_canal_carries_calico_interfaces_over_flannels_vxlan_and_enforces_policy() -> None:
    from engine.network.calico import Canal
    c = network_cluster(Canal)
    c.apply(pod("nginx", "node-2", labels={"app": "nginx"}))
    c.apply(pod("other", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(20)
    assert "/etc/cni/net.d/10-canal.conflist" in c.runtimes["node-1"].host_fs
    assert "/etc/cni/net.d/10-flannel.conflist" not in c.runtimes["node-1"].host_fs
    url = f"http://{pod_ip(c, 'nginx')}/"
    result = c.curl("other", url)
    assert result.status == 200
    what = [hop.what for hop in result.hops]
    assert "encapsulate" in what and "bridge" not in what
    assert any(hop.rule.startswith("cali-tw-cali") for hop in result.hops)
    c.apply(DEFAULT_DENY_INGRESS)
    c.run(1)
    assert c.curl("other", url, connect_timeout=1).exit_code == 28
