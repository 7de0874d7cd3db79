"""Cascading deletion of a Deployment -> ReplicaSet -> Pods in the three propagation modes (the docs' examples).

The cluster has no worker nodes: pods stay Pending, so their deletion is immediate and the test is about ownership.
"""

import pytest

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx-deployment",
                                                                            "labels": {"app": "nginx"}},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
                       "template": {"metadata": {"labels": {"app": "nginx"}},
                                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]}}}}


def objects(cluster):
    return (len(cluster.list("deployments")), len(cluster.list("replicasets")),
            len(cluster.list("pods", selector="app=nginx")))


@pytest.fixture
def cluster(make_cluster):
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply(DEPLOYMENT)
    cluster.run(5)
    assert objects(cluster) == (1, 1, 3)
    return cluster


def test_background_deletion_removes_the_deployment_then_its_replicaset_and_pods(cluster):
    cluster.delete("deployment", "nginx-deployment", propagation_policy="Background")
    assert objects(cluster)[0] == 0
    cluster.run(3)
    assert objects(cluster) == (0, 0, 0)


def test_foreground_deletion_keeps_the_deployment_until_its_dependents_are_gone(cluster):
    cluster.delete("deployment", "nginx-deployment", propagation_policy="Foreground")
    deployment = cluster.get("deployment", "nginx-deployment")
    assert deployment["metadata"]["finalizers"] == ["foregroundDeletion"]
    cluster.run(3)
    assert objects(cluster) == (0, 0, 0)


def test_orphan_deletion_leaves_the_replicaset_and_pods_without_owner(cluster):
    cluster.delete("deployment", "nginx-deployment", propagation_policy="Orphan")
    cluster.run(3)
    assert objects(cluster) == (0, 1, 3)
    [replicaset] = cluster.list("replicasets")
    assert "ownerReferences" not in replicaset["metadata"]
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
               for p in cluster.list("pods", selector="app=nginx"))
