"""The Deployment controller on a whole cluster: rollouts within their bounds, Recreate, rollback, pause,
progress deadlines, proportional scaling, history, and kubectl rollout's words."""

from __future__ import annotations

import pytest

import engine

REVISION = "deployment.kubernetes.io/revision"


def cluster(nodes: int = 3) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0)


def deployment(replicas: int = 3, image: str = "nginx:1.14.2", *, strategy: dict | None = None, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": strategy or {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}, **spec}}


def sets(c: engine.Cluster) -> dict[str, dict]:
    return {rs["metadata"]["name"]: rs for rs in c.list("rs")}


def live_pods(c: engine.Cluster) -> list[dict]:
    return [p for p in c.list("pods", selector="app=web") if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict) -> bool:
    return any(cond["type"] == "Ready" and cond["status"] == "True"
               for cond in (pod.get("status") or {}).get("conditions") or [])


def image_of(pod: dict) -> str:
    return pod["spec"]["containers"][0]["image"]


def deployment_events(c: engine.Cluster) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in c.list("events")
            if e["involvedObject"]["kind"] == "Deployment"]


class Sampler:
    """Calls ``check(cluster)`` at every pod and ReplicaSet event the API server delivers."""

    def __init__(self, c: engine.Cluster, check) -> None:
        self.samples = 0

        def on_event(_event: dict) -> None:
            self.samples += 1
            check(c)
        self.watches = [c.admin.watch("pods", on_event, "default"), c.admin.watch("replicasets", on_event, "default")]

    def stop(self) -> None:
        for watch in self.watches:
            watch.stop()


def test_a_new_deployment_creates_its_replica_set_with_hash_revision_and_status():
    c = cluster()
    c.apply(deployment(3))
    c.run(10)
    (name, rs), = sets(c).items()
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert name == f"web-{pod_hash}" and rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["annotations"] == {REVISION: "1", "deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4"}
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    d = c.get("deploy", "web")
    assert d["metadata"]["annotations"][REVISION] == "1"
    status = d["status"]
    assert {k: status.get(k) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                                       "observedGeneration")} == {
        "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 1}
    conditions = {cond["type"]: (cond["status"], cond["reason"], cond["message"]) for cond in status["conditions"]}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        "Progressing": ("True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')}
    assert ("ScalingReplicaSet", f"Scaled up replica set {name} from 0 to 3") in deployment_events(c)
    assert c.kubectl("rollout status deployment/web") == 'deployment "web" successfully rolled out\n'
    assert c.kubectl("get deploy web").splitlines()[1].split()[:4] == ["web", "3/3", "3", "3"]


@pytest.mark.parametrize("replicas, surge, unavailable", [(10, "25%", "25%"), (4, 0, 1), (3, 2, 0)])
def test_a_rolling_update_respects_max_surge_and_max_unavailable_at_every_step(replicas, surge, unavailable):
    c = cluster(nodes=4)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    c.apply(deployment(replicas, strategy=strategy))
    c.run(10)
    d = c.get("deploy", "web")
    max_surge = d["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    resolved_surge = -(-replicas * int(str(max_surge).rstrip("%")) // 100) if isinstance(max_surge, str) else max_surge
    max_unavailable = d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]
    resolved_unavailable = (replicas * int(str(max_unavailable).rstrip("%")) // 100
                            if isinstance(max_unavailable, str) else max_unavailable)
    seen = {"total": 0, "available": replicas}

    def check(cl: engine.Cluster) -> None:
        total = sum(rs["spec"]["replicas"] for rs in cl.list("rs"))
        available = sum(1 for p in live_pods(cl) if ready(p))
        seen["total"] = max(seen["total"], total)
        seen["available"] = min(seen["available"], available)
        assert total <= replicas + resolved_surge
        assert available >= replicas - resolved_unavailable
    sampler = Sampler(c, check)
    c.kubectl("set image deployment/web app=nginx:1.16.1")
    c.run(60)
    sampler.stop()
    assert sampler.samples > 2 * replicas
    assert sorted(image_of(p) for p in live_pods(c)) == ["nginx:1.16.1"] * replicas
    assert seen["total"] == replicas + resolved_surge or resolved_surge == 0
    by_revision = {rs["metadata"]["annotations"][REVISION]: rs["spec"]["replicas"] for rs in sets(c).values()}
    assert by_revision == {"1": 0, "2": replicas}
    assert c.kubectl("rollout status deploy/web") == 'deployment "web" successfully rolled out\n'


def test_recreate_removes_every_old_pod_before_creating_new_ones():
    c = cluster()
    c.apply(deployment(3, strategy={"type": "Recreate"}))
    c.run(10)

    def check(cl: engine.Cluster) -> None:
        images = {image_of(p) for p in cl.list("pods", selector="app=web")}
        assert len(images) <= 1, images                 # old (even terminating) and new never together
    sampler = Sampler(c, check)
    c.kubectl("set image deployment/web app=nginx:1.16.1")
    c.run(30)
    sampler.stop()
    assert sorted(image_of(p) for p in live_pods(c)) == ["nginx:1.16.1"] * 3
    messages = [m for r, m in deployment_events(c) if r == "ScalingReplicaSet"]
    assert messages[-2].startswith("Scaled down replica set web-") and messages[-2].endswith("from 3 to 0")
    assert messages[-1].startswith("Scaled up replica set web-") and messages[-1].endswith("from 0 to 3")


def test_rollback_to_a_revision_with_kubectl_rollout_undo_and_history():
    c = cluster()
    c.apply(deployment(2))
    c.run(10)
    c.kubectl("set image deployment/web app=nginx:1.16.1")
    c.run(20)
    c.kubectl("annotate deployment/web kubernetes.io/change-cause=third")
    c.kubectl("set image deployment/web app=nginx:1.25")
    c.run(20)
    assert c.kubectl("rollout history deployment/web") == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n3         third\n\n")
    assert c.kubectl("rollout undo deployment/web --to-revision=1") == "deployment.apps/web rolled back\n"
    c.run(20)
    assert sorted(image_of(p) for p in live_pods(c)) == ["nginx:1.14.2"] * 2
    revisions = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][REVISION]
                 for rs in sets(c).values()}
    assert revisions == {"nginx:1.14.2": "4", "nginx:1.16.1": "2", "nginx:1.25": "3"}
    assert c.get("deploy", "web")["metadata"]["annotations"][REVISION] == "4"
    c.kubectl("rollout undo deployment/web")              # back to the previous revision: 3
    c.run(20)
    assert sorted(image_of(p) for p in live_pods(c)) == ["nginx:1.25"] * 2
    history = c.kubectl("rollout history deployment/web")
    assert history.splitlines()[2:] == ["2         <none>", "4         <none>", "5         third", ""]


def test_pause_holds_a_rollout_and_resume_continues_it():
    c = cluster()
    c.apply(deployment(2))
    c.run(10)
    assert c.kubectl("rollout pause deployment/web") == "deployment.apps/web paused\n"
    c.kubectl("set image deployment/web app=nginx:1.16.1")
    c.run(10)
    assert len(sets(c)) == 1 and {image_of(p) for p in live_pods(c)} == {"nginx:1.14.2"}
    progressing = [cond for cond in c.get("deploy", "web")["status"]["conditions"] if cond["type"] == "Progressing"]
    assert (progressing[0]["status"], progressing[0]["reason"]) == ("Unknown", "DeploymentPaused")
    c.kubectl("scale deployment/web --replicas=3")         # scaling still works while paused
    c.run(10)
    assert len(live_pods(c)) == 3
    assert c.kubectl("rollout resume deployment/web") == "deployment.apps/web resumed\n"
    c.run(30)
    assert sorted(image_of(p) for p in live_pods(c)) == ["nginx:1.16.1"] * 3


def test_an_image_that_never_pulls_exceeds_the_progress_deadline():
    c = cluster()
    c.apply(deployment(2, progressDeadlineSeconds=30))
    c.run(10)
    c.kubectl("set image deployment/web app=registry.example/does-not-exist:1")
    c.run(20)
    assert "Waiting for deployment \"web\" rollout to finish: 1 out of 2 new replicas have been updated..." \
        in c.kubectl("rollout status deployment/web")
    c.run(30)
    status = c.get("deploy", "web")["status"]
    progressing = next(cond for cond in status["conditions"] if cond["type"] == "Progressing")
    new_rs = next(rs for rs in sets(c).values() if rs["metadata"]["annotations"][REVISION] == "2")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False", "ProgressDeadlineExceeded", f'ReplicaSet "{new_rs["metadata"]["name"]}" has timed out progressing.')
    assert c.kubectl("rollout status deployment/web") == 'error: deployment "web" exceeded its progress deadline\n'
    assert sum(1 for p in live_pods(c) if ready(p)) == 2     # the old pods still serve


def test_scaling_mid_rollout_is_proportional():
    c = cluster(nodes=4)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    c.apply(deployment(10, strategy=strategy))
    c.run(10)
    c.kubectl("set image deployment/web app=registry.example/does-not-exist:1")
    c.run(20)
    sizes = sorted((rs["metadata"]["annotations"][REVISION], rs["spec"]["replicas"]) for rs in sets(c).values())
    assert sizes == [("1", 8), ("2", 5)]                  # stuck: 13 = 10 + 3 pods, 8 = 10 - 2 available
    c.kubectl("scale deployment/web --replicas=15")
    c.run(5)
    sizes = sorted((rs["metadata"]["annotations"][REVISION], rs["spec"]["replicas"]) for rs in sets(c).values())
    # 18 = 15 + 3 allowed, 5 to add: old round(8 * 18 / 13) - 8 = 3, new round(5 * 18 / 13) - 5 = 2
    assert sizes == [("1", 11), ("2", 7)]
    scaled = [m for r, m in deployment_events(c) if r == "ScalingReplicaSet"][-2:]
    assert scaled[0].endswith("from 8 to 11") and scaled[1].endswith("from 5 to 7")


def test_revision_history_limit_deletes_the_oldest_empty_sets():
    c = cluster()
    c.apply(deployment(1, revisionHistoryLimit=1))
    c.run(10)
    for version in ("1.16.1", "1.25", "1.27"):
        c.kubectl(f"set image deployment/web app=nginx:{version}")
        c.run(15)
    revisions = sorted(int(rs["metadata"]["annotations"][REVISION]) for rs in sets(c).values())
    assert revisions == [3, 4]


def test_an_orphaned_replica_set_with_the_same_template_is_adopted_and_a_deleted_pod_is_replaced():
    c = cluster()
    template = deployment(2)["spec"]["template"]
    c.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "handmade", "labels": {"app": "web"}},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template}})
    c.run(5)
    c.apply(deployment(2))
    c.run(5)
    assert list(sets(c)) == ["handmade"]                  # adopted as the new set: no second one
    rs = c.get("rs", "handmade")
    assert rs["metadata"]["ownerReferences"][0]["name"] == "web"
    assert rs["metadata"]["annotations"][REVISION] == "1"
    victim = live_pods(c)[0]["metadata"]["name"]
    c.delete("pod", victim)
    c.run(5)
    assert len(live_pods(c)) == 2 and victim not in [p["metadata"]["name"] for p in live_pods(c)]


def test_rollout_restart_replaces_every_pod_through_a_new_revision():
    c = cluster()
    c.apply(deployment(2))
    c.run(10)
    before = {p["metadata"]["name"] for p in live_pods(c)}
    assert c.kubectl("rollout restart deployment/web") == "deployment.apps/web restarted\n"
    c.run(20)
    after = {p["metadata"]["name"] for p in live_pods(c)}
    assert len(after) == 2 and not before & after
    template = c.get("deploy", "web")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    assert sorted(rs["metadata"]["annotations"][REVISION] for rs in sets(c).values()) == ["1", "2"]
    assert c.kubectl("rollout status deployment/web") == 'deployment "web" successfully rolled out\n'
