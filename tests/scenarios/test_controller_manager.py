"""kube-controller-manager: controllers run only while it holds its leader Lease."""

from engine.components import ComponentContext
from engine.controllers.manager import ControllerManager


def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def accounts(cluster, name):
    return [a["metadata"]["name"] for a in cluster.list("serviceaccounts", namespace=name)]


def test_a_new_namespace_gets_its_default_service_account(make_cluster):
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply(namespace("team"))
    assert accounts(cluster, "team") == []
    cluster.run(1)
    assert accounts(cluster, "team") == ["default"]
    cluster.delete("serviceaccount", "default", namespace="team")
    cluster.run(1)
    assert accounts(cluster, "team") == ["default"]


def test_a_second_manager_waits_and_takes_over_after_the_leader_dies_without_releasing(make_cluster):
    cluster = make_cluster(nodes=0, seed=0)
    spare = ControllerManager(ComponentContext("kube-controller-manager", cluster.client(
        "system:kube-controller-manager", ()), cluster.loop, node_name="control-plane-2"))
    spare.start()
    cluster.run(5)
    leader = cluster.components[("kube-controller-manager", None)]
    assert leader.leading and not spare.leading
    holder = cluster.get("lease", "kube-controller-manager", "kube-system")["spec"]["holderIdentity"]
    assert holder.startswith("control-plane_")
    leader.stop()                           # without release_on_cancel: the lease is left to expire
    cluster.apply(namespace("orphaned"))
    cluster.run(10)
    assert accounts(cluster, "orphaned") == [] and not spare.leading
    cluster.run(15)                         # the lease expires, then a jittered retry (2 to 4.4 s) takes it
    assert spare.leading
    assert accounts(cluster, "orphaned") == ["default"]
    lease = cluster.get("lease", "kube-controller-manager", "kube-system")["spec"]
    assert lease["holderIdentity"].startswith("control-plane-2_") and lease["leaseTransitions"] == 1
