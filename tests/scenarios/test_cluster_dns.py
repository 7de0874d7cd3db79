"""Cluster DNS end to end: CoreDNS pods behind kube-dns, pods resolving names through their search list over the
packet model (kube-proxy's DNAT to a CoreDNS pod, the overlay), as in a kubeadm cluster with flannel.

kubeadm's addon phase is done by hand here (register the image, apply ``engine.dns.manifests()``) beside the
components network_setup starts, so the scenario does not depend on the other add-ons' pods.
"""

from __future__ import annotations

import pytest

import engine
import engine.dns
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
      - name: nginx
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
"""


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = network_cluster(FlannelAgent, nodes=2, proxy_mode="iptables")
    engine.dns.register_images(c.registry)
    for obj in engine.dns.manifests():
        c.apply(obj)
    c.apply(WEB)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(40)
    return c


def dns_queries(result) -> list[str]:
    return [hop.rule for hop in result.hops if hop.what == "DNS query"]


def test_coredns_runs_as_two_ready_pods_behind_the_kube_dns_service(cluster: engine.Cluster) -> None:
    pods = cluster.list("pods", "kube-system", selector="k8s-app=kube-dns")
    assert len(pods) == 2
    for p in pods:
        ready = next(c for c in p["status"]["conditions"] if c["type"] == "Ready")
        assert p["status"]["phase"] == "Running" and ready["status"] == "True"
    [slice_] = cluster.list("endpointslices", "kube-system", selector="kubernetes.io/service-name=kube-dns")
    assert sorted(a for e in slice_["endpoints"] for a in e["addresses"]) == sorted(p["status"]["podIP"] for p in pods)
    assert cluster.get("service", "kube-dns", "kube-system")["spec"]["clusterIP"] == "10.96.0.10"
    logs = cluster.kubectl(f"logs -n kube-system {pods[0]['metadata']['name']}")
    assert ".:53" in logs and "CoreDNS-1.11.1" in logs


def test_a_pod_curls_a_service_by_its_short_name_through_the_search_list(cluster: engine.Cluster) -> None:
    result = cluster.curl("client", "http://web/")
    assert result.status == 200 and "Welcome to nginx!" in result.body
    assert dns_queries(result) == ["A web.default.svc.cluster.local."]
    coredns = {p["status"]["podIP"] for p in cluster.list("pods", "kube-system", selector="k8s-app=kube-dns")}
    delivered = [hop for hop in result.hops if hop.what == "deliver" and "CoreDNSProgram" in hop.rule]
    assert delivered and delivered[0].headers.split(" > ")[1].split(":")[0] in coredns   # DNATed to a CoreDNS pod
    answer = next(hop for hop in result.hops if hop.what == "DNS answer")
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    assert answer.rule == f"NOERROR {vip}" and answer.headers.startswith("10.96.0.10:53 > ")


def test_names_in_other_forms_walk_the_search_list_as_glibc_does(cluster: engine.Cluster) -> None:
    longer = cluster.curl("client", "http://web.default/")
    assert longer.status == 200
    assert dns_queries(longer) == ["A web.default.default.svc.cluster.local.", "A web.default.svc.cluster.local."]
    absolute = cluster.curl("client", "http://web.default.svc.cluster.local./")
    assert absolute.status == 200 and dns_queries(absolute) == ["A web.default.svc.cluster.local."]
    missing = cluster.curl("client", "http://nope/")
    assert missing.exit_code == 6 and missing.error == "curl: (6) Could not resolve host: nope"
    assert dns_queries(missing)[:3] == ["A nope.default.svc.cluster.local.", "A nope.svc.cluster.local.",
                                        "A nope.cluster.local."]
    assert dns_queries(missing)[3] == "A nope."          # last, as is: forwarded upstream by CoreDNS


def test_busybox_nslookup_asks_coredns(cluster: engine.Cluster) -> None:
    vip = cluster.get("service", "web")["spec"]["clusterIP"]
    client = cluster.get("pod", "client")
    container_id = client["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]
    answer = cluster.runtimes["node-1"].exec_sync(container_id, ["nslookup", "web"])
    assert answer.exit_code == 0
    assert answer.stdout == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"      # the name the search list found
                             f"Name:\tweb.default.svc.cluster.local\nAddress: {vip}\n\n")


def test_a_deleted_coredns_pod_answers_through_its_lameduck_then_exits_0(cluster: engine.Cluster) -> None:
    name = cluster.list("pods", "kube-system", selector="k8s-app=kube-dns")[0]["metadata"]["name"]
    cluster.delete("pod", name, "kube-system")
    cluster.run(2)
    logs = cluster.kubectl(f"logs -n kube-system {name}")
    assert "[INFO] SIGTERM: Shutting down servers then terminating" in logs
    assert "[INFO] plugin/health: Going into lameduck mode for 5s" in logs
    assert cluster.get("pod", name, "kube-system")["status"]["phase"] == "Running"   # still serving
    cluster.run(6)
    assert not [p for p in cluster.list("pods", "kube-system") if p["metadata"]["name"] == name]
