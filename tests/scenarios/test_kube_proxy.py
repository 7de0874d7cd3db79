"""kube-proxy on a flannel cluster: curl a Service from a pod, over and over, and watch it follow its endpoints.

``KubeProxy`` runs on every node as a component (network_setup.start_kube_proxy: kubeadm's config file, the
system:kube-proxy identity, the node's network stack), so that only kube-proxy and flanneld are under test.
"""

from __future__ import annotations

from collections import Counter

import pytest

import engine
from engine.network.flannel import FlannelAgent
from network_setup import network_cluster, pod, start_kube_proxy

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
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = network_cluster(FlannelAgent)
    start_kube_proxy(c)
    c.apply(WEB)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(30)
    return c


def backends(cluster: engine.Cluster) -> dict[str, str]:
    """Ready web pods: IP -> name."""
    return {p["status"]["podIP"]: p["metadata"]["name"] for p in cluster.list("pods")
            if p["metadata"]["labels"].get("app") == "web" and p["metadata"].get("deletionTimestamp") is None
            and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}


def served_by(result) -> str:
    """The pod whose program answered (the hop that delivered the request)."""
    return next(hop.where for hop in result.hops if hop.what == "deliver")


def test_curling_the_service_ip_spreads_over_the_ready_pods(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    ready = backends(cluster)
    assert len(ready) == 3
    results = [cluster.curl("client", f"http://{vip}/") for _ in range(120)]
    assert all(r.status == 200 for r in results), results[0].error
    chosen = Counter(served_by(r) for r in results)
    assert set(chosen) == {f"default/{name}" for name in ready.values()}, chosen
    assert all(25 <= n <= 55 for n in chosen.values()), chosen


def test_the_hops_show_kube_proxys_rules(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    result = cluster.curl("client", f"http://{vip}/")
    rules = " ".join(hop.rule or "" for hop in result.hops)
    assert '--comment "default/web:http cluster IP"' in rules and "KUBE-SVC-" in rules
    assert "-j DNAT --to-destination" in rules


def test_nodeport_answers_on_every_node_address(cluster: engine.Cluster) -> None:
    for node in cluster.node_names:
        address = cluster.fabric.hosts[node].address
        assert cluster.curl("client", f"http://{address}:30080/").status == 200
        assert cluster.curl("node-2", f"http://{address}:30080/").status == 200, "from a node, too"


def test_session_affinity_sticks(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "sticky")["spec"]["clusterIP"]
    chosen = {served_by(cluster.curl("client", f"http://{vip}/")) for _ in range(15)}
    assert len(chosen) == 1


FLAKY = """
apiVersion: v1
kind: Service
metadata: {name: flaky}
spec:
  selector: {app: flaky}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: steady, labels: {app: flaky}}
spec:
  nodeName: node-2
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80, name: http}]
    readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: fading, labels: {app: flaky}}
spec:
  nodeName: node-1
  containers:
  - name: web
    image: registry.k8s.io/liveness
    args: [/server]
    ports: [{containerPort: 8080, name: http}]
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 1}
"""


def test_a_pod_that_fails_its_readiness_probe_leaves_the_service(cluster: engine.Cluster) -> None:
    cluster.apply(FLAKY)
    cluster.run(6)                 # both ready; registry.k8s.io/liveness fails /healthz after 10 s
    vip = cluster.get("service", "flaky")["spec"]["clusterIP"]
    early = {served_by(cluster.curl("client", f"http://{vip}/")) for _ in range(20)}
    assert early == {"default/steady", "default/fading"}
    cluster.run(12)
    fading = cluster.get("pod", "fading")
    assert any(c["type"] == "Ready" and c["status"] == "False" for c in fading["status"]["conditions"])
    ip = fading["status"]["podIP"]
    assert all(f"{ip}:8080" not in cluster.fabric.hosts[node].iptables.save() for node in cluster.node_names)
    late = {served_by(cluster.curl("client", f"http://{vip}/")) for _ in range(20)}
    assert late == {"default/steady"}


def test_rules_follow_the_endpoints_when_pods_stop_being_ready(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    cluster.kubectl("scale deployment web --replicas=1")
    cluster.run(40)
    ready = backends(cluster)
    assert len(ready) == 1
    chosen = {served_by(cluster.curl("client", f"http://{vip}/")) for _ in range(10)}
    assert chosen == {f"default/{name}" for name in ready.values()}
    cluster.kubectl("scale deployment web --replicas=0")
    cluster.run(40)
    result = cluster.curl("client", f"http://{vip}/")
    assert result.status is None and result.exit_code == 7, "a Service without endpoints is REJECTed"


@pytest.fixture(scope="module")
def ipvs_cluster() -> engine.Cluster:
    c = network_cluster(FlannelAgent, seed=1)
    start_kube_proxy(c, "ipvs")
    c.apply(WEB)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(30)
    return c


def test_ipvs_mode_binds_the_service_ips_and_takes_the_backends_in_turn(ipvs_cluster: engine.Cluster) -> None:
    vip = ipvs_cluster.get("service", "web")["spec"]["clusterIP"]
    host = ipvs_cluster.fabric.hosts["node-1"]
    assert f"{vip}/32" in host.interfaces["kube-ipvs0"].addresses
    assert f"TCP  {vip}:80 rr" in host.ipvs.dump()
    served = [served_by(ipvs_cluster.curl("client", f"http://{vip}/")) for _ in range(9)]
    assert len(set(served)) == 3 and served[:3] * 3 == served, "round robin: the same order again and again"
    assert any(hop.what == "IPVS" for hop in ipvs_cluster.curl("client", f"http://{vip}/").hops)


def test_dump_prints_a_nodes_rules_as_iptables_save_and_ipvsadm_do(cluster, ipvs_cluster) -> None:
    from engine.proxy import dump
    nat = dump(cluster, "node-1", table="nat")
    assert nat.startswith("*nat\n:PREROUTING ACCEPT [0:0]") and nat.endswith("COMMIT\n") and "*filter" not in nat
    assert '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in nat
    assert ('-m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT '
            "--reject-with icmp-port-unreachable") in dump(cluster, "node-1"), "web was scaled to zero above"
    assert dump(ipvs_cluster, "node-2", ipvs=True).startswith("IP Virtual Server version 1.2.1")
    with pytest.raises(KeyError):
        dump(cluster, "node-9")
