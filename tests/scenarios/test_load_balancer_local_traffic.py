"""externalTrafficPolicy: Local behind a cloud load balancer, on a 2-worker flannel cluster on the simulated cloud.

The API server gives the Service a healthCheckNodePort; kube-proxy (the DaemonSet's pod on every node) serves it,
200 only where the Service has a ready local endpoint; the cloud's load balancer probes that port through the
network and sends the internet's traffic only to healthy nodes, where no SNAT happens, so nginx logs the client's
own address. When the pod moves to the other node, the health checks (and the traffic) follow.
"""

from __future__ import annotations

import json

import pytest

import engine
from engine.cloud.internet import INTERNET_CLIENT, curl_from_internet

WEB = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "web", "image": "nginx",
                                                    "ports": [{"containerPort": 80}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
     "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "web"},
              "ports": [{"port": 80}]}},
]


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=2, seed=0, network="flannel", cloud="sim")
    cluster.apply(WEB)
    cluster.run(60)
    return cluster


def web_node(cluster: engine.Cluster) -> str:
    [pod] = [p for p in cluster.list("pods") if (p["metadata"].get("labels") or {}).get("app") == "web"
             and not p["metadata"].get("deletionTimestamp")]
    return pod["spec"]["nodeName"]


def health(cluster: engine.Cluster) -> dict[str, str]:
    """Node name -> what the load balancer's health checks say of it."""
    names = {i.id: i.name for i in cluster.cloud.describe_instances()}
    [lb] = cluster.cloud.describe_load_balancers()
    return {names[target]: state for target, state in cluster.cloud.target_health(lb.name).items()}


def address(cluster: engine.Cluster, node: str) -> str:
    return cluster.fabric.hosts[node].address


def test_kube_proxy_answers_the_health_check_node_port_on_every_node(cluster):
    spec = cluster.get("svc", "web")["spec"]
    port = spec["healthCheckNodePort"]
    assert 30000 <= port <= 32767 and port != spec["ports"][0]["nodePort"]
    [lb] = cluster.cloud.describe_load_balancers()
    assert (lb.health_check.protocol, lb.health_check.port) == ("HTTP", port)
    home = web_node(cluster)
    for node in ("node-1", "node-2"):
        answer = cluster.curl(node, f"http://{address(cluster, node)}:{port}/healthz")
        local = 1 if node == home else 0
        assert answer.status == (200 if local else 503)
        assert json.loads(answer.body) == {"service": {"namespace": "default", "name": "web"},
                                           "localEndpoints": local, "serviceProxyHealthy": True}
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Load-Balancing-Endpoint-Weight"] == str(local)


def test_the_proxier_health_server_answers_healthz_and_livez_on_10256(cluster):
    at = address(cluster, "node-1")
    healthz = cluster.curl("node-1", f"http://{at}:10256/healthz")
    assert healthz.status == 200
    body = json.loads(healthz.body)
    assert body["nodeEligible"] is True and body["lastUpdated"] == body["currentTime"]
    assert body["currentTime"].startswith("2025-01-01 00:01:") and " +0000 UTC m=+" in body["currentTime"]
    livez = cluster.curl("node-1", f"http://{at}:10256/livez")
    assert livez.status == 200 and set(json.loads(livez.body)) == {"lastUpdated", "currentTime"}
    assert cluster.curl("node-1", f"http://{at}:10256/metrics").status == 404


def test_only_the_node_with_the_pod_is_healthy_and_the_pod_sees_the_client(cluster):
    home = web_node(cluster)
    other = "node-1" if home == "node-2" else "node-2"
    assert health(cluster) == {home: "healthy", other: "unhealthy"}
    ip = cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    answers = [curl_from_internet(cluster, f"http://{ip}/") for _ in range(4)]
    assert [a.status for a in answers] == [200] * 4
    assert {next(h.where for h in a.hops if h.what == "nat PREROUTING") for a in answers} == {home}
    delivered = [h for h in answers[0].hops if h.what == "deliver"]
    assert delivered[0].headers.startswith(f"{INTERNET_CLIENT}:"), "no SNAT on the way in"
    assert not any(h.what in ("SNAT", "MASQUERADE") for h in answers[0].hops)
    assert cluster.kubectl("logs deploy/web").count(f'{INTERNET_CLIENT} - - ') >= 4


def test_when_the_pod_moves_the_health_checks_follow(cluster):
    before = web_node(cluster)
    after = "node-1" if before == "node-2" else "node-2"
    [pod] = [p["metadata"]["name"] for p in cluster.list("pods") if p["metadata"]["name"].startswith("web-")]
    cluster.kubectl(f"cordon {before}")
    cluster.kubectl(f"delete pod {pod}")
    cluster.run(30)
    assert web_node(cluster) == after
    assert health(cluster)[after] == "healthy"            # two passing checks, 10 s apart
    cluster.run(60)                                       # six failing checks take the old node out
    assert health(cluster) == {after: "healthy", before: "unhealthy"}
    ip = cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    answers = [curl_from_internet(cluster, f"http://{ip}/") for _ in range(2)]
    assert [a.status for a in answers] == [200, 200]
    assert {next(h.where for h in a.hops if h.what == "nat PREROUTING") for a in answers} == {after}
