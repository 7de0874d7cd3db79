"""NodeName, NodeUnschedulable, NodePorts, NodeResourcesBalancedAllocation, ImageLocality."""

import pytest

from engine.scheduler.plugins import (balanced_allocation, image_locality, node_name, node_ports,
                                      node_unschedulable)

from scheduler_builders import FakeHandle, make_node, make_pod, node_info, run_filter, run_scores


@pytest.mark.parametrize("wanted, fits", [("", True), ("node-1", True), ("node-2", False)], ids=[
    "a pod that names no node fits any node",
    "a pod that names this node fits it",
    "a pod that names another node does not fit",
])
def test_node_name(wanted, fits):
    status = run_filter(node_name.new(), make_pod(node_name=wanted), node_info(make_node("node-1")))
    assert (status is None) == fits
    if status:
        assert status.reasons == ["node(s) didn't match the requested node name"]


@pytest.mark.parametrize("unschedulable, tolerations, fits", [
    (False, [], True),
    (True, [], False),
    (True, [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}], True),
], ids=[
    "a schedulable node takes the pod",
    "a cordoned node takes no new pod",
    "a pod that tolerates the unschedulable taint goes on a cordoned node (as DaemonSet pods do)",
])
def test_node_unschedulable(unschedulable, tolerations, fits):
    status = run_filter(node_unschedulable.new(), make_pod(tolerations=tolerations),
                        node_info(make_node(unschedulable=unschedulable)))
    assert (status is None) == fits
    if status:
        assert status.reasons == ["node(s) were unschedulable"]


@pytest.mark.parametrize("wanted, used, fits", [
    ([8080], [], True),
    ([8080], [8080], False),
    ([8080], [8081], True),
    ([{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}], [8080], True),
    ([{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"}],
     [{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.2"}], True),
    ([{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"}], [8080], False),
], ids=[
    "a free host port fits",
    "the same host port on the same protocol conflicts",
    "another port does not conflict",
    "the same port on another protocol does not conflict",
    "the same port on two different host IPs does not conflict",
    "0.0.0.0 conflicts with every host IP",
])
def test_node_ports(wanted, used, fits):
    existing = [make_pod("other", host_ports=used)] if used else []
    status = run_filter(node_ports.new(), make_pod(host_ports=wanted), node_info(make_node(), *existing))
    assert (status is None) == fits
    if status:
        assert status.reasons == ["node(s) didn't have free ports for the requested pod ports"]
        assert status.code == "Unschedulable"


@pytest.mark.parametrize("pod, existing, score", [
    (make_pod(cpu="3", memory="5000"), [], 87),
    (make_pod(cpu="2", memory="5000"), [], 100),
    (make_pod(cpu="1", memory="1000"), [make_pod("a", cpu="3", memory="1000")], 60),
], ids=[
    "cpu 75% and memory 50% differ by 25 points: the score is 100 minus half of that",
    "equal shares of cpu and memory score 100",
    "the node's pods count with the incoming pod",
])
def test_balanced_allocation(pod, existing, score):
    info = node_info(make_node("n", cpu="4", memory="10000"), *existing)
    assert run_scores(balanced_allocation.new(), pod, [info]) == {"n": score}


def test_image_locality_scales_image_size_by_how_many_nodes_have_it():
    mb = 1024 * 1024
    with_image = node_info(make_node("has", images=[{"names": ["nginx:latest"], "sizeBytes": 500 * mb}]))
    without = node_info(make_node("lacks"))
    plugin = image_locality.new(None, FakeHandle([with_image, without]))
    # 500 MiB on 1 of 2 nodes counts 250 MiB; (250 - 23) * 100 / (1000 - 23) = 23
    assert run_scores(plugin, make_pod(image="nginx"), [with_image, without]) == {"has": 23, "lacks": 0}


def test_image_names_without_a_tag_mean_latest():
    assert image_locality.normalized_image_name("nginx") == "nginx:latest"
    assert image_locality.normalized_image_name("registry:5000/app") == "registry:5000/app:latest"
    assert image_locality.normalized_image_name("nginx:1.27") == "nginx:1.27"
