"""The pod garbage collector: which terminated pods go (pure), and orphaned pods on a node-less cluster."""

import engine
from engine.controllers.podgc import terminated_to_delete


def pod(name, phase, created, reason=None):
    status = {"phase": phase}
    if reason:
        status["reason"] = reason
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


def test_oldest_terminated_pods_over_the_threshold_go_evicted_first():
    pods = [pod("running", "Running", "2025-01-01T00:00:00Z"), pod("old", "Succeeded", "2025-01-01T00:00:01Z"),
            pod("new", "Failed", "2025-01-01T00:00:03Z"), pod("evicted", "Failed", "2025-01-01T00:00:05Z", "Evicted"),
            pod("mid", "Succeeded", "2025-01-01T00:00:02Z")]
    assert [p["metadata"]["name"] for p in terminated_to_delete(pods, threshold=2)] == ["evicted", "old"]
    assert terminated_to_delete(pods, threshold=4) == []
    assert terminated_to_delete(pods, threshold=0) == []


def test_pods_of_a_node_that_does_not_exist_are_deleted_after_the_quarantine():
    cluster = engine.Cluster(nodes=0, seed=0)
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan"},
                   "spec": {"nodeName": "gone-node", "containers": [{"name": "c", "image": "nginx"}]}})
    cluster.run(45)
    assert [p["metadata"]["name"] for p in cluster.list("pods")] == ["orphan"]     # seen missing at 20 s
    cluster.run(20)
    assert cluster.list("pods") == []
