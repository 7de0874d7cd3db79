"""controller_utils and controller_ref_manager: expectations, ranking, slow start, hashing, claiming."""

import pytest

import engine
from engine.api.meta import owner_reference, timestamp
from engine.api.selectors import from_label_selector
from engine.client.record import EventRecorder
from engine.controllers import controller_utils as cu
from engine.controllers.controller_ref_manager import (
    ADOPT, CLAIM, IGNORE, RELEASE, ControllerRefManager, claim_decision)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def pod(name, *, node="", phase="Running", ready=None, created=0.0, ready_since=0.0, restarts=0, uid=None,
        labels=None, owner=None, deleting=False):
    conditions = []
    if ready is not None:
        conditions.append({"type": "Ready", "status": "True" if ready else "False",
                           "lastTransitionTime": timestamp(ready_since)})
    meta = {"name": name, "namespace": "default", "uid": uid or f"uid-{name}",
            "creationTimestamp": timestamp(created), "labels": labels or {"app": "web"}}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    if deleting:
        meta["deletionTimestamp"] = timestamp(created + 1)
    return {"metadata": meta, "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


# -- expectations ------------------------------------------------------------------

def test_expectations_block_until_observed_and_expire_after_five_minutes():
    clock = Clock()
    expectations = cu.ControllerExpectations(clock)
    assert expectations.satisfied("default/web")            # never recorded: act
    expectations.expect_creations("default/web", 2)
    assert not expectations.satisfied("default/web")
    expectations.creation_observed("default/web")
    assert not expectations.satisfied("default/web")
    expectations.creation_observed("default/web")
    assert expectations.satisfied("default/web")
    expectations.expect_deletions("default/web", 1)
    clock.now = 300.0
    assert not expectations.satisfied("default/web")        # exactly 5 minutes is not yet expired
    clock.now = 300.5
    assert expectations.satisfied("default/web")
    expectations.delete("default/web")
    assert expectations.get("default/web") is None


def test_uid_tracking_counts_each_deleted_pod_once():
    expectations = cu.UIDTrackingControllerExpectations(Clock())
    expectations.expect_deletions("default/web", ["default/a", "default/b"])
    expectations.deletion_observed("default/web", "default/a")
    expectations.deletion_observed("default/web", "default/a")   # a repeat (update then delete) counts once
    assert not expectations.satisfied("default/web")
    expectations.deletion_observed("default/web", "default/other")
    assert not expectations.satisfied("default/web")
    expectations.deletion_observed("default/web", "default/b")
    assert expectations.satisfied("default/web")


# -- predicates and ranking ------------------------------------------------------------

def test_available_needs_ready_for_more_than_min_ready_seconds():
    ready = pod("a", ready=True, ready_since=10)
    assert cu.is_pod_available(ready, 0, 10)
    assert not cu.is_pod_available(ready, 5, 15)
    assert cu.is_pod_available(ready, 5, 15.5)
    assert not cu.is_pod_available(pod("b", ready=False), 0, 100)


def test_active_excludes_finished_and_deleting_pods():
    pods = [pod("a"), pod("b", phase="Succeeded"), pod("c", phase="Failed"), pod("d", deleting=True)]
    assert [p["metadata"]["name"] for p in cu.filter_active_pods(pods)] == ["a"]


def names(pods):
    return [p["metadata"]["name"] for p in pods]


def test_deletion_order_unassigned_pending_unknown_notready_then_newest():
    pods = [
        pod("old-ready", node="n1", ready=True, ready_since=10, created=0),
        pod("unassigned", phase="Pending"),
        pod("pending", node="n1", phase="Pending"),
        pod("unknown", node="n1", phase="Unknown"),
        pod("not-ready", node="n1", ready=False, created=5),
        pod("new-ready", node="n1", ready=True, ready_since=3000, created=2990),
    ]
    ordered = cu.sort_active_pods_with_ranks(pods, [0] * len(pods), now=4000.0)
    assert names(ordered) == ["unassigned", "pending", "unknown", "not-ready", "new-ready", "old-ready"]


def test_doubled_up_pods_and_restarts_and_deletion_cost_order():
    a = pod("a", node="n1", ready=True, ready_since=10)
    b = pod("b", node="n2", ready=True, ready_since=10)
    ranks = cu.ranks_by_related_pods_on_same_node([a, b], [a, b, pod("c", node="n2")])
    assert ranks == [1, 2]
    assert names(cu.sort_active_pods_with_ranks([a, b], ranks, now=100.0)) == ["b", "a"]
    crashy = pod("crashy", node="n1", ready=True, ready_since=10, restarts=4)
    assert names(cu.sort_active_pods_with_ranks([a, crashy], [0, 0], now=100.0)) == ["crashy", "a"]
    cheap = pod("cheap", node="n1", ready=True, ready_since=10)
    cheap["metadata"]["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": "-5"}
    assert names(cu.sort_active_pods_with_ranks([crashy, cheap], [0, 0], now=100.0)) == ["cheap", "crashy"]


def test_logarithmic_scale_down_buckets_ages_by_powers_of_two():
    # ready for 1000 s and 1050 s: the same log2(nanoseconds) bucket, so the uid decides
    x = pod("x", node="n1", ready=True, ready_since=3000, uid="b")
    y = pod("y", node="n1", ready=True, ready_since=2950, uid="a")
    assert names(cu.sort_active_pods_with_ranks([x, y], [0, 0], now=4000.0)) == ["y", "x"]
    assert names(cu.sort_active_pods_with_ranks([y, x], [0, 0], now=None)) == ["x", "y"]   # plain newer-first


# -- slow start ------------------------------------------------------------------------

def test_slow_start_batches_double_and_stop_at_a_failing_batch():
    calls = []

    def ok():
        calls.append(1)
    assert cu.slow_start_batch(10, cu.SLOW_START_INITIAL_BATCH_SIZE, ok) == (10, None)
    assert len(calls) == 10

    attempts = []

    def fail_after_three():
        attempts.append(1)
        if len(attempts) > 3:
            raise RuntimeError("quota")
    successes, error = cu.slow_start_batch(10, 1, fail_after_three)
    # batches 1, 2, then 4 (which fails): 7 attempts, 3 successes
    assert (successes, len(attempts), str(error)) == (3, 7, "quota")
    assert cu.slow_start_batch(0, 1, ok) == (0, None)


# -- hashing ------------------------------------------------------------------------------

def test_fnv32a_and_safe_encoding():
    assert cu.fnv32a(b"") == 0x811C9DC5
    assert cu.fnv32a(b"a") == 0xE40C292C
    assert set(cu.safe_encode_string("1234567890")) <= set("bcdfghjklmnpqrstvwxz2456789")
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    first = cu.compute_hash(template, None)
    assert first == cu.compute_hash(template, None)
    assert first != cu.compute_hash(template, 1)
    other = {**template, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}
    assert first != cu.compute_hash(other, None)


def test_pod_from_template_is_named_after_and_owned_by_the_controller():
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "web-5d8f7", "namespace": "default", "uid": "rs-uid"}}
    template = {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    made = cu.pod_from_template(template, rs, owner_reference(rs))
    assert made["metadata"]["generateName"] == "web-5d8f7-"
    assert made["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                    "name": "web-5d8f7", "uid": "rs-uid", "controller": True,
                                                    "blockOwnerDeletion": True}]
    assert made["metadata"]["labels"] == {"app": "web"} and made["spec"] == template["spec"]
    assert made["spec"] is not template["spec"]


# -- claiming ---------------------------------------------------------------------------

RS = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
      "metadata": {"name": "web", "namespace": "default", "uid": "rs-uid"}}


def test_claim_decisions():
    ours = owner_reference(RS)
    theirs = dict(ours, uid="other")
    assert claim_decision(RS, pod("a", owner=ours), True) == CLAIM
    assert claim_decision(RS, pod("a", owner=ours), False) == RELEASE
    assert claim_decision(RS, pod("a", owner=theirs), True) == IGNORE
    assert claim_decision(RS, pod("a"), True) == ADOPT
    assert claim_decision(RS, pod("a"), False) == IGNORE
    assert claim_decision(RS, pod("a", deleting=True), True) == IGNORE
    deleting = {**RS, "metadata": {**RS["metadata"], "deletionTimestamp": timestamp(5)}}
    assert claim_decision(deleting, pod("a"), True) == IGNORE
    assert claim_decision(deleting, pod("a", owner=ours), False) == IGNORE
    elsewhere = pod("a")
    elsewhere["metadata"]["namespace"] = "other"
    assert claim_decision(RS, elsewhere, True) == IGNORE


@pytest.fixture
def cluster():
    cluster = engine.Cluster(nodes=0, seed=1, components=[])
    cluster.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
    return cluster


def bare_pod(name, labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_ref_manager_adopts_orphans_and_releases_strays_through_the_api(cluster):
    rs = cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                                 "template": {"metadata": {"labels": {"app": "web"}},
                                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    orphan = cluster.apply(bare_pod("orphan", {"app": "web"}))
    stray = bare_pod("stray", {"app": "db"})
    stray["metadata"]["ownerReferences"] = [owner_reference(rs)]
    stray = cluster.apply(stray)
    client = cluster.client("system:serviceaccount:kube-system:replicaset-controller")
    manager = ControllerRefManager(client, rs, from_label_selector(rs["spec"]["selector"]), "pods", "replicasets")
    claimed = manager.claim([orphan, stray])
    assert names(claimed) == ["orphan"]
    assert cluster.get("pod", "orphan")["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert not cluster.get("pod", "stray")["metadata"].get("ownerReferences")


def test_pod_control_creates_with_events_and_reports_failures(cluster):
    rs = cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
                        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                                 "template": {"metadata": {"labels": {"app": "web"}},
                                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    client = cluster.client("system:serviceaccount:kube-system:replicaset-controller")
    control = cu.PodControl(client, EventRecorder(client, "replicaset-controller"))
    created = control.create_pods("default", rs["spec"]["template"], rs, owner_reference(rs))
    assert created["metadata"]["name"].startswith("web-")
    control.delete_pod("default", created["metadata"]["name"], rs)
    with pytest.raises(engine.ApiError):
        control.delete_pod("default", created["metadata"]["name"] + "x", rs)
    bad = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}   # no image
    with pytest.raises(engine.ApiError):
        control.create_pods("default", bad, rs, owner_reference(rs))
    cluster.run(1)
    events = {(e["reason"], e["message"].split(":")[0]) for e in cluster.list("events")}
    assert ("SuccessfulCreate", "Created pod") in events
    assert ("SuccessfulDelete", "Deleted pod") in events
    assert ("FailedCreate", "Error creating") in events
