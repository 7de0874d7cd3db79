"""Node-pressure eviction on a whole node: the kubelet evicts by QoS under memory pressure, one pod per pass.

One node with 900Mi of memory (800Mi allocatable after the 100Mi hard
eviction threshold) runs four ``polinux/stress`` pods whose working sets add
up to more than the node has: the eviction manager sets MemoryPressure,
evicts the BestEffort pod, then (10 s later, still under pressure) the
Burstable pod using most above its request; the Guaranteed pod and the
Burstable pod within its request stay.
"""

from __future__ import annotations

import engine


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0, node_memory="900Mi")


def stress(name: str, megabytes: int, requests: dict | None = None, limits: dict | None = None) -> dict:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{
        "name": name, "image": "polinux/stress", "resources": resources, "command": ["stress"],
        "args": ["--vm", "1", "--vm-bytes", f"{megabytes}M", "--vm-hang", "1"]}]}}


def condition(c: engine.Cluster, type_: str) -> str:
    return next(x["status"] for x in c.get("node", "node-1")["status"]["conditions"] if x["type"] == type_)


def test_under_memory_pressure_the_kubelet_evicts_best_effort_first_then_burstable_over_its_request():
    c = cluster()
    c.apply(stress("guaranteed", 250, {"memory": "300Mi"}, {"memory": "300Mi"}))
    c.apply(stress("burstable-under", 350, {"memory": "400Mi"}))
    c.apply(stress("burstable-over", 250, {"memory": "100Mi"}))
    c.apply(stress("best-effort", 200))
    c.run(60)
    phases = {p["metadata"]["name"]: (p["status"]["phase"], p["status"].get("reason", "")) for p in c.list("pods")}
    assert phases == {"guaranteed": ("Running", ""), "burstable-under": ("Running", ""),
                      "burstable-over": ("Failed", "Evicted"), "best-effort": ("Failed", "Evicted")}
    evictions = sorted((e["firstTimestamp"], e["involvedObject"]["name"], e["message"])
                       for e in c.list("events") if e["reason"] == "Evicted")
    assert [name for _, name, _ in evictions] == ["best-effort", "burstable-over"]
    best_effort = c.get("pod", "best-effort")["status"]
    assert best_effort["message"].startswith(
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: ")
    assert best_effort["message"].endswith(
        "Container best-effort was using 200Mi, request is 0, has larger consumption of memory. ")
    assert "Container burstable-over was using 250Mi, request is 100Mi, has larger consumption of memory. " in \
        c.get("pod", "burstable-over")["status"]["message"]
    assert any(x["type"] == "DisruptionTarget" and x["reason"] == "TerminationByKubelet"
               for x in best_effort["conditions"])
    assert condition(c, "MemoryPressure") == "True"


def test_memory_pressure_refuses_new_best_effort_pods_and_clears_after_the_transition_period():
    c = cluster()
    c.apply(stress("hog", 850))
    c.run(30)
    assert c.get("pod", "hog")["status"]["reason"] == "Evicted"
    assert condition(c, "MemoryPressure") == "True"
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "late"}, "spec": {
        "nodeName": "node-1", "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}]}})
    c.run(5)
    late = c.get("pod", "late")["status"]
    assert late["phase"] == "Failed" and late["reason"] == "Evicted"
    assert late["message"].endswith("The node had condition: [MemoryPressure]. ")
    c.run(300)      # --eviction-pressure-transition-period 5m after the last pass that saw pressure
    assert condition(c, "MemoryPressure") == "False"


def test_a_pod_writing_past_its_emptydir_size_limit_is_evicted_on_a_healthy_node():
    c = engine.Cluster(nodes=1, seed=0)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "writer"}, "spec": {
        "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Mi"}}],
        "containers": [{"name": "app", "image": "busybox", "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                        "command": ["sh", "-c", "sleep 5; seq 1 300000 > /cache/numbers; sleep 3600"]}]}})
    c.run(30)
    status = c.get("pod", "writer")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Evicted")
    assert status["message"] == 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". '
    assert condition(c, "DiskPressure") == "False" and condition(c, "MemoryPressure") == "False"
