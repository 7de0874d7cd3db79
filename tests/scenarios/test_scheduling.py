"""kube-scheduler in a whole cluster: pods are bound through the API server, refusals carry the real message."""

from __future__ import annotations

import engine

TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


def cluster(nodes: int = 4, **options) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0, **options)


def pod(name: str, cpu: str | None = None, **spec) -> dict:
    container: dict = {"name": "app", "image": "nginx"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [container], **spec}}


def scheduler_of(c: engine.Cluster):
    return c.components[("kube-scheduler", None)]


def events(c: engine.Cluster, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.list("events")
            if e["involvedObject"]["name"] == name]


def test_pods_are_bound_to_workers_never_to_the_tainted_control_plane():
    c = cluster()
    for index in range(12):
        c.apply(pod(f"web-{index}", cpu="100m"))
    c.run(2)
    nodes = [p["spec"].get("nodeName") for p in c.list("pods")]
    assert all(nodes) and "control-plane" not in nodes
    assert len(set(nodes)) == 4                       # LeastAllocated spreads them
    assert ("Normal", "Scheduled", f"Successfully assigned default/web-0 to {c.get('pod', 'web-0')['spec']['nodeName']}") \
        in events(c, "web-0")


def test_a_pod_that_fits_nowhere_gets_the_real_message_and_is_retried_when_a_node_is_added():
    c = cluster()
    c.apply(pod("big", cpu="6"))
    c.run(2)
    big = c.get("pod", "big")
    assert "nodeName" not in big["spec"]
    message = (f"0/5 nodes are available: 1 {TAINT}, 4 Insufficient cpu. preemption: 0/5 nodes are available: "
               "1 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod..")
    condition = next(x for x in big["status"]["conditions"] if x["type"] == "PodScheduled")
    assert (condition["status"], condition["reason"], condition["message"]) == ("False", "Unschedulable", message)
    assert ("Warning", "FailedScheduling", message) in events(c, "big")
    assert scheduler_of(c).queue.pending_pods()["unschedulable"] == ["default/big"]
    c.admin.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "large", "labels": {}}})
    large = c.admin.get("nodes", "large")
    large["status"] = {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                       "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"}}
    c.admin.update_status(large)
    c.run(2)
    assert c.get("pod", "big")["spec"]["nodeName"] == "large"


def test_a_pod_waits_for_room_and_is_bound_when_another_pod_is_deleted():
    c = cluster(nodes=1)
    c.apply(pod("first", cpu="3"))
    c.run(1)
    c.apply(pod("second", cpu="3"))
    c.run(1)
    assert "nodeName" not in c.get("pod", "second")["spec"]
    c.delete("pod", "first", grace_period_seconds=0)
    c.run(3)
    assert c.get("pod", "second")["spec"]["nodeName"] == "node-1"


def test_a_node_selector_and_a_toleration_steer_the_pod():
    c = cluster()
    c.admin.patch("nodes", "node-3", {"metadata": {"labels": {"disktype": "ssd"}}})
    c.admin.patch("nodes", "node-2", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})
    c.run(1)
    c.apply(pod("ssd", nodeSelector={"disktype": "ssd"}))
    c.apply(pod("db", nodeSelector={"kubernetes.io/hostname": "node-2"},
                tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]))
    c.apply(pod("nowhere", nodeSelector={"kubernetes.io/hostname": "node-2"}))
    c.run(2)
    assert c.get("pod", "ssd")["spec"]["nodeName"] == "node-3"
    assert c.get("pod", "db")["spec"]["nodeName"] == "node-2"
    message = next(x for x in c.get("pod", "nowhere")["status"]["conditions"])["message"]
    assert message == ("0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, "
                       f"1 {TAINT}, 3 node(s) didn't match Pod's node affinity/selector. "
                       "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling..")


def test_every_decision_is_explained_node_by_node():
    c = cluster()
    c.apply(pod("web", cpu="500m"))
    c.run(2)
    decision = scheduler_of(c).explain("default", "web")
    assert decision.selected == c.get("pod", "web")["spec"]["nodeName"]
    assert decision.rejected_nodes == {"control-plane": f"TaintToleration: {TAINT}"}
    assert decision.feasible_nodes == ["node-1", "node-2", "node-3", "node-4"]
    verdict = decision.verdicts[decision.selected]
    # cpu (4000 - 500) / 4000 -> 87, memory (8092Mi - 200Mi) / 8092Mi -> 97: 92; balance |0.125 - 0| / 2 -> 93
    assert verdict.scores == {"TaintToleration": 300, "NodeResourcesFit": 92,
                              "NodeResourcesBalancedAllocation": 93, "ImageLocality": 0}
    assert verdict.total == sum(verdict.scores.values())
    assert [row["node"] for row in decision.table()] == ["control-plane", "node-1", "node-2", "node-3", "node-4"]


def test_older_decisions_drop_their_scores_once_the_newer_ones_cover_enough_nodes(monkeypatch):
    from engine.scheduler import scheduler as kube_scheduler
    monkeypatch.setattr(kube_scheduler, "SCORED_NODES_KEPT", 9)        # two decisions over 4 feasible nodes
    c = cluster()
    for index in range(4):
        c.apply(pod(f"web-{index}", cpu="100m"))
        c.run(1)
    decisions = [scheduler_of(c).explain("default", f"web-{index}") for index in range(4)]
    assert [d.scores_dropped for d in decisions] == [True, True, False, False]
    old, new = decisions[0], decisions[3]
    assert old.selected == c.get("pod", "web-0")["spec"]["nodeName"]
    assert old.feasible_nodes == new.feasible_nodes == ["node-1", "node-2", "node-3", "node-4"]
    assert old.rejected_nodes == {"control-plane": f"TaintToleration: {TAINT}"}
    assert all(v.scores == {} and v.total is None for v in old.verdicts.values())
    assert "(per-node scores no longer kept)" in str(old).splitlines()[0]
    assert all(v.scores and v.total is not None for v in new.verdicts.values() if v.feasible)


def test_the_scheduler_holds_its_lease_and_the_same_seed_gives_the_same_placements():
    placements = []
    for _ in range(2):
        c = cluster()
        for index in range(8):
            c.apply(pod(f"web-{index}"))
        c.run(2)
        placements.append([p["spec"]["nodeName"] for p in c.list("pods")])
        holder = c.get("lease", "kube-scheduler", "kube-system")["spec"]["holderIdentity"]
        assert holder.startswith("control-plane_")
    assert placements[0] == placements[1]


def test_a_pod_for_another_scheduler_is_left_alone():
    c = cluster()
    c.apply(pod("custom", schedulerName="my-scheduler"))
    c.run(2)
    assert "nodeName" not in c.get("pod", "custom")["spec"]
    assert scheduler_of(c).explain("default", "custom") is None


def test_required_anti_affinity_puts_one_replica_per_node_and_refuses_the_fifth():
    c = cluster()
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"tier": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    for index in range(5):
        replica = pod(f"cache-{index}", affinity=anti)
        replica["metadata"]["labels"] = {"tier": "cache"}
        c.apply(replica)
    c.run(2)
    placed = sorted(p["spec"].get("nodeName", "") for p in c.list("pods"))
    assert placed == ["", "node-1", "node-2", "node-3", "node-4"]
    refused = next(p for p in c.list("pods") if not p["spec"].get("nodeName"))
    message = refused["status"]["conditions"][0]["message"]
    assert message.startswith(f"0/5 nodes are available: 1 {TAINT}, 4 node(s) didn't match pod anti-affinity rules.")


def test_topology_spread_over_zones_balances_the_zones():
    c = cluster()
    for index, zone in ((1, "a"), (2, "a"), (3, "a"), (4, "b")):
        c.admin.patch("nodes", f"node-{index}", {"metadata": {"labels": {"topology.kubernetes.io/zone": zone}}})
    c.run(1)
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]
    for index in range(4):
        replica = pod(f"web-{index}", topologySpreadConstraints=spread)
        replica["metadata"]["labels"] = {"app": "web"}
        c.apply(replica)
        c.run(1)
    zones = [c.get("node", p["spec"]["nodeName"], None)["metadata"]["labels"]["topology.kubernetes.io/zone"]
             for p in c.list("pods")]
    assert sorted(zones) == ["a", "a", "b", "b"]


def test_the_search_starts_where_the_last_one_stopped():
    """percentageOfNodesToScore: with 200 nodes 100 feasible are enough, and the next pod starts after them."""
    from engine.scheduler.explain import Decision
    from engine.scheduler.framework import CycleState
    c = cluster(nodes=0)
    scheduler = scheduler_of(c)
    for index in range(199):
        scheduler.cache.add_node({"metadata": {"name": f"n-{index:03}", "labels": {}}, "spec": {},
                                  "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    framework = scheduler.frameworks["default-scheduler"]
    nodes = scheduler.cache.node_infos
    first = scheduler.find_nodes_that_fit(framework, CycleState(), pod("a"), nodes, Decision("a", 0, ""))
    # the control-plane node came first and was rejected: 101 nodes processed for 100 feasible ones
    assert len(first) == 100 and first[0].name == "n-000" and first[-1].name == "n-099"
    assert scheduler.next_start_node_index == 101
    second = scheduler.find_nodes_that_fit(framework, CycleState(), pod("b"), nodes, Decision("b", 0, ""))
    assert [second[0].name, second[98].name, second[99].name] == ["n-100", "n-198", "n-000"]
    assert scheduler.next_start_node_index == 2                 # wrapped around past the control plane


def test_a_high_priority_pod_preempts_the_least_important_pod_that_makes_room():
    c = cluster(nodes=1)
    c.apply(pod("older", cpu="1500m"))
    c.run(1)
    c.apply(pod("newer", cpu="1500m"))
    c.run(1)
    c.apply(pod("critical", cpu="2", priorityClassName="system-cluster-critical"))
    c.run(1)
    critical = c.get("pod", "critical")
    assert critical["status"]["nominatedNodeName"] == "node-1" and "nodeName" not in critical["spec"]
    assert critical["status"]["conditions"][0]["message"] == (
        f"0/2 nodes are available: 1 Insufficient cpu, 1 {TAINT}.")       # sorted as strings: "I" < "n"
    assert "deletionTimestamp" in c.get("pod", "newer")["metadata"]        # the victim: the later of the two
    assert "deletionTimestamp" not in c.get("pod", "older")["metadata"]    # reprieved: the pod fits beside it
    uid = critical["metadata"]["uid"]
    assert ("Normal", "Preempted", f"Preempted by pod {uid} on node node-1") in events(c, "newer")
    c.delete("pod", "newer", grace_period_seconds=0)                        # what the kubelet would finish
    c.run(3)
    assert c.get("pod", "critical")["spec"]["nodeName"] == "node-1"


def test_a_pod_that_never_preempts_says_so():
    """The docs' non-preempting class: high priority in the queue, but it waits instead of evicting."""
    c = cluster(nodes=1)
    c.apply({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
             "metadata": {"name": "high-priority-nonpreempting"}, "value": 1000000, "preemptionPolicy": "Never",
             "globalDefault": False, "description": "This priority class will not cause other pods to be preempted."})
    c.apply(pod("filler", cpu="3"))
    c.run(1)
    c.apply(pod("polite", cpu="2", priorityClassName="high-priority-nonpreempting"))
    c.run(1)
    message = c.get("pod", "polite")["status"]["conditions"][0]["message"]
    assert message == (f"0/2 nodes are available: 1 Insufficient cpu, 1 {TAINT}. "
                       "preemption: not eligible due to preemptionPolicy=Never..")


def test_a_standby_scheduler_schedules_nothing_until_the_leader_is_gone():
    from engine.components import ComponentContext
    from engine.scheduler.scheduler import Scheduler
    c = cluster(nodes=1)
    standby = Scheduler(ComponentContext("kube-scheduler", c.client("system:kube-scheduler"), c.loop,
                                         node_name="control-plane-2"))
    standby.start()
    c.run(5)
    leader = scheduler_of(c)
    assert leader.leading and not standby.leading
    leader.stop()                                   # a crash: the lease is left to expire (15 s)
    c.apply(pod("after-the-crash"))
    c.run(5)
    assert "nodeName" not in c.get("pod", "after-the-crash")["spec"] and not standby.leading
    c.run(20)
    assert standby.leading
    assert c.get("pod", "after-the-crash")["spec"]["nodeName"] == "node-1"
    assert c.get("lease", "kube-scheduler", "kube-system")["spec"]["holderIdentity"].startswith("control-plane-2_")
