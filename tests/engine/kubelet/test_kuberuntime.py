"""computePodActions: what SyncPod does next for a pod, from the runtime's view of it."""

from __future__ import annotations

import pytest

from engine.kubelet.kuberuntime import compute_pod_actions, go_duration
from engine.kubelet.status import RuntimePodStatus
from engine.runtime import cri


def pod(policy: str = "Always", inits=(), containers=("a",)) -> dict:
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"restartPolicy": policy, "initContainers": [{"name": n} for n in inits],
                     "containers": [{"name": n} for n in containers]}}


def sandbox(state: str = cri.SANDBOX_READY, attempt: int = 0) -> cri.PodSandboxStatus:
    return cri.PodSandboxStatus("s", cri.PodSandboxMetadata("p", "default", "u", attempt), state, 1)


def container(name: str, state: str, exit_code: int = 0, cid: str | None = None) -> cri.ContainerStatus:
    return cri.ContainerStatus(cid or f"id-{name}", cri.ContainerMetadata(name), state, 1, 1, 2, exit_code, "img", "ref",
                               labels={"io.kubernetes.container.name": name})


def test_a_new_pod_gets_a_sandbox_and_all_its_containers():
    actions = compute_pod_actions(pod(containers=("a", "b")), RuntimePodStatus("u"))
    assert actions.create_sandbox and actions.attempt == 0
    assert actions.containers_to_start == ["a", "b"]


def test_a_new_pod_with_init_containers_starts_only_the_first_init_container():
    actions = compute_pod_actions(pod(inits=("i1", "i2")), RuntimePodStatus("u"))
    assert actions.next_init_container == "i1" and actions.containers_to_start == []


def test_the_next_init_container_follows_a_successful_one():
    status = RuntimePodStatus("u", [sandbox()], [container("i1", cri.CONTAINER_EXITED, 0)])
    assert compute_pod_actions(pod(inits=("i1", "i2")), status).next_init_container == "i2"


def test_app_containers_start_after_the_last_init_container_succeeded():
    status = RuntimePodStatus("u", [sandbox()], [container("i2", cri.CONTAINER_EXITED, 0),
                                                container("i1", cri.CONTAINER_EXITED, 0)])
    actions = compute_pod_actions(pod(inits=("i1", "i2")), status)
    assert actions.next_init_container is None and actions.containers_to_start == ["a"]


def test_a_failed_init_container_under_never_kills_the_pod():
    status = RuntimePodStatus("u", [sandbox()], [container("i1", cri.CONTAINER_EXITED, 1)])
    assert compute_pod_actions(pod("Never", inits=("i1",)), status).kill_pod


def test_a_dead_sandbox_is_replaced_with_the_next_attempt():
    status = RuntimePodStatus("u", [sandbox(cri.SANDBOX_NOTREADY, 2)], [])
    actions = compute_pod_actions(pod(), status)
    assert actions.create_sandbox and actions.kill_pod and actions.attempt == 3


@pytest.mark.parametrize("policy, exit_code, restart", [
    ("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False), ("OnFailure", 1, True),
    ("Never", 1, False)])
def test_an_exited_container_is_restarted_as_the_restart_policy_says(policy, exit_code, restart):
    status = RuntimePodStatus("u", [sandbox()], [container("a", cri.CONTAINER_EXITED, exit_code)])
    actions = compute_pod_actions(pod(policy), status)
    assert (actions.containers_to_start == ["a"]) is restart
    assert actions.kill_pod is not restart       # nothing left to run: the sandbox goes


def test_a_liveness_failure_kills_and_restarts_the_container():
    status = RuntimePodStatus("u", [sandbox()], [container("a", cri.CONTAINER_RUNNING, cid="c1")])
    actions = compute_pod_actions(pod(), status, {"c1": "liveness"})
    assert actions.containers_to_kill[0].message == "Container a failed liveness probe"
    assert actions.containers_to_start == ["a"] and not actions.kill_pod


def test_a_running_pod_needs_nothing():
    status = RuntimePodStatus("u", [sandbox()], [container("a", cri.CONTAINER_RUNNING)])
    actions = compute_pod_actions(pod(), status)
    assert not (actions.kill_pod or actions.create_sandbox or actions.containers_to_start)


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (0.384, "384ms"), (1.2, "1.2s"), (3.08, "3.08s"), (10, "10s"),
                                           (80, "1m20s"), (300, "5m0s"), (3600, "1h0m0s")])
def test_durations_print_as_go_prints_them(seconds, text):
    assert go_duration(seconds) == text
