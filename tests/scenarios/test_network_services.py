"""Services through kube-proxy's rules in the packet model: ClusterIP across nodes, NodePort, ipvs mode."""

import pytest

import engine
from engine.network.flannel import FlannelAgent
from network_setup import network_cluster, pod

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: ["netexec", "--http-port=8080"]
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""


def _cluster(mode: str) -> engine.Cluster:
    c = network_cluster(FlannelAgent, nodes=2, proxy_mode=mode)
    c.apply(WEB)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(30)
    return c


@pytest.fixture(scope="module", params=["iptables", "ipvs"])
def cluster(request: pytest.FixtureRequest) -> engine.Cluster:
    return _cluster(request.param)


def _backends(c: engine.Cluster) -> dict[str, str]:
    return {p["status"]["podIP"]: p["metadata"]["name"] for p in c.list("pods", selector="app=web")}


def test_a_pod_reaches_a_cluster_ip_dnated_to_a_ready_backend(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    answered = set()
    for _ in range(12):
        result = cluster.curl("client", f"http://{vip}/hostname")
        assert result.status == 200, result.error
        answered.add(result.body.strip())
        hops = [hop.what for hop in result.hops]
        assert "DNAT" in hops or "IPVS" in hops
        assert result.hops[-1].headers.startswith(f"{vip}:80 > ")     # the answer comes from the VIP
    assert answered == set(_backends(cluster).values())             # both replicas answer


def test_a_node_port_answers_on_every_node(cluster: engine.Cluster) -> None:
    node_port = cluster.get("service", "web")["spec"]["ports"][0]["nodePort"]
    for address in ("172.18.0.3", "172.18.0.4"):
        result = cluster.curl("client", f"http://{address}:{node_port}/hostname")
        assert result.status == 200 and result.body.strip() in _backends(cluster).values()


def test_a_service_without_endpoints_is_refused(cluster: engine.Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty"},
                   "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}})
    cluster.run(3)
    vip = cluster.get("service", "empty")["spec"]["clusterIP"]
    result = cluster.curl("client", f"http://{vip}/", connect_timeout=3)
    assert result.exit_code in (7, 28)
    if next(a for a in cluster.agents if a.name == "kube-proxy").config.mode == "iptables":   # REJECT: no endpoints
        assert result.error == f"curl: (7) Failed to connect to {vip} port 80 after 0 ms: Couldn't connect to server"
