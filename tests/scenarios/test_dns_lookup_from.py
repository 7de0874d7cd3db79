"""``engine.network.door.lookup_from``: a name lookup alone from a pod, the resolver's record and the packets' hops."""

import pytest

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.network.door import lookup_from
from engine.scheduler import SCHEDULER
from network_setup import pod

DB = """
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: nginx, ports: [{containerPort: 80, name: http}]}]
"""


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=2, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    c.run(20)
    c.apply(DB)
    c.apply(pod("client", "node-1", image="busybox", command=["sleep", "3600"]))
    c.run(20)
    return c


def test_a_short_name_walks_the_search_list_and_its_query_is_dnated_to_coredns(cluster: engine.Cluster) -> None:
    found, hops = lookup_from(cluster, "client", "kubernetes.default")
    assert [q.line().split(" -> ")[0] for q in found.queries] == [
        "kubernetes.default.default.svc.cluster.local. A", "kubernetes.default.svc.cluster.local. A"]
    assert found.addresses == ["10.96.0.1"] and found.wasted == 1
    assert [hop.what for hop in hops].count("DNS query") == 2 and "DNAT" in [hop.what for hop in hops]


def test_srv_records_of_a_headless_services_named_port(cluster: engine.Cluster) -> None:
    found, _ = lookup_from(cluster, "client", "_http._tcp.db", "SRV")
    assert found.answered_name == "_http._tcp.db.default.svc.cluster.local."
    assert sorted(r.data for r in found.response.answers) == [
        "0 50 80 db-0.db.default.svc.cluster.local.", "0 50 80 db-1.db.default.svc.cluster.local."]
    ips = sorted(p["status"]["podIP"] for p in cluster.list("pods", selector="app=db"))
    assert sorted(r.data for r in found.response.additional) == ips
