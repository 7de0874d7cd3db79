"""A node fails: after the grace period it turns Unknown and is tainted, its pods are evicted when tolerations run out.

The cluster runs the kube-controller-manager and each node's status agent (Lease heartbeats); the test plays
the kubelet by writing the pods' statuses.
"""

from engine.api.meta import timestamp
from engine.components import COMPONENTS, ComponentSpec

CONTROLLERS_AND_HEARTBEATS = [
    COMPONENTS[0],
    ComponentSpec("kubelet", "node", "engine.kubelet.node_status:NodeStatusAgent", user="system:node:{node}",
                  groups=("system:nodes",)),
]
"""kube-controller-manager and nodes that only heartbeat: no kube-scheduler, no kubelet running pods (the tests
place the pods and write their statuses themselves)."""


def running_pod(cluster, name, node, tolerations=None):
    spec = {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}
    if tolerations:
        spec["tolerations"] = tolerations
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
    pod = cluster.get("pod", name)
    now = timestamp(cluster.now)
    pod["status"] = {"phase": "Running", "podIP": "10.244.1.9", "podIPs": [{"ip": "10.244.1.9"}],
                     "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None,
                                     "lastTransitionTime": now}]}
    cluster.admin.update_status(pod)


def ready(node):
    return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")


def taints(cluster, name):
    return sorted((t["key"], t["effect"]) for t in cluster.get("node", name, None)["spec"].get("taints") or ())


def deleting(cluster, name):
    return cluster.get("pod", name)["metadata"].get("deletionTimestamp")


def test_failed_node_goes_unknown_is_tainted_and_its_pods_evicted(make_cluster):
    cluster = make_cluster(nodes=2, seed=0, components=CONTROLLERS_AND_HEARTBEATS)
    cluster.run(5)
    running_pod(cluster, "web", "node-1")
    running_pod(cluster, "quick", "node-1", [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                              "effect": "NoExecute", "tolerationSeconds": 30}])
    running_pod(cluster, "stays", "node-1", [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                              "effect": "NoExecute"}])
    cluster.fail_node("node-1")
    cluster.run(30)
    assert ready(cluster.get("node", "node-1", None))["status"] == "True"   # within --node-monitor-grace-period
    cluster.run(20)
    condition = ready(cluster.get("node", "node-1", None))
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    assert taints(cluster, "node-1") == [("node.kubernetes.io/unreachable", "NoExecute"),
                                         ("node.kubernetes.io/unreachable", "NoSchedule")]
    assert taints(cluster, "node-2") == []
    pod = cluster.get("pod", "web")
    assert next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")["status"] == "False"
    tainted_at = cluster.now
    cluster.run(35)
    assert deleting(cluster, "quick") and not deleting(cluster, "web")
    cluster.run(300 - 35 - 10)
    assert not deleting(cluster, "web")
    cluster.run(20)
    assert deleting(cluster, "web") and not deleting(cluster, "stays")
    assert cluster.now - tainted_at < 320
    evictions = [(e["involvedObject"]["name"], e["message"]) for e in cluster.list("events")
                 if e["reason"] == "TaintManagerEviction"]
    assert sorted(evictions) == [("quick", "Marking for deletion Pod default/quick"),
                                 ("web", "Marking for deletion Pod default/web")]
    disrupted = next(c for c in cluster.get("pod", "web")["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert disrupted["reason"] == "DeletionByTaintManager"
    reasons = {(e["involvedObject"]["kind"], e["reason"]) for e in cluster.list("events", None)}
    assert ("Node", "NodeNotReady") in reasons and ("Pod", "NodeNotReady") in reasons


def test_restored_node_loses_its_taints_and_scheduled_evictions_are_cancelled(make_cluster):
    cluster = make_cluster(nodes=2, seed=0, components=CONTROLLERS_AND_HEARTBEATS)
    cluster.run(5)
    running_pod(cluster, "web", "node-1")
    cluster.fail_node("node-1")
    cluster.run(60)
    assert ("node.kubernetes.io/unreachable", "NoExecute") in taints(cluster, "node-1")
    cluster.restore_node("node-1")
    cluster.run(20)
    assert ready(cluster.get("node", "node-1", None))["status"] == "True"
    assert taints(cluster, "node-1") == []
    cluster.run(300)
    assert not deleting(cluster, "web")
    messages = [e["message"] for e in cluster.list("events") if e["reason"] == "TaintManagerEviction"]
    assert messages == ["Cancelling deletion of Pod default/web"]


def test_all_nodes_down_is_a_full_disruption_and_nothing_is_evicted(make_cluster):
    cluster = make_cluster(nodes=2, seed=0, components=CONTROLLERS_AND_HEARTBEATS)
    cluster.run(5)
    for node in cluster.list("nodes", None):      # the control-plane node stays up: leave it out of the count
        if node["metadata"]["name"] not in ("node-1", "node-2"):
            node["metadata"]["labels"]["node.kubernetes.io/exclude-disruption"] = ""
            cluster.admin.update(node)
    running_pod(cluster, "web", "node-1")
    cluster.fail_node("node-1")
    cluster.fail_node("node-2")
    cluster.run(400)
    assert all(ready(cluster.get("node", n, None))["status"] == "Unknown" for n in ("node-1", "node-2"))
    assert ("node.kubernetes.io/unreachable", "NoExecute") not in taints(cluster, "node-1")
    assert not deleting(cluster, "web")


def test_replicaset_replaces_the_pods_evicted_from_a_dead_node(make_cluster):
    cluster = make_cluster(nodes=2, seed=0, components=CONTROLLERS_AND_HEARTBEATS)
    cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "frontend"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"tier": "frontend"}}, "template": {
            "metadata": {"labels": {"tier": "frontend"}},
            "spec": {"containers": [{"name": "php-redis", "image": "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5"}]}}}})
    cluster.run(2)
    originals = sorted(p["metadata"]["name"] for p in cluster.list("pods", selector="tier=frontend"))
    for name in originals:                              # the test plays the scheduler: both on node-1
        cluster.admin.bind("default", name, "node-1")
    cluster.run(2)
    cluster.fail_node("node-1")
    cluster.run(40 + 5 + 300 + 10)
    assert all(deleting(cluster, name) for name in originals)     # Terminating: no kubelet to confirm
    live = [p["metadata"]["name"] for p in cluster.list("pods", selector="tier=frontend")
            if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 2 and not set(live) & set(originals)
    created = [e for e in cluster.list("events") if e["reason"] == "SuccessfulCreate"
               and e["involvedObject"]["name"] == "frontend"]
    assert sum(e.get("count", 1) for e in created) == 4
