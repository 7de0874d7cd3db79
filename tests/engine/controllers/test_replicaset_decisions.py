"""The ReplicaSet controller's pure parts: the diff (manage_replicas) and the status it writes."""

from engine.api.meta import timestamp
from engine.controllers.replicaset import BURST_REPLICAS, ReplicaPlan, calculate_status, manage_replicas


def pod(name, *, node="n1", ready=True, since=0.0, created=0.0, labels=None):
    return {"metadata": {"name": name, "namespace": "default", "uid": f"u-{name}",
                         "creationTimestamp": timestamp(created), "labels": labels or {"app": "web"}},
            "spec": {"nodeName": node},
            "status": {"phase": "Running" if node else "Pending",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "lastTransitionTime": timestamp(since)}]}}


def rs(replicas, min_ready=0, conditions=None):
    return {"metadata": {"name": "web", "namespace": "default", "generation": 2},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready,
                     "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}}},
            "status": {"replicas": 0, **({"conditions": conditions} if conditions else {})}}


def test_too_few_pods_creates_the_difference_capped_by_burst():
    assert manage_replicas(3, [pod("a")], [], now=100) == ReplicaPlan(create=2)
    assert manage_replicas(2000, [], [], now=100) == ReplicaPlan(create=BURST_REPLICAS)
    assert manage_replicas(1, [pod("a")], [], now=100) == ReplicaPlan()


def test_too_many_pods_deletes_the_least_valuable_first():
    pods = [pod("ready-old", since=10, created=0), pod("unscheduled", node=""),
            pod("not-ready", ready=False), pod("ready-new", since=900, created=890)]
    plan = manage_replicas(1, pods, pods, now=1000)
    assert [p["metadata"]["name"] for p in plan.delete] == ["unscheduled", "not-ready", "ready-new"]
    everything = manage_replicas(0, pods, pods, now=1000)
    assert len(everything.delete) == 4 and everything.create == 0


def test_status_counts_labels_ready_and_available_after_min_ready_seconds():
    pods = [pod("a", since=0, labels={"app": "web", "tier": "fe"}), pod("b", since=95), pod("c", ready=False)]
    status = calculate_status(rs(3, min_ready=10), pods, None, now=100)
    assert status == {"replicas": 3, "fullyLabeledReplicas": 1, "readyReplicas": 2, "availableReplicas": 1}
    empty = calculate_status(rs(0), [], None, now=100)
    assert empty == {"replicas": 0}


def test_replica_failure_condition_set_on_error_and_removed_after():
    failed = calculate_status(rs(3), [pod("a")], RuntimeError('pods "web-x" is forbidden: exceeded quota'), now=50)
    assert failed["conditions"] == [{"type": "ReplicaFailure", "status": "True",
                                     "lastTransitionTime": timestamp(50), "reason": "FailedCreate",
                                     "message": 'pods "web-x" is forbidden: exceeded quota'}]
    healed = calculate_status(rs(3, conditions=failed["conditions"]), [pod("a")], None, now=60)
    assert "conditions" not in healed
