"""The ReplicaSet controller on a whole cluster: scaling, replacement, adoption, release, expectations."""

from __future__ import annotations

import engine


def cluster(**options) -> engine.Cluster:
    return engine.Cluster(nodes=3, seed=0, **options)


def replicaset(replicas: int, name: str = "web", **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}, **spec}}


def pods(c: engine.Cluster, selector: str = "app=web") -> list[dict]:
    return [p for p in c.list("pods", selector=selector) if not p["metadata"].get("deletionTimestamp")]


def events(c: engine.Cluster, name: str = "web") -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in c.list("events") if e["involvedObject"]["name"] == name]


def test_scale_up_and_down_with_status_and_events():
    c = cluster()
    c.apply(replicaset(3))
    c.run(5)
    assert len(pods(c)) == 3
    status = c.get("rs", "web")["status"]
    assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                      "observedGeneration": 1}
    created = [m for r, m in events(c) if r == "SuccessfulCreate"]
    assert sorted(created) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods(c))
    for p in pods(c):
        ref = p["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == (
            "ReplicaSet", "web", True, True)
        assert p["metadata"]["generateName"] == "web-"
    c.kubectl("scale rs web --replicas=1")
    c.run(5)
    assert len(pods(c)) == 1
    assert [r for r, _ in events(c)].count("SuccessfulDelete") == 2
    assert c.get("rs", "web")["status"]["observedGeneration"] == 2
    assert c.kubectl("get rs web").splitlines()[1].split()[:4] == ["web", "1", "1", "1"]


def test_a_deleted_pod_is_replaced_and_never_double_created_from_a_lagging_cache():
    c = cluster(watch_delay=0.5)        # a slow watch: the cache lags every write by half a second
    c.apply(replicaset(4))
    c.run(10)
    assert len(c.list("pods")) == 4
    victim = pods(c)[0]["metadata"]["name"]
    c.delete("pod", victim)
    c.run(10)
    names = [p["metadata"]["name"] for p in pods(c)]
    assert len(names) == 4 and victim not in names
    assert [r for r, _ in events(c)].count("SuccessfulCreate") == 5


def test_orphans_are_adopted_and_pods_whose_labels_change_are_released():
    c = cluster()
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "handmade", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    c.apply(orphan)
    c.apply(replicaset(2))
    c.run(5)
    names = sorted(p["metadata"]["name"] for p in pods(c))
    assert "handmade" in names and len(names) == 2
    assert c.get("pod", "handmade")["metadata"]["ownerReferences"][0]["name"] == "web"
    c.kubectl("label pod handmade app=debug --overwrite")
    c.run(5)
    assert not c.get("pod", "handmade")["metadata"].get("ownerReferences")
    assert len(pods(c)) == 2 and "handmade" not in [p["metadata"]["name"] for p in pods(c)]


def test_available_replicas_wait_for_min_ready_seconds():
    c = cluster()
    c.apply(replicaset(2, minReadySeconds=10))
    c.run(4)
    status = c.get("rs", "web")["status"]
    assert status["readyReplicas"] == 2 and "availableReplicas" not in status
    c.run(10)
    assert c.get("rs", "web")["status"]["availableReplicas"] == 2


def test_a_failing_create_is_one_call_per_batch_and_sets_replica_failure():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "few"},
             "spec": {"hard": {"pods": "2"}}})
    c.run(1)
    c.apply(replicaset(10))
    c.run(3)
    assert len(c.list("pods")) == 2
    status = c.get("rs", "web")["status"]
    failure = [cond for cond in status.get("conditions", []) if cond["type"] == "ReplicaFailure"]
    assert failure and failure[0]["reason"] == "FailedCreate"
    assert "exceeded quota" in failure[0]["message"]
    failed = [m for r, m in events(c) if r == "FailedCreate"]
    assert failed and failed[0].startswith("Error creating: pods ") and "exceeded quota: few" in failed[0]
