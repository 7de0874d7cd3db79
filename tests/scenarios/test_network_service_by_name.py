"""The networking issue's "done when": a pod curls a Service by name and a ready backend answers, through
CoreDNS, kube-proxy's DNAT and (across nodes) flannel's overlay; NodePort; headless Services."""

import pytest

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER
from network_setup import pod

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-2}
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: ["netexec", "--http-port=8080"]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080}]
"""


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=2, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    c.run(30)
    c.apply(APP)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(30)
    return c


def _backends(c: engine.Cluster) -> set[str]:
    return {p["metadata"]["name"] for p in c.list("pods", selector="app=web")}


@pytest.mark.parametrize("name", ["web", "web.default", "web.default.svc.cluster.local"])
def test_a_pod_curls_a_service_by_name_through_dns_dnat_and_the_overlay(cluster: engine.Cluster, name: str) -> None:
    result = cluster.curl("client", f"http://{name}/hostname")
    assert result.status == 200 and result.body.strip() in _backends(cluster)
    what = [hop.what for hop in result.hops]
    assert what[0] == "DNS query" and "DNS answer" in what
    delivered = [hop for hop in result.hops if hop.what == "deliver"]
    assert delivered[0].where.startswith("kube-system/coredns-")
    assert "DNAT" in what[what.index("DNS answer"):] and "encapsulate" in what[what.index("DNS answer"):]
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    assert result.hops[-1].headers.startswith(f"{vip}:80 > ")


def test_the_search_list_is_walked_with_ndots_5(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", "http://web/hostname")
    asked = [hop.rule for hop in result.hops if hop.what == "DNS query"]
    assert asked == ["A web.default.svc.cluster.local."]
    longer = cluster.curl("client", "http://web.default.svc.cluster.local/hostname")
    assert [hop.rule for hop in longer.hops if hop.what == "DNS query"][0] == \
        "A web.default.svc.cluster.local.default.svc.cluster.local."


def test_a_node_port_answers_from_a_node_without_a_pod_there(cluster: engine.Cluster) -> None:
    node_port = cluster.get("service", "web")["spec"]["ports"][0]["nodePort"]
    result = cluster.curl("node-1", f"http://172.18.0.3:{node_port}/hostname")
    assert result.status == 200 and result.body.strip() in _backends(cluster)
    assert "MASQUERADE" in [hop.what for hop in result.hops]


def test_a_headless_service_name_resolves_to_the_pods_themselves(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", "http://web-headless:8080/hostname")
    assert result.status == 200 and result.body.strip() in _backends(cluster)
    after_dns = [hop.what for hop in result.hops][[hop.what for hop in result.hops].index("DNS answer"):]
    assert "DNAT" not in after_dns and "encapsulate" in after_dns


def test_an_unknown_name_is_curls_could_not_resolve(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", "http://nothing-here/")
    assert result.error == "curl: (6) Could not resolve host: nothing-here"


def test_busybox_nslookup_and_wget_in_the_pod_go_through_coredns(cluster: engine.Cluster) -> None:
    runtime = cluster.runtimes["node-1"]
    container = next(c for c in runtime.list_containers() if c.labels.get("io.kubernetes.pod.name") == "client")
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    lookup = runtime.exec_sync(container.id, ["nslookup", "web.default.svc.cluster.local"])
    assert lookup.exit_code == 0 and f"Address: {vip}" in lookup.stdout
    fetched = runtime.exec_sync(container.id, ["wget", "-qO-", "http://web/hostname"])
    assert fetched.exit_code == 0 and fetched.stdout.strip() in _backends(cluster)
    missing = runtime.exec_sync(container.id, ["wget", "-qO-", "http://nothing-here/"])
    assert missing.stderr == "wget: bad address 'nothing-here'\n"
