"""DaemonSets on whole clusters: a pod per eligible node, placed by the scheduler, run by the kubelet."""

from __future__ import annotations

import engine

CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                            "effect": "NoSchedule"}


def cluster(nodes: int = 3) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0)


def daemonset(image: str = "nginx:1.25", *, tolerations=None, node_selector=None, strategy=None,
              min_ready: int = 0) -> dict:
    spec: dict = {"containers": [{"name": "agent", "image": image}]}
    if tolerations:
        spec["tolerations"] = tolerations
    if node_selector:
        spec["nodeSelector"] = node_selector
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}}, "minReadySeconds": min_ready,
                   "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}}}
    if strategy:
        ds["spec"]["updateStrategy"] = strategy
    return ds


def placement(c: engine.Cluster) -> dict[str, str]:
    """node -> phase of the live daemon pod there."""
    return {p["spec"].get("nodeName", ""): p["status"].get("phase", "")
            for p in c.list("pods", selector="app=agent") if not p["metadata"].get("deletionTimestamp")}


def status(c: engine.Cluster) -> dict:
    return c.get("ds", "agent")["status"]


def test_one_pod_on_every_worker_and_on_the_control_plane_only_with_the_toleration():
    c = cluster()
    c.apply(daemonset())
    c.run(30)
    assert placement(c) == {"node-1": "Running", "node-2": "Running", "node-3": "Running"}
    s = status(c)
    assert (s["desiredNumberScheduled"], s["currentNumberScheduled"], s["numberReady"], s["numberAvailable"],
            s["updatedNumberScheduled"], s["numberMisscheduled"], s["observedGeneration"]) == (3, 3, 3, 3, 3, 0, 1)
    pod = c.list("pods", selector="app=agent")[0]
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms == {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]}]}
    automatic = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
            } <= automatic
    assert "controller-revision-hash" in pod["metadata"]["labels"]
    assert c.kubectl("get ds agent").splitlines()[1].split()[:6] == ["agent", "3", "3", "3", "3", "3"]
    c.apply(daemonset(tolerations=[CONTROL_PLANE_TOLERATION]))
    c.run(30)
    assert set(placement(c)) == {"control-plane", "node-1", "node-2", "node-3"}
    assert status(c)["desiredNumberScheduled"] == 4


def test_a_node_selector_follows_node_labels_as_they_change():
    c = cluster()
    c.apply(daemonset(node_selector={"disk": "ssd"}))
    c.run(10)
    assert placement(c) == {} and status(c)["desiredNumberScheduled"] == 0
    c.kubectl("label node node-2 disk=ssd")
    c.run(20)
    assert placement(c) == {"node-2": "Running"}
    c.kubectl("label node node-2 disk-")
    c.run(40)
    assert placement(c) == {}


def test_a_node_that_joins_later_gets_its_pod():
    c = cluster(nodes=3)
    c.fail_node("node-3")                            # node-3 is powered off and not (yet) part of the cluster
    c.delete("node", "node-3")
    c.apply(daemonset())
    c.run(20)
    assert set(placement(c)) == {"node-1", "node-2"} and status(c)["desiredNumberScheduled"] == 2
    c.restore_node("node-3")                         # it boots and its kubelet registers the Node
    c.run(30)
    assert placement(c) == {"node-1": "Running", "node-2": "Running", "node-3": "Running"}


def test_a_rolling_update_replaces_one_node_at_a_time():
    c = cluster()
    c.apply(daemonset("nginx:1.25"))
    c.run(30)
    c.apply(daemonset("nginx:1.27"))
    worst = 0
    for _ in range(120):
        c.run(1)
        pods = [p for p in c.list("pods", selector="app=agent") if not p["metadata"].get("deletionTimestamp")]
        ready_nodes = {p["spec"].get("nodeName") for p in pods if any(
            cond["type"] == "Ready" and cond["status"] == "True" for cond in p["status"].get("conditions") or ())}
        worst = max(worst, 3 - len(ready_nodes))
    assert worst == 1                                # maxUnavailable: 1
    images = {p["spec"]["containers"][0]["image"] for p in c.list("pods", selector="app=agent")}
    assert images == {"nginx:1.27"} and len(placement(c)) == 3
    assert status(c)["updatedNumberScheduled"] == 3
    revisions = sorted(r["revision"] for r in c.list("controllerrevisions"))
    assert revisions == [1, 2]


def test_max_surge_starts_the_new_pod_before_the_old_one_goes():
    c = cluster(nodes=1)
    c.apply(daemonset("nginx:1.25", strategy={"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}))
    c.run(20)
    c.apply(daemonset("nginx:1.27", strategy={"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}))
    both_seen = False
    for _ in range(60):
        c.run(1)
        live = [p for p in c.list("pods", selector="app=agent") if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in live if any(cond["type"] == "Ready" and cond["status"] == "True"
                                        for cond in p["status"].get("conditions") or ())]
        assert ready or not live or len(live) == 2   # never without a ready pod while surging
        both_seen = both_seen or len(live) == 2
    assert both_seen
    assert {p["spec"]["containers"][0]["image"] for p in c.list("pods", selector="app=agent")} == {"nginx:1.27"}


def test_on_delete_waits_for_the_old_pod_to_be_deleted():
    c = cluster(nodes=1)
    c.apply(daemonset("nginx:1.25", strategy={"type": "OnDelete"}))
    c.run(20)
    c.apply(daemonset("nginx:1.27", strategy={"type": "OnDelete"}))
    c.run(30)
    (pod,) = c.list("pods", selector="app=agent")
    assert pod["spec"]["containers"][0]["image"] == "nginx:1.25" and status(c).get("updatedNumberScheduled", 0) == 0
    c.delete("pod", pod["metadata"]["name"])
    c.run(40)
    assert [p["spec"]["containers"][0]["image"] for p in c.list("pods", selector="app=agent")] == ["nginx:1.27"]
