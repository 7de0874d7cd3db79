"""The Eviction API (pods/<name>/eviction): deletes that PodDisruptionBudgets may refuse.

The cluster runs no components, so that each test sets the pods' and budgets' status itself, as the
kubelet and the disruption controller would: the eviction logic is the API server's alone.
"""

from __future__ import annotations

import pytest

import engine
from engine.api import errors

NAMESPACE = "shop"


@pytest.fixture
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=1, seed=5, components=[])
    cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    cluster.admin.create({"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": "default", "namespace": NAMESPACE}})
    return cluster


def _pod(cluster: engine.Cluster, name: str, *, ready: bool = True, phase: str = "Running",
         labels: dict | None = None) -> dict:
    cluster.admin.create({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels or {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx"}]}})
    cluster.admin.bind(NAMESPACE, name, "node-1")
    pod = cluster.admin.get("pods", name, NAMESPACE)
    pod["status"].update(phase=phase, conditions=[*pod["status"].get("conditions", []),
                                                  {"type": "Ready", "status": "True" if ready else "False"}])
    return cluster.admin.update_status(pod)


def _budget(cluster: engine.Cluster, name: str = "web-pdb", *, allowed: int, current: int, desired: int,
            policy: str | None = None, observed: bool = True) -> dict:
    spec = {"minAvailable": desired, "selector": {"matchLabels": {"app": "web"}}}
    if policy:
        spec["unhealthyPodEvictionPolicy"] = policy
    budget = cluster.admin.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                                   "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec})
    generation = budget["metadata"].get("generation", 1)
    budget["status"] = {"observedGeneration": generation if observed else 0, "disruptionsAllowed": allowed,
                        "currentHealthy": current, "desiredHealthy": desired, "expectedPods": current}
    return cluster.admin.update_status(budget)


def _gone_or_going(cluster: engine.Cluster, name: str) -> bool:
    try:
        return bool(cluster.admin.get("pods", name, NAMESPACE)["metadata"].get("deletionTimestamp"))
    except errors.NotFound:
        return True


def test_a_pod_without_a_budget_is_deleted_gracefully(cluster: engine.Cluster) -> None:
    _pod(cluster, "web-1")
    answer = cluster.admin.evict(NAMESPACE, "web-1")
    assert answer == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    pod = cluster.admin.get("pods", "web-1", NAMESPACE)
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30


def test_a_budget_is_spent_then_refuses_with_429_and_its_cause(cluster: engine.Cluster) -> None:
    for name in ("web-1", "web-2", "web-3"):
        _pod(cluster, name)
    _budget(cluster, allowed=1, current=3, desired=2)
    cluster.admin.evict(NAMESPACE, "web-1")
    assert _gone_or_going(cluster, "web-1")
    status = cluster.admin.get("poddisruptionbudgets", "web-pdb", NAMESPACE)["status"]
    assert status["disruptionsAllowed"] == 0 and list(status["disruptedPods"]) == ["web-1"]
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == \
        [("DisruptionAllowed", "False", "InsufficientPods")]
    with pytest.raises(errors.TooManyRequests) as refused:
        cluster.admin.evict(NAMESPACE, "web-2")
    assert refused.value.code == 429
    assert refused.value.status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert refused.value.status["details"] == {"causes": [{
        "reason": "DisruptionBudget", "message": "The disruption budget web-pdb needs 2 healthy pods and has 3 currently"}]}
    assert not cluster.admin.get("pods", "web-2", NAMESPACE)["metadata"].get("deletionTimestamp")


def test_finished_or_pending_pods_go_whatever_the_budget(cluster: engine.Cluster) -> None:
    _pod(cluster, "done", phase="Succeeded", ready=False)
    _pod(cluster, "waiting", phase="Pending", ready=False)
    _budget(cluster, allowed=0, current=0, desired=2)
    cluster.admin.evict(NAMESPACE, "done")
    cluster.admin.evict(NAMESPACE, "waiting")
    assert _gone_or_going(cluster, "done") and _gone_or_going(cluster, "waiting")


@pytest.mark.parametrize("policy, current, evicted", [
    pytest.param(None, 2, True, id="IfHealthyBudget: the application has its desired healthy pods"),
    pytest.param(None, 1, False, id="IfHealthyBudget: the application is already short"),
    pytest.param("AlwaysAllow", 1, True, id="AlwaysAllow: unready pods always go"),
])
def test_an_unready_pod_leaves_without_spending_the_budget_when_the_policy_allows(
        cluster: engine.Cluster, policy: str | None, current: int, evicted: bool) -> None:
    _pod(cluster, "sick", ready=False)
    _budget(cluster, allowed=0, current=current, desired=2, policy=policy)
    if evicted:
        cluster.admin.evict(NAMESPACE, "sick")
        assert _gone_or_going(cluster, "sick")
        assert cluster.admin.get("poddisruptionbudgets", "web-pdb", NAMESPACE)["status"]["disruptionsAllowed"] == 0
    else:
        with pytest.raises(errors.TooManyRequests):
            cluster.admin.evict(NAMESPACE, "sick")


def test_a_budget_not_yet_observed_asks_to_retry_later(cluster: engine.Cluster) -> None:
    _pod(cluster, "web-1")
    _budget(cluster, allowed=1, current=1, desired=0, observed=False)
    with pytest.raises(errors.TooManyRequests) as refused:
        cluster.admin.evict(NAMESPACE, "web-1")
    assert refused.value.status["details"] == {"causes": [{
        "reason": "DisruptionBudget", "message": "The disruption budget web-pdb is still being processed by the server."}],
        "retryAfterSeconds": 10}


def test_two_budgets_for_one_pod_are_not_supported(cluster: engine.Cluster) -> None:
    _pod(cluster, "web-1")
    _budget(cluster, "a", allowed=1, current=1, desired=0)
    _budget(cluster, "b", allowed=1, current=1, desired=0)
    with pytest.raises(engine.ApiError) as failed:
        cluster.admin.evict(NAMESPACE, "web-1")
    assert failed.value.code == 500
    assert str(failed.value) == ("This pod has more than one PodDisruptionBudget, which the eviction subresource "
                                 "does not support.")


def test_a_dry_run_spends_nothing_and_deletes_nothing(cluster: engine.Cluster) -> None:
    _pod(cluster, "web-1")
    _budget(cluster, allowed=1, current=1, desired=0)
    cluster.admin.evict(NAMESPACE, "web-1", dry_run=True)
    assert not _gone_or_going(cluster, "web-1")
    assert cluster.admin.get("poddisruptionbudgets", "web-pdb", NAMESPACE)["status"]["disruptionsAllowed"] == 1


def test_evicting_needs_only_the_eviction_permission(cluster: engine.Cluster) -> None:
    _pod(cluster, "web-1")
    cluster.apply(f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: evictor, namespace: {NAMESPACE}}}
rules:
- {{apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: evictor, namespace: {NAMESPACE}}}
subjects: [{{kind: User, name: ops, apiGroup: rbac.authorization.k8s.io}}]
roleRef: {{kind: Role, name: evictor, apiGroup: rbac.authorization.k8s.io}}
""")
    ops = cluster.client("ops")
    with pytest.raises(errors.Forbidden):
        ops.delete("pods", "web-1", NAMESPACE)
    ops.evict(NAMESPACE, "web-1")
    assert _gone_or_going(cluster, "web-1")
