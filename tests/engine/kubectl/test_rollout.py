"""``kubectl rollout``: history and undo from hand-made ReplicaSets, status from the status fields."""

from __future__ import annotations

import pytest

import engine
from engine.api.meta import owner_reference
from engine.kubectl.rollout import status_message


def template(image: str, extra: dict | None = None) -> dict:
    labels = {"app": "web", **(extra or {})}
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": image}]}}


@pytest.fixture
def web(cluster: engine.Cluster) -> engine.Cluster:
    """Deployment web at nginx:1.27 with three ReplicaSets: revisions 1 (1.25), 2 (1.26) and 3 (1.27)."""
    deployment = cluster.admin.create({"apiVersion": "apps/v1", "kind": "Deployment",
                                       "metadata": {"name": "web", "namespace": "default"},
                                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                                "template": template("nginx:1.27")}})
    causes = {1: None, 2: "kubectl set image deployment/web nginx=nginx:1.26", 3: None}
    for revision, image in ((1, "nginx:1.25"), (2, "nginx:1.26"), (3, "nginx:1.27")):
        annotations = {"deployment.kubernetes.io/revision": str(revision)}
        if causes[revision]:
            annotations["kubernetes.io/change-cause"] = causes[revision]
        cluster.admin.create({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"web-{revision}abc", "namespace": "default", "annotations": annotations,
                         "labels": {"app": "web", "pod-template-hash": f"{revision}abc"},
                         "ownerReferences": [owner_reference(deployment)]},
            "spec": {"replicas": 2 if revision == 3 else 0,
                     "selector": {"matchLabels": {"app": "web", "pod-template-hash": f"{revision}abc"}},
                     "template": template(image, {"pod-template-hash": f"{revision}abc"})}})
    return cluster


def test_history_lists_the_owned_replicasets_revisions(web: engine.Cluster) -> None:
    assert web.kubectl("rollout history deployment/web") == """\
deployment.apps/web\x20
REVISION  CHANGE-CAUSE
1         <none>
2         kubectl set image deployment/web nginx=nginx:1.26
3         <none>

"""


def test_history_of_one_revision_shows_its_pod_template(web: engine.Cluster) -> None:
    assert web.kubectl("rollout history deploy web --revision=1") == """\
deployment.apps/web with revision #1
Pod Template:
  Labels:\tapp=web
\tpod-template-hash=1abc
  Containers:
   nginx:
    Image:\tnginx:1.25
    Port:\t<none>
    Host Port:\t<none>
    Environment:\t<none>
    Mounts:\t<none>
  Volumes:\t<none>
  Node-Selectors:\t<none>
  Tolerations:\t<none>

"""


def test_undo_copies_the_previous_template_back(web: engine.Cluster) -> None:
    assert web.kubectl("rollout undo deployment/web") == "deployment.apps/web rolled back\n"
    deployment = web.get("deploy", "web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    assert deployment["metadata"]["annotations"]["kubernetes.io/change-cause"] == \
        "kubectl set image deployment/web nginx=nginx:1.26"


def test_undo_to_a_revision(web: engine.Cluster) -> None:
    assert web.kubectl("rollout undo deployment/web --to-revision=1") == "deployment.apps/web rolled back\n"
    assert web.get("deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert web.kubectl("rollout undo deployment/web --to-revision=1") == \
        "deployment.apps/web skipped rollback (current template already matches revision 1)\n"
    assert web.kubectl("rollout undo deployment/web --to-revision=9") == \
        "error: unable to find specified revision 9 in history\n"


def test_undo_without_history(cluster: engine.Cluster) -> None:
    cluster.kubectl("create deployment lone --image=nginx")
    assert cluster.kubectl("rollout undo deploy/lone") == 'error: no rollout history found for deployment "lone"\n'


def test_restart_pause_resume(web: engine.Cluster) -> None:
    web.run(5)
    assert web.kubectl("rollout restart deployment/web") == "deployment.apps/web restarted\n"
    annotations = web.get("deploy", "web")["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:06Z"}
    assert web.kubectl("rollout pause deployment/web") == "deployment.apps/web paused\n"
    assert web.kubectl("rollout pause deployment/web") == 'error: deployments.apps "web" is already paused\n'
    assert web.kubectl("rollout undo deployment/web") == (
        "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try "
        "again\n")
    assert web.kubectl("rollout restart deployment/web") == (
        'error: deployments.apps "web" can\'t restart paused deployment (run rollout resume first)\n')
    assert web.kubectl("rollout resume deployment/web") == "deployment.apps/web resumed\n"
    assert web.kubectl("rollout resume deployment/web") == 'error: deployments.apps "web" is not paused\n'


def deployment(desired: int, generation: int = 1, **status: int) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": desired}, "status": {"observedGeneration": 1, **status}}


@pytest.mark.parametrize("obj, message, done", [
    pytest.param(deployment(3, generation=2), "Waiting for deployment spec update to be observed...", False,
                 id="a spec change not yet observed by the controller"),
    pytest.param(deployment(3, updatedReplicas=1, replicas=3), 'Waiting for deployment "web" rollout to finish: '
                 "1 out of 3 new replicas have been updated...", False, id="new replicas still being created"),
    pytest.param(deployment(3, updatedReplicas=3, replicas=4), 'Waiting for deployment "web" rollout to finish: '
                 "1 old replicas are pending termination...", False, id="old replicas still running"),
    pytest.param(deployment(3, updatedReplicas=3, replicas=3, availableReplicas=1),
                 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...', False,
                 id="updated replicas not yet available"),
    pytest.param(deployment(3, updatedReplicas=3, replicas=3, availableReplicas=3),
                 'deployment "web" successfully rolled out', True, id="every replica updated and available"),
    pytest.param({"kind": "DaemonSet", "metadata": {"name": "proxy", "generation": 1},
                  "spec": {"updateStrategy": {"type": "RollingUpdate"}},
                  "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                             "numberAvailable": 2}},
                 'Waiting for daemon set "proxy" rollout to finish: 2 of 3 updated pods are available...', False,
                 id="a daemon set waits for available pods"),
    pytest.param({"kind": "StatefulSet", "metadata": {"name": "db", "generation": 1},
                  "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                  "status": {"observedGeneration": 1, "readyReplicas": 1}},
                 "Waiting for 2 pods to be ready...", False, id="a stateful set waits for ready pods"),
])
def test_status_messages(obj: dict, message: str, done: bool) -> None:
    assert status_message(obj) == (message, done)


def test_rollout_status_reads_the_live_object(cluster: engine.Cluster) -> None:
    cluster.kubectl("create deployment web --image=nginx --replicas=2")
    assert cluster.kubectl("rollout status deployment/web") == \
        "Waiting for deployment spec update to be observed...\n"
    live = cluster.get("deploy", "web")
    live["status"] = {"observedGeneration": live["metadata"]["generation"], "replicas": 2, "updatedReplicas": 2,
                      "availableReplicas": 2, "readyReplicas": 2}
    cluster.admin.update_status(live)
    assert cluster.kubectl("rollout status deployment/web") == 'deployment "web" successfully rolled out\n'


def test_daemonset_history_and_undo_use_controller_revisions(cluster: engine.Cluster) -> None:
    def template(image: str) -> dict:
        return {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": image}]}}

    daemon = cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent:2")}})
    # As the DaemonSet controller saves them: the live (defaulted) template for the current revision.
    saved = {1: template("agent:1"), 2: daemon["spec"]["template"]}
    for revision, saved_template in saved.items():
        cluster.admin.create({"apiVersion": "apps/v1", "kind": "ControllerRevision",
                              "metadata": {"name": f"agent-{revision}", "namespace": "default",
                                           "labels": {"app": "agent"},
                                           "ownerReferences": [owner_reference(daemon)]},
                              "revision": revision,
                              "data": {"spec": {"template": dict(saved_template, **{"$patch": "replace"})}}})
    assert cluster.kubectl("rollout history ds/agent") == """\
daemonset.apps/agent\x20
REVISION  CHANGE-CAUSE
1         <none>
2         <none>

"""
    assert cluster.kubectl("rollout undo ds/agent --to-revision=2") == \
        "daemonset.apps/agent skipped rollback (current template already matches revision 2)\n"
    assert cluster.kubectl("rollout undo ds/agent") == "daemonset.apps/agent rolled back\n"
    assert cluster.get("ds", "agent")["spec"]["template"]["spec"]["containers"][0]["image"] == "agent:1"
