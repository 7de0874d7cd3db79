"""The cloud-controller-manager process: the split from kube-controller-manager, leader election, identities."""

from __future__ import annotations

import pytest

import engine
from engine.cloud.manager import CloudControllerManager
from engine.components import ComponentContext


def test_a_cluster_without_a_cloud_has_no_ccm_no_taint_and_no_cloud_labels():
    cluster = engine.Cluster(nodes=1, seed=0)
    assert cluster.cloud is None
    assert ("cloud-controller-manager", None) not in cluster.components
    node = cluster.get("node", "node-1", None)
    assert not node["spec"].get("providerID") and not node["spec"].get("taints")
    assert "topology.kubernetes.io/zone" not in node["metadata"]["labels"]


def test_the_ccm_holds_its_own_lease_next_to_the_kube_controller_managers(cluster):
    leases = {lease["metadata"]["name"]: lease for lease in cluster.list("leases", "kube-system")}
    assert {"kube-controller-manager", "cloud-controller-manager"} <= set(leases)
    assert leases["cloud-controller-manager"]["spec"]["holderIdentity"].startswith("control-plane_")
    assert cluster.components[("cloud-controller-manager", None)].leading


def test_each_ccm_controller_writes_as_its_own_service_account(cluster):
    accounts = {a["metadata"]["name"] for a in cluster.list("serviceaccounts", "kube-system")}
    assert {"cloud-node-controller", "cloud-node-lifecycle-controller", "route-controller", "service-controller",
            "attachdetach-controller", "disk-csi-controller-sa"} <= accounts
    node_updates = {e.user for e in cluster.apiserver.audit.entries
                    if e.resource == "nodes" and e.verb == "update" and e.subresource in (None, "")}
    assert "system:serviceaccount:kube-system:cloud-node-controller" in node_updates


def test_without_configure_cloud_routes_there_is_no_route_controller(cluster):
    assert cluster.components[("cloud-controller-manager", None)].controller("route").name == "route"
    context = ComponentContext("cloud-controller-manager", cluster.admin, cluster.loop,
                               options={"cloud": cluster.cloud, "configure_cloud_routes": False})
    manager = CloudControllerManager(context)
    with pytest.raises(KeyError):
        manager.controller("route")
    manager.stop()


def test_traffic_from_the_internet_needs_a_network_add_on(cluster):
    from engine.cloud.internet import curl_from_internet

    with pytest.raises(RuntimeError, match="network add-on"):
        curl_from_internet(cluster, "http://198.51.100.10/")


def test_the_architecture_diagram_draws_the_ccm_running_only_on_a_cloud(cluster):
    from engine.viz.architecture import architecture

    def ccm_box(c: engine.Cluster) -> str:
        return next(line for line in architecture(c).source.splitlines()
                    if line.strip().startswith('"cloud-controller-manager" ['))

    assert "(not running)" not in ccm_box(cluster)
    assert "(not running)" in ccm_box(engine.Cluster(nodes=1, seed=0))
