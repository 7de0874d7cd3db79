"""ReplicationControllers on a whole cluster: the ReplicaSet controller's code run over core/v1 RCs."""

from __future__ import annotations

import pytest

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

COMPONENTS_WITH_NODES = [spec for spec in COMPONENTS if spec.name != "kubelet"] + [SCHEDULER, KUBELET]

# The docs' example (concepts/workloads/controllers/replicationcontroller), without a selector: defaulting
# copies the template's labels into spec.selector and metadata.labels.
NGINX_RC = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "nginx"},
            "spec": {"replicas": 3,
                     "template": {"metadata": {"name": "nginx", "labels": {"app": "nginx"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                           "ports": [{"containerPort": 80}]}]}}}}


def live_pods(c: engine.Cluster) -> list[dict]:
    return [p for p in c.list("pods", selector="app=nginx") if not p["metadata"].get("deletionTimestamp")]


@pytest.fixture
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=2, seed=0, components=COMPONENTS_WITH_NODES)
    c.apply(NGINX_RC)
    c.run(5)
    return c


def test_the_docs_rc_is_defaulted_runs_three_pods_and_reports_status(cluster):
    c = cluster
    rc = c.get("rc", "nginx")
    assert rc["spec"]["selector"] == {"app": "nginx"} and rc["metadata"]["labels"] == {"app": "nginx"}
    assert rc["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                            "observedGeneration": 1}
    pods = live_pods(c)
    assert len(pods) == 3
    for pod in pods:
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["apiVersion"], ref["kind"], ref["name"], ref["controller"]) == (
            "v1", "ReplicationController", "nginx", True)
    events = [(e["source"].get("component"), e["reason"]) for e in c.list("events")
              if e["involvedObject"]["kind"] == "ReplicationController"]
    assert events == [("replication-controller", "SuccessfulCreate")] * 3


def test_kubectl_get_describe_and_scale(cluster):
    c = cluster
    lines = c.kubectl("get rc -o wide").splitlines()
    assert lines[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert lines[1].split()[:4] == ["nginx", "3", "3", "3"] and lines[1].split()[-1] == "app=nginx"
    text = c.kubectl("describe rc nginx")
    assert "Selector:     app=nginx" in text
    assert "Replicas:     3 current / 3 desired" in text
    assert "Pods Status:  3 Running / 0 Waiting / 0 Succeeded / 0 Failed" in text
    assert "SuccessfulCreate" in text
    assert c.kubectl("scale rc nginx --replicas=1") == "replicationcontroller/nginx scaled\n"
    scale = c.admin.get("replicationcontrollers", "nginx", "default", subresource="scale")
    assert scale["spec"]["replicas"] == 1 and scale["status"]["selector"] == "app=nginx"
    c.run(5)
    assert len(live_pods(c)) == 1
    assert c.get("rc", "nginx")["status"]["replicas"] == 1


def test_a_deleted_pod_is_replaced_and_deleting_the_rc_removes_its_pods(cluster):
    c = cluster
    victim = live_pods(c)[0]["metadata"]["name"]
    c.delete("pod", victim)
    c.run(5)
    names = [p["metadata"]["name"] for p in live_pods(c)]
    assert len(names) == 3 and victim not in names
    c.delete("rc", "nginx")
    c.run(60)
    assert live_pods(c) == []


def test_a_selector_that_does_not_match_the_template_is_rejected():
    c = engine.Cluster(nodes=0, seed=0)
    bad = {**NGINX_RC, "spec": {**NGINX_RC["spec"], "selector": {"app": "other"}}}
    with pytest.raises(engine.ApiError) as error:
        c.apply(bad)
    assert "spec.template.metadata.labels" in str(error.value)
    assert "`selector` does not match template `labels`" in str(error.value)
