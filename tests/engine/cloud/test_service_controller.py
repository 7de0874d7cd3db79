"""The service controller: cloud load balancers for type=LoadBalancer Services, with retries and a finalizer."""

from __future__ import annotations

import pytest

from engine.cloud.cloudprovider import load_balancer_name
from engine.cloud.service import (LOAD_BALANCER_CLEANUP_FINALIZER, eligible_node, needs_cleanup,
                                  wants_load_balancer)

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}


def reasons(cluster, name: str = "web") -> list[tuple[str, int]]:
    found = [e for e in cluster.list("events") if e["involvedObject"]["name"] == name
             and e["involvedObject"]["kind"] == "Service"]
    return [(e["reason"], e.get("count", 1)) for e in sorted(found, key=lambda e: e["metadata"]["name"])]


@pytest.mark.parametrize("spec, finalizer, deleting, wants, cleanup", [
    ({"type": "LoadBalancer"}, False, False, True, False),
    ({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}, False, False, False, False),
    ({"type": "ClusterIP"}, True, False, False, True),
    ({"type": "LoadBalancer"}, True, True, True, True),
    ({"type": "ClusterIP"}, False, False, False, False),
], ids=["a LoadBalancer Service wants one", "another class's Service is not ours",
        "a type changed away from LoadBalancer needs cleanup", "a deleted Service with the finalizer needs cleanup",
        "a ClusterIP Service is none of our business"])
def test_wants_and_cleanup(spec, finalizer, deleting, wants, cleanup):
    metadata = {"name": "s", "finalizers": [LOAD_BALANCER_CLEANUP_FINALIZER] if finalizer else []}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    service = {"metadata": metadata, "spec": spec}
    assert (wants_load_balancer(service), needs_cleanup(service)) == (wants, cleanup)


@pytest.mark.parametrize("labels, provider_id, deleting, expected", [
    ({}, "sim:///z/i-1", False, True),
    ({"node.kubernetes.io/exclude-from-external-load-balancers": ""}, "sim:///z/i-1", False, False),
    ({}, "", False, False),
    ({}, "sim:///z/i-1", True, False),
], ids=["an initialised node is a target", "the exclusion label keeps a node out",
        "a node without providerID is not a target yet", "a node being deleted is not a target"])
def test_eligible_node(labels, provider_id, deleting, expected):
    node = {"metadata": {"name": "n", "labels": labels}, "spec": {"providerID": provider_id}}
    if deleting:
        node["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    assert eligible_node(node) is expected


def test_a_load_balancer_service_gets_an_address_listeners_and_the_worker_nodes(cluster):
    cluster.apply(SERVICE)
    cluster.run(2)
    service = cluster.get("svc", "web")
    assert service["metadata"]["finalizers"] == [LOAD_BALANCER_CLEANUP_FINALIZER]
    assert service["status"]["loadBalancer"] == {"ingress": [{"ip": "198.51.100.10", "ipMode": "VIP"}]}
    [lb] = cluster.cloud.describe_load_balancers()
    assert lb.name == load_balancer_name(service) == "a" + service["metadata"]["uid"].replace("-", "")[:31]
    assert [(li.port, li.instance_port) for li in lb.listeners] == [(80, service["spec"]["ports"][0]["nodePort"])]
    workers = sorted(cluster.cloud.describe_instances(names=[n])[0].id for n in ("node-1", "node-2"))
    assert lb.targets == workers, "the control plane carries the exclude-from-external-load-balancers label"
    assert lb.tags == {"kubernetes.io/cluster/kubernetes": "owned", "kubernetes.io/service-name": "default/web"}
    assert reasons(cluster) == [("EnsuringLoadBalancer", 1), ("EnsuredLoadBalancer", 1)]


def test_cloud_errors_are_retried_with_the_controllers_backoff(cluster, events):
    cluster.cloud.inject("CreateLoadBalancer", times=3)
    cluster.apply(SERVICE)
    start = cluster.now
    cluster.run(60)
    attempts = [c.time - start for c in cluster.cloud.calls_of("CreateLoadBalancer")]
    gaps = [round(b - a) for a, b in zip(attempts, attempts[1:])]
    assert gaps == [5, 10, 20], "minRetryDelay 5 s, doubling"
    assert cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"][0]["ip"] == "198.51.100.10"
    [failed] = events(cluster, "SyncLoadBalancerFailed", "web")
    assert failed["count"] == 3 and failed["type"] == "Warning"
    assert failed["message"] == ("Error syncing load balancer: failed to ensure load balancer: InternalError: "
                                 "An internal error has occurred. Retry your request.")


def test_throttling_is_retried_like_any_other_cloud_error(cluster):
    cluster.cloud.inject("DescribeLoadBalancers", error="RequestLimitExceeded", times=1)
    cluster.apply(SERVICE)
    cluster.run(10)
    assert cluster.cloud.calls_of("DescribeLoadBalancers")[0].outcome == "RequestLimitExceeded"
    assert [c.outcome for c in cluster.cloud.calls_of("CreateLoadBalancer")] == ["ok"]
    assert cluster.get("svc", "web")["status"]["loadBalancer"]["ingress"]


def test_deleting_the_service_deletes_its_load_balancer_before_the_service_goes(cluster):
    cluster.apply(SERVICE)
    cluster.run(2)
    cluster.cloud.inject("DeleteLoadBalancer", times=1)
    cluster.delete("svc", "web")
    cluster.run(1)
    assert cluster.get("svc", "web")["metadata"]["deletionTimestamp"], "held by the finalizer while the cloud fails"
    assert len(cluster.cloud.describe_load_balancers()) == 1
    cluster.run(10)
    assert "web" not in {s["metadata"]["name"] for s in cluster.list("svc")}
    assert cluster.cloud.describe_load_balancers() == []
    assert ("DeletingLoadBalancer", 2) in reasons(cluster) and ("DeletedLoadBalancer", 1) in reasons(cluster)


def test_changing_the_type_away_from_load_balancer_cleans_up_and_drops_the_finalizer(cluster):
    cluster.apply(SERVICE)
    cluster.run(2)
    cluster.admin.patch("services", "web", {"spec": {
        "type": "ClusterIP", "externalTrafficPolicy": None, "allocateLoadBalancerNodePorts": None,
        "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}, "default")
    cluster.run(2)
    service = cluster.get("svc", "web")
    assert not service["metadata"].get("finalizers") and not service["status"]["loadBalancer"].get("ingress")
    assert cluster.cloud.describe_load_balancers() == []


def test_node_changes_retarget_the_load_balancer(cluster, events):
    cluster.apply(SERVICE)
    cluster.run(2)
    cluster.admin.patch("nodes", "node-2", {"metadata": {"labels": {
        "node.kubernetes.io/exclude-from-external-load-balancers": ""}}})
    cluster.run(1)
    [lb] = cluster.cloud.describe_load_balancers()
    assert lb.targets == [cluster.cloud.describe_instances(names=["node-1"])[0].id]
    [updated] = events(cluster, "UpdatedLoadBalancer", "web")
    assert updated["message"] == "Updated load balancer with new hosts"
