"""The route controller: a VPC route per node pod CIDR, NetworkUnavailable cleared, stale routes removed."""

from __future__ import annotations

import pytest

from engine.cloud.cloudprovider import CloudRoute
from engine.cloud.route import network_condition, plan_routes


def node(name: str, cidr: str | None) -> dict:
    return {"metadata": {"name": name, "uid": f"uid-{name}"}, "spec": {"podCIDR": cidr} if cidr else {}}


@pytest.mark.parametrize("nodes, routes, create, delete", [
    ([node("a", "10.244.1.0/24")], [], [("a", "10.244.1.0/24")], []),
    ([node("a", "10.244.1.0/24")], [CloudRoute("r", "a", "10.244.1.0/24")], [], []),
    ([node("a", None)], [], [], []),
    ([node("a", "10.244.3.0/24")], [CloudRoute("r", "a", "10.244.1.0/24")], [("a", "10.244.3.0/24")],
     ["10.244.1.0/24"]),
    ([], [CloudRoute("r", "gone", "10.244.2.0/24")], [], ["10.244.2.0/24"]),
    ([node("a", "10.244.1.0/24")], [CloudRoute("r", "a", "10.244.1.0/24", blackhole=True)], [],
     ["10.244.1.0/24"]),
    ([], [CloudRoute("r", "vpn", "192.168.0.0/24")], [], []),
], ids=["a node with a CIDR and no route gets one", "a node with its route needs nothing",
        "a node without a CIDR is skipped", "a changed CIDR: a new route, the old one deleted",
        "a route of a node that is gone is deleted", "a blackhole route is deleted",
        "a route outside --cluster-cidr is not ours"])
def test_plan_routes(nodes, routes, create, delete):
    planned_create, _existing, planned_delete = plan_routes(nodes, routes, "10.244.0.0/16")
    assert [(n["metadata"]["name"], cidr) for n, cidr in planned_create] == create
    assert [r.destination_cidr for r in planned_delete] == delete


def give_cidrs(cluster) -> None:
    """What the node IPAM controller (--allocate-node-cidrs) does: a /24 of 10.244.0.0/16 per node."""
    for index, name in enumerate(cluster.node_names):
        cluster.admin.patch("nodes", name, {"spec": {"podCIDR": f"10.244.{index}.0/24",
                                                     "podCIDRs": [f"10.244.{index}.0/24"]}})


def test_each_node_gets_a_route_and_network_unavailable_false(cluster):
    give_cidrs(cluster)
    cluster.run(1)
    instances = {i.id: i.name for i in cluster.cloud.describe_instances()}
    routes = {r.destination_cidr: instances[r.target] for r in cluster.cloud.describe_route_table()
              if r.target != "local"}
    assert routes == {"10.244.0.0/24": "control-plane", "10.244.1.0/24": "node-1", "10.244.2.0/24": "node-2"}
    assert cluster.cloud.route_lookup("10.244.2.7") == "172.18.0.4"
    condition = network_condition(cluster.get("node", "node-1", None))
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False", "RouteCreated", "RouteController created a route")
    cluster.run(320)                        # the kubelet's full status report keeps the controller's condition
    assert network_condition(cluster.get("node", "node-1", None))["status"] == "False"


def test_a_failed_route_marks_the_node_and_the_next_pass_repairs_it(cluster, events):
    cluster.cloud.inject("CreateRoute", times=3)
    give_cidrs(cluster)
    cluster.run(1)
    failed = {n["metadata"]["name"] for n in cluster.list("nodes")
              if network_condition(n)["status"] == "True"}
    assert failed == {"control-plane", "node-1", "node-2"}
    assert network_condition(cluster.get("node", "node-1", None))["reason"] == "NoRouteCreated"
    assert {e["involvedObject"]["name"] for e in events(cluster, "FailedToCreateRoute")} == failed
    cluster.run(10)                         # --route-reconciliation-period
    assert all(network_condition(n)["status"] == "False" for n in cluster.list("nodes"))
    assert len(cluster.cloud.describe_route_table()) == 4


def test_routes_of_deleted_nodes_and_terminated_instances_are_removed(cluster):
    give_cidrs(cluster)
    cluster.run(1)
    cluster.admin.delete("nodes", "node-1")
    instance = cluster.cloud.describe_instances(names=["node-2"])[0]
    cluster.cloud.terminate_instances(instance.id)
    cluster.run(30)
    assert [r.destination_cidr for r in cluster.cloud.describe_route_table()] == ["10.244.0.0/24", "172.18.0.0/16"]
