"""The disruption controller: PodDisruptionBudget status from the pods a budget guards.

The pods sit on a node without a kubelet, so their Ready condition is what each test writes, and only
the ServiceAccount and disruption controllers run: the numbers are the disruption controller's alone.
"""

from __future__ import annotations

import pytest

import engine
from engine.api.meta import owner_reference, timestamp
from engine.components import ComponentSpec
from engine.controllers.disruption import desired_healthy, disruptions_allowed

MANAGER = ComponentSpec("kube-controller-manager", "control-plane", "engine.controllers.manager:ControllerManager",
                        user="system:kube-controller-manager",
                        options={"controllers": ["engine.controllers.serviceaccount:ServiceAccountsController",
                                                 "engine.controllers.disruption:DisruptionController"]})


@pytest.mark.parametrize("spec, found, scale, expected", [
    ({"minAvailable": 2}, 3, None, (3, 2)),
    ({"minAvailable": "50%"}, 3, 5, (5, 3)),               # rounded up
    ({"maxUnavailable": 1}, 3, 4, (4, 3)),
    ({"maxUnavailable": "30%"}, 3, 4, (4, 2)),             # 1.2 unavailable rounds up to 2
    ({"maxUnavailable": 5}, 3, 4, (4, 0)),                 # never below zero
    ({}, 3, None, (3, 0)),
])
def test_expected_and_desired_healthy_follow_the_spec(spec, found, scale, expected) -> None:
    assert desired_healthy(spec, found, scale) == expected


def test_no_disruption_is_allowed_below_the_desired_count_or_with_nothing_expected() -> None:
    assert disruptions_allowed(3, 2, 3) == 1
    assert disruptions_allowed(2, 2, 3) == 0
    assert disruptions_allowed(1, 2, 3) == 0
    assert disruptions_allowed(3, 0, 0) == 0


@pytest.fixture
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=11, components=[MANAGER])


def _owner(cluster: engine.Cluster, kind: str, name: str, replicas: int, owner: dict | None = None) -> dict:
    group = "apps/v1"
    obj = {"apiVersion": group, "kind": kind, "metadata": {"name": name},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = name
    if owner is not None:
        obj["metadata"]["ownerReferences"] = [owner_reference(owner)]
    return cluster.admin.create(obj, "default")


def _pods(cluster: engine.Cluster, count: int, *, owner: dict | None = None, ready: int | None = None) -> list[str]:
    names = []
    for index in range(count):
        meta = {"name": f"web-{index}", "labels": {"app": "web"}}
        if owner is not None:
            meta["ownerReferences"] = [owner_reference(owner)]
        pod = cluster.admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                    "spec": {"nodeName": "retired-node",
                                             "containers": [{"name": "web", "image": "nginx"}]}}, "default")
        healthy = ready is None or index < ready
        pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": str(healthy)}]}
        cluster.admin.update_status(pod)
        names.append(meta["name"])
    return names


def _budget(cluster: engine.Cluster, **spec) -> dict:
    cluster.apply({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
                   "spec": {**spec, "selector": {"matchLabels": {"app": "web"}}}})
    cluster.run(2)
    return cluster.get("pdb", "web")["status"]


def _numbers(status: dict) -> tuple[int, int, int, int]:
    return (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"], status["disruptionsAllowed"])


def test_an_integer_min_available_counts_the_pods_found(cluster: engine.Cluster) -> None:
    _pods(cluster, 3)
    status = _budget(cluster, minAvailable=2)
    assert _numbers(status) == (3, 2, 3, 1)
    assert status["observedGeneration"] == cluster.get("pdb", "web")["metadata"]["generation"]
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == \
        [("DisruptionAllowed", "True", "SufficientPods")]
    assert "1/1" not in cluster.kubectl("get pdb web")     # printed with the real columns
    assert cluster.kubectl("get pdb web").split("\n")[1].split()[:4] == ["web", "2", "N/A", "1"]


def test_an_eviction_is_spent_then_confirmed_when_the_pod_goes(cluster: engine.Cluster) -> None:
    _pods(cluster, 3)
    _budget(cluster, minAvailable=2)
    cluster.admin.evict("default", "web-0")
    cluster.run(2)
    status = cluster.get("pdb", "web")["status"]
    assert _numbers(status) == (3, 2, 2, 0)         # web-0 is terminating: no longer healthy
    assert "disruptedPods" not in status              # its deletion was seen
    assert [(c["status"], c["reason"]) for c in status["conditions"]] == [("False", "InsufficientPods")]


def test_max_unavailable_counts_the_replicas_of_the_deployment_behind_the_pods(cluster: engine.Cluster) -> None:
    deployment = _owner(cluster, "Deployment", "web", 4)
    replica_set = _owner(cluster, "ReplicaSet", "web-5d8f7", 4, owner=deployment)
    _pods(cluster, 3, owner=replica_set)
    status = _budget(cluster, maxUnavailable="30%")
    assert _numbers(status) == (4, 2, 3, 1)
    cluster.admin.patch("deployments", "web", {"spec": {"replicas": 6}}, "default")
    cluster.admin.patch("pods", "web-2", {"metadata": {"labels": {"touched": "yes"}}}, "default")
    cluster.run(2)
    assert _numbers(cluster.get("pdb", "web")["status"]) == (6, 4, 3, 0)


def test_a_percentage_over_pods_without_a_controller_warns(cluster: engine.Cluster) -> None:
    _pods(cluster, 2)
    status = _budget(cluster, minAvailable="50%")
    assert _numbers(status) == (0, 0, 2, 0)
    reasons = {e["reason"]: e for e in cluster.list("events") if e["involvedObject"]["kind"] == "PodDisruptionBudget"}
    assert reasons["UnmanagedPods"]["type"] == "Warning"
    assert "(selector: app=web) were found to be unmanaged" in reasons["UnmanagedPods"]["message"]


def test_an_eviction_not_followed_by_a_deletion_stops_counting_after_two_minutes(cluster: engine.Cluster) -> None:
    _pods(cluster, 3)
    _budget(cluster, minAvailable=1)
    budget = cluster.get("pdb", "web")
    budget["status"]["disruptedPods"] = {"web-1": timestamp(cluster.now)}
    cluster.admin.update_status(budget)
    cluster.run(2)
    assert _numbers(cluster.get("pdb", "web")["status"]) == (3, 1, 2, 1)
    cluster.run(121)
    status = cluster.get("pdb", "web")["status"]
    assert _numbers(status) == (3, 1, 3, 2) and "disruptedPods" not in status


def test_unready_pods_are_not_healthy_and_no_pods_is_an_event(cluster: engine.Cluster) -> None:
    status = _budget(cluster, minAvailable=1)
    assert _numbers(status) == (0, 1, 0, 0)
    assert any(e["reason"] == "NoPods" and e["message"] == "No matching pods found" for e in cluster.list("events"))
    _pods(cluster, 3, ready=1)
    cluster.run(2)
    assert _numbers(cluster.get("pdb", "web")["status"]) == (3, 1, 1, 0)
