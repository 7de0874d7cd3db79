"""metrics-server as a pod in a flannel cluster: it scrapes every kubelet and answers metrics.k8s.io.

Directly, its Service answers the way the aggregation layer's requests reach it: from the control-plane node
to the ``metrics-server`` Service's ClusterIP on 443, DNATed by kube-proxy to the pod's ``https`` port; and
through the API server (the APIService ``v1beta1.metrics.k8s.io``), ``kubectl top`` prints it.
"""

from __future__ import annotations

import json

import pytest

import engine
from engine.addons import metrics_server
from engine.api.quantity import parse_quantity
from engine.apiserver.server import Request
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

Mi = 1024 * 1024


def pod(name, image, args, node="node-1"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": image, "args": args}]}}


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=2, seed=0, components=[*COMPONENTS, SCHEDULER, KUBELET], network="flannel")
    metrics_server.register_images(c.registry)
    c.before_install = c.kubectl("top nodes")
    for obj in metrics_server.manifests():
        c.apply(obj)
    c.apply(pod("burner", "vish/stress", ["-cpus", "0.5"]))
    c.apply(pod("hog", "polinux/stress", ["stress", "--vm", "1", "--vm-bytes", "100M", "--vm-hang", "1"]))
    c.run(60)
    return c


def get(cluster, path):
    service = cluster.get("services", "metrics-server", "kube-system")
    result = cluster.curl("control-plane", f"https://{service['spec']['clusterIP']}:443{path}")
    return result.status, json.loads(result.body)


def test_the_metrics_server_pod_is_ready(cluster):
    pods = cluster.list("pods", "kube-system", selector="k8s-app=metrics-server")
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    assert all(c["ready"] for c in pods[0]["status"]["containerStatuses"])


def test_pod_metrics_match_what_the_programs_use(cluster):
    status, listing = get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
    assert status == 200 and listing["kind"] == "PodMetricsList"
    usage = {item["metadata"]["name"]: item["containers"][0]["usage"] for item in listing["items"]}
    assert parse_quantity(usage["burner"]["cpu"]).milli_value() == 500
    assert parse_quantity(usage["hog"]["memory"]).value() >= 100 * Mi
    assert listing["items"][0]["window"] == "15s"


def test_node_metrics_add_up_the_node_pods(cluster):
    status, node = get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes/node-1")
    assert status == 200 and node["kind"] == "NodeMetrics"
    _, pods = get(cluster, "/apis/metrics.k8s.io/v1beta1/pods")
    on_node = {p["metadata"]["name"] for p in cluster.list("pods", all_namespaces=True) if p["spec"].get("nodeName") == "node-1"}
    cpu = sum(parse_quantity(c["usage"]["cpu"]).milli_value()
              for item in pods["items"] if item["metadata"]["name"] in on_node for c in item["containers"])
    assert abs(parse_quantity(node["usage"]["cpu"]).milli_value() - cpu) <= len(on_node)


def test_label_selectors_and_unknown_names(cluster):
    _, listing = get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dhog")
    assert [item["metadata"]["name"] for item in listing["items"]] == ["hog"]
    status, error = get(cluster, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope")
    assert status == 404 and error["message"] == 'podmetrics.metrics.k8s.io "nope" not found'


def test_without_metrics_server_kubectl_top_says_the_api_is_not_available(cluster):
    assert cluster.before_install.strip() == "error: Metrics API not available"


def test_kubectl_top_pods_prints_usage_through_the_aggregated_api(cluster):
    lines = cluster.kubectl("top pods").strip().splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["burner"][0] == "500m"
    assert int(rows["hog"][1].rstrip("Mi")) >= 100


def test_kubectl_top_nodes_prints_usage_and_percentages_of_allocatable(cluster):
    lines = cluster.kubectl("top nodes").strip().splitlines()
    assert lines[0].split()[:2] == ["NAME", "CPU(cores)"]
    row = next(line.split() for line in lines if line.startswith("node-1"))
    allocatable = cluster.get("nodes", "node-1")["status"]["allocatable"]
    cores = parse_quantity(allocatable["cpu"]).milli_value()
    assert int(row[1].rstrip("m")) >= 500
    assert row[2] == f"{int(int(row[1].rstrip('m')) / cores * 100)}%"


def test_the_aggregated_api_serves_get_and_label_selectors(cluster):
    server = cluster.apiserver
    found = server.handle(Request("list", "pods", namespace="default", group="metrics.k8s.io",
                                  params={"labelSelector": "app=burner"}, token=cluster.admin.token))
    assert [item["metadata"]["name"] for item in found["items"]] == ["burner"]
    with pytest.raises(engine.ApiError) as error:
        server.handle(Request("get", "nodes", name="nope", group="metrics.k8s.io", token=cluster.admin.token))
    assert error.value.code == 404


def test_its_aggregated_metrics_reader_reaches_view_and_lets_a_viewer_read_pod_metrics(cluster):
    # system:aggregated-metrics-reader is labelled aggregate-to-view/edit/admin: kube-controller-manager's
    # clusterrole-aggregation controller copied its rule into the user-facing roles after the install.
    reader = cluster.get("clusterroles", "system:aggregated-metrics-reader", None)["rules"][0]
    assert all(reader in cluster.get("clusterroles", role, None)["rules"] for role in ("view", "edit", "admin"))
    cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "jane-view", "namespace": "default"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                   "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane"}]})
    listing = cluster.apiserver.handle(Request("list", "pods", namespace="default", group="metrics.k8s.io",
                                               token=cluster.client("jane").token))
    assert "burner" in {item["metadata"]["name"] for item in listing["items"]}
    with pytest.raises(engine.Forbidden):
        cluster.apiserver.handle(Request("list", "pods", namespace="default", group="metrics.k8s.io",
                                         token=cluster.client("joe").token))


def test_a_node_whose_kubelet_stops_answering_drops_out(cluster):
    cluster.components[("kubelet", "node-2")].stop()       # the machine stays on (metrics-server may run there)
    cluster.run(31)
    _, listing = get(cluster, "/apis/metrics.k8s.io/v1beta1/nodes")
    assert "node-2" not in {item["metadata"]["name"] for item in listing["items"]}
    assert "node-1" in {item["metadata"]["name"] for item in listing["items"]}
