"""The Endpoints controller: subsets from pods (pure), and the object on a node-less cluster."""

import engine
from engine.controllers.endpoints import desired_subsets, truncate
from tests.engine.controllers.test_endpointslice_controller import pod, run_pod, service


def test_ready_and_not_ready_addresses_share_a_subset_by_ports():
    subsets = desired_subsets(service(), [pod("b", "10.0.0.2", ready=False), pod("a", "10.0.0.1")])
    assert subsets == [{
        "addresses": [{"ip": "10.0.0.1", "nodeName": "node-1", "targetRef": {
            "kind": "Pod", "namespace": "default", "name": "a", "uid": "uid-a"}}],
        "notReadyAddresses": [{"ip": "10.0.0.2", "nodeName": "node-1", "targetRef": {
            "kind": "Pod", "namespace": "default", "name": "b", "uid": "uid-b"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]


def test_pods_resolving_different_ports_get_different_subsets():
    subsets = desired_subsets(service(), [pod("a", "10.0.0.1", container_port=8080),
                                          pod("b", "10.0.0.2", container_port=9090)])
    assert [(s["addresses"][0]["ip"], s["ports"][0]["port"]) for s in subsets] == [("10.0.0.1", 8080),
                                                                                   ("10.0.0.2", 9090)]


def test_publish_not_ready_and_headless_without_ports():
    headless = service(clusterIP="None", ports=[], publishNotReadyAddresses=True)
    subsets = desired_subsets(headless, [pod("a", ready=False, hostname="a", subdomain="web")])
    assert subsets == [{"addresses": [{"ip": "10.244.1.5", "hostname": "a", "nodeName": "node-1", "targetRef": {
        "kind": "Pod", "namespace": "default", "name": "a", "uid": "uid-a"}}]}]
    assert desired_subsets(service(ports=[]), [pod("a")]) == []     # a ClusterIP Service needs ports


def test_over_capacity_is_truncated_to_1000_addresses_not_ready_first():
    subsets = [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(900)],
                "notReadyAddresses": [{"ip": f"10.1.0.{i}"} for i in range(300)]}]
    assert truncate(subsets)
    assert (len(subsets[0]["addresses"]), len(subsets[0]["notReadyAddresses"])) == (900, 100)
    assert not truncate([{"addresses": [{"ip": "10.0.0.1"}]}])


def test_endpoints_object_follows_pods_and_goes_with_the_service():
    cluster = engine.Cluster(nodes=0, seed=0)
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web"}},
                   "spec": {"clusterIP": "None", "selector": {"app": "web"},
                            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    run_pod(cluster, "web-1", "10.244.1.2")
    run_pod(cluster, "web-2", "10.244.1.3", ready=False)
    cluster.run(1)
    endpoints = cluster.get("endpoints", "web")
    assert endpoints["metadata"]["labels"] == {"app": "web", "service.kubernetes.io/headless": ""}
    [subset] = endpoints["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.244.1.2"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.244.1.3"]
    cluster.delete("service", "web")
    cluster.run(1)
    assert [e["metadata"]["name"] for e in cluster.list("endpoints")] == ["kubernetes"]   # the API server's own
