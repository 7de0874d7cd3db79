"""Preemption in a whole cluster, after the documentation's Pod Priority and Preemption page.

Victims get the DisruptionTarget condition and a Preempted event and are deleted through the API server; the
preemptor is nominated, then bound once they are gone. PodDisruptionBudgets are honoured from their
``status.disruptionsAllowed``: the disruption controller that keeps that status belongs to the controllers, so
these tests write the status themselves, as the controller would.
"""

from __future__ import annotations

import engine
from engine.components import COMPONENTS, ComponentSpec
from engine.scheduler import SCHEDULER

SCHEDULER_AND_HEARTBEATS = [
    COMPONENTS[0], SCHEDULER,
    ComponentSpec("kubelet", "node", "engine.kubelet.node_status:NodeStatusAgent", user="system:node:{node}",
                  groups=("system:nodes",)),
]
"""The scheduler and nodes that only heartbeat: the tests play the kubelet (``terminate``), so a victim stays
Terminating until they say its containers have stopped."""

TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
HIGH = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high-priority"},
        "value": 1000000, "globalDefault": False,
        "description": "This priority class should be used for XYZ service pods only."}
LOW = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "low-priority"},
       "value": 100, "globalDefault": False}


def cluster(nodes: int = 2) -> engine.Cluster:
    c = engine.Cluster(nodes=nodes, seed=0, components=SCHEDULER_AND_HEARTBEATS)
    c.apply(HIGH)
    c.apply(LOW)
    return c


def pod(name: str, cpu: str, priority_class: str = "low-priority", labels: dict | None = None, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}],
                     "priorityClassName": priority_class, "terminationGracePeriodSeconds": 5, **spec}}


def place(c: engine.Cluster, name: str, node: str, cpu: str, **kwargs) -> None:
    c.apply(pod(name, cpu, nodeSelector={"kubernetes.io/hostname": node}, **kwargs))
    c.run(2)
    assert c.get("pod", name)["spec"]["nodeName"] == node


def events(c: engine.Cluster, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in c.list("events") if e["involvedObject"]["name"] == name]


def terminate(c: engine.Cluster, name: str) -> None:
    """What the kubelet does when a deleted pod's containers have stopped: the final delete."""
    c.delete("pod", name, grace_period_seconds=0)


def test_the_preemptor_is_nominated_the_victim_marked_and_deleted_and_the_preemptor_bound_after_it():
    c = cluster(nodes=1)
    place(c, "low", "node-1", "3")
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    high = c.get("pod", "high")
    assert high["status"]["nominatedNodeName"] == "node-1" and "nodeName" not in high["spec"]
    low = c.get("pod", "low")
    assert low["metadata"].get("deletionTimestamp")
    target = next(x for x in low["status"]["conditions"] if x["type"] == "DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == (
        "True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    assert ("Preempted", f"Preempted by pod {high['metadata']['uid']} on node node-1") in events(c, "low")
    terminate(c, "low")
    c.run(3)
    assert c.get("pod", "high")["spec"]["nodeName"] == "node-1"


def test_a_budget_that_allows_no_disruption_steers_preemption_to_the_other_node():
    c = cluster(nodes=2)
    place(c, "guarded", "node-1", "3", labels={"app": "zookeeper"})
    place(c, "free", "node-2", "3", labels={"app": "batch"})
    budget = c.apply({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "zk-pdb"},
                      "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "zookeeper"}}}})
    budget["status"].update(currentHealthy=1, desiredHealthy=1, expectedPods=1, disruptionsAllowed=0)
    c.admin.update_status(budget)                      # what the disruption controller would write
    c.run(1)
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    assert c.get("pod", "high")["status"]["nominatedNodeName"] == "node-2"
    assert c.get("pod", "free")["metadata"].get("deletionTimestamp")
    assert not c.get("pod", "guarded")["metadata"].get("deletionTimestamp")


def test_when_only_a_budgeted_pod_can_make_room_the_budget_is_violated():
    c = cluster(nodes=1)
    place(c, "guarded", "node-1", "3", labels={"app": "zookeeper"})
    budget = c.apply({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "zk-pdb"},
                      "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "zookeeper"}}}})
    budget["status"].update(currentHealthy=1, desiredHealthy=1, expectedPods=1, disruptionsAllowed=0)
    c.admin.update_status(budget)
    c.run(1)
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    assert c.get("pod", "guarded")["metadata"].get("deletionTimestamp")   # best effort, as the docs say


def test_the_node_with_the_least_important_victims_is_chosen():
    c = cluster(nodes=2)
    c.apply({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "medium"},
             "value": 500})
    place(c, "medium-1", "node-1", "3", priority_class="medium")
    place(c, "low-2", "node-2", "3")
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    assert c.get("pod", "high")["status"]["nominatedNodeName"] == "node-2"
    assert c.get("pod", "low-2")["metadata"].get("deletionTimestamp")
    assert not c.get("pod", "medium-1")["metadata"].get("deletionTimestamp")


def test_removing_a_victim_also_lifts_the_anti_affinity_it_caused():
    """InterPodAffinity's PreFilter state follows the dry run's removals (its remove_pod extension)."""
    c = cluster(nodes=1)
    place(c, "noisy", "node-1", "100m", labels={"team": "noisy"})
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"team": "noisy"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    c.apply(pod("quiet", "100m", "high-priority", affinity=anti))
    c.run(1)
    assert c.get("pod", "quiet")["status"]["nominatedNodeName"] == "node-1"
    assert c.get("pod", "noisy")["metadata"].get("deletionTimestamp")
    terminate(c, "noisy")
    c.run(3)
    assert c.get("pod", "quiet")["spec"]["nodeName"] == "node-1"


def test_equal_priority_pods_are_never_victims_and_the_message_says_why():
    c = cluster(nodes=1)
    place(c, "peer", "node-1", "3", priority_class="high-priority")
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    high = c.get("pod", "high")
    assert "nominatedNodeName" not in high["status"]
    assert high["status"]["conditions"][0]["message"] == (
        f"0/2 nodes are available: 1 Insufficient cpu, 1 {TAINT}. preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling..")


def test_a_pod_waiting_for_its_victims_does_not_preempt_again():
    c = cluster(nodes=1)
    place(c, "low", "node-1", "3")
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    scheduler = c.components[("kube-scheduler", None)]
    scheduler.queue.move_all_to_active_or_backoff("NodeUpdate")       # a retry while the victim terminates
    c.run(2)
    decision = scheduler.explain("default", "high")
    assert decision.selected is None and decision.message.endswith(
        "preemption: not eligible due to a terminating pod on the nominated node..")
    assert c.get("pod", "high")["status"]["nominatedNodeName"] == "node-1"      # the nomination stands


def test_a_higher_priority_preemptor_takes_over_the_node_and_lower_nominations_are_cleared():
    c = cluster(nodes=1)
    c.apply({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "medium"},
             "value": 500})
    place(c, "low", "node-1", "3")
    c.apply(pod("medium", "3", "medium"))
    c.run(1)
    assert c.get("pod", "medium")["status"]["nominatedNodeName"] == "node-1"
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    assert c.get("pod", "high")["status"]["nominatedNodeName"] == "node-1"
    assert "nominatedNodeName" not in c.get("pod", "medium")["status"]
    terminate(c, "low")
    c.run(3)
    assert c.get("pod", "high")["spec"]["nodeName"] == "node-1"
    assert "nodeName" not in c.get("pod", "medium")["spec"]


def test_the_explanation_says_which_pods_would_be_evicted_on_which_node():
    c = cluster(nodes=2)
    c.apply({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "medium"},
             "value": 500})
    place(c, "medium-1", "node-1", "3", priority_class="medium")
    place(c, "low-2", "node-2", "3")
    c.apply(pod("high", "2", "high-priority"))
    c.run(1)
    what_if = c.components[("kube-scheduler", None)].explain("default", "high").preemption
    assert what_if.candidates == {"node-1": ["default/medium-1"], "node-2": ["default/low-2"]}
    assert what_if.chosen == "node-2" and what_if.pdb_violations == {"node-1": 0, "node-2": 0}
    assert what_if.not_helpful == {"control-plane": "Preemption is not helpful for scheduling"}
    assert "node-2 (chosen): evict default/low-2" in str(what_if)
    rows = what_if.table()                              # candidates in dry-run order, then the others
    assert sorted(row["node"] for row in rows[:2]) == ["node-1", "node-2"] and rows[2]["node"] == "control-plane"
