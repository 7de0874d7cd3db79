"""The real ``kubectl rollout status / history / undo`` against a served cluster whose pods really run.

The default cluster runs the kube-scheduler and kubelets, so a Deployment's pods start, turn Ready and
count as available; the served cluster's virtual time follows the wall clock, so ``rollout status``
watches the rollout progress and prints kubectl's own "Waiting for deployment ..." lines.
"""

from __future__ import annotations

import re

import pytest

from engine.cluster import Cluster
from kubectl_tool import Kubectl, needs_kubectl

pytestmark = needs_kubectl

WAITING = re.compile(r'Waiting for deployment "web" rollout to finish: (\d+ of 3 updated replicas are available'
                     r'|\d+ out of 3 new replicas have been updated|\d+ old replicas are pending termination)\.\.\.')


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster(nodes=2, seed=0)


def _status(kubectl: Kubectl) -> list[str]:
    lines = kubectl("rollout", "status", "deployment/web", "--timeout=90s").stdout.strip().splitlines()
    assert lines[-1] == 'deployment "web" successfully rolled out'
    assert all(WAITING.fullmatch(line) for line in lines[:-1]), lines
    return lines[:-1]


def _history(kubectl: Kubectl) -> list[list[str]]:
    lines = kubectl("rollout", "history", "deployment/web").stdout.strip().splitlines()
    assert lines[0].strip() == "deployment.apps/web"
    assert lines[1].split() == ["REVISION", "CHANGE-CAUSE"]
    return [line.split(None, 1) for line in lines[2:]]


@pytest.fixture(scope="module")
def rolled_out(kubectl: Kubectl) -> list[str]:
    kubectl("create", "deployment", "web", "--image=nginx:1.14.2", "--replicas=3")
    return _status(kubectl)


def test_rollout_status_waits_until_every_replica_is_available(rolled_out: list[str], cluster: Cluster) -> None:
    assert rolled_out and "of 3 updated replicas are available" in rolled_out[0]
    status = cluster.get("deploy", "web")["status"]
    assert status["availableReplicas"] == status["updatedReplicas"] == 3


def test_set_image_rolls_out_a_second_revision_with_its_change_cause(rolled_out: list[str], kubectl: Kubectl,
                                                                      cluster: Cluster) -> None:
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.16.1")
    kubectl("annotate", "deployment/web", "kubernetes.io/change-cause=image updated to 1.16.1")
    waiting = _status(kubectl)
    assert waiting, "rollout status printed no progress while the new ReplicaSet scaled up"
    assert _history(kubectl) == [["1", "<none>"], ["2", "image updated to 1.16.1"]]
    pods = cluster.list("pods", selector="app=web")
    running = [p for p in pods if p["status"].get("phase") == "Running" and "deletionTimestamp" not in p["metadata"]]
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"nginx:1.16.1"}


def test_rollout_undo_goes_back_to_the_previous_template_as_a_new_revision(rolled_out: list[str], kubectl: Kubectl,
                                                                            cluster: Cluster) -> None:
    if len(_history(kubectl)) < 2:
        pytest.skip("needs the set-image rollout of the previous test")
    assert kubectl("rollout", "undo", "deployment/web").stdout.strip() == "deployment.apps/web rolled back"
    _status(kubectl)
    deployment = cluster.get("deploy", "web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14.2"
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert [row[0] for row in _history(kubectl)] == ["2", "3"]
    assert kubectl("rollout", "history", "deployment/web", "--revision=3", "-o",
                   "jsonpath={.spec.template.spec.containers[0].image}").stdout == "nginx:1.14.2"
