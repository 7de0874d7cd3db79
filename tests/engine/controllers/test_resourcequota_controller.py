"""The ResourceQuota controller: usage arithmetic (pure), and status.used kept current on a node-less cluster."""

import engine
from engine.controllers.resourcequota import calculate_used


def container(cpu, memory=None):
    resources = {"requests": {"cpu": cpu}}
    if memory:
        resources["limits"] = {"memory": memory}
    return {"name": "c", "image": "nginx", "resources": resources}


def test_used_is_named_as_in_hard_and_counts_live_pods_in_scope():
    pods = [{"metadata": {"name": "a"}, "spec": {"containers": [container("250m", "128Mi")]},
             "status": {"phase": "Running"}},
            {"metadata": {"name": "b"}, "spec": {"containers": [container("1")]}, "status": {"phase": "Pending"}},
            {"metadata": {"name": "done"}, "spec": {"containers": [container("4")]}, "status": {"phase": "Succeeded"}},
            {"metadata": {"name": "be"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}, "status": {}}]
    quota = {"spec": {"hard": {"pods": "10", "cpu": "4", "limits.memory": "1Gi"}}}
    assert calculate_used(quota, lambda kind: pods) == {"cpu": "1250m", "limits.memory": "128Mi", "pods": "3"}
    best_effort = {"spec": {"hard": {"pods": "10"}, "scopes": ["BestEffort"]}}
    assert calculate_used(best_effort, lambda kind: pods) == {"pods": "1"}


def test_status_follows_pods_on_a_cluster():
    cluster = engine.Cluster(nodes=0, seed=0)
    cluster.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
                   "spec": {"hard": {"pods": "10", "requests.cpu": "2", "count/deployments.apps": "3"}}})
    cluster.run(1)
    assert cluster.get("resourcequota", "compute")["status"] == {
        "hard": {"pods": "10", "requests.cpu": "2", "count/deployments.apps": "3"},
        "used": {"count/deployments.apps": "0", "pods": "0", "requests.cpu": "0"}}
    for name in ("a", "b"):
        cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [container("500m")]}})
    cluster.run(1)
    assert cluster.get("resourcequota", "compute")["status"]["used"]["requests.cpu"] == "1"
    cluster.delete("pod", "a")
    cluster.run(1)
    assert cluster.get("resourcequota", "compute")["status"]["used"] == {
        "count/deployments.apps": "0", "pods": "1", "requests.cpu": "500m"}
