"""The kubelet's pod status: getPhase for each restart policy, container states, conditions."""

from __future__ import annotations

import pytest

from engine.kubelet.status import RuntimePodStatus, generate_api_pod_status, pod_phase
from engine.runtime import cri


def running(name: str) -> dict:
    return {"name": name, "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}, "ready": True}


def terminated(name: str, code: int) -> dict:
    return {"name": name, "state": {"terminated": {"exitCode": code}}}


def waiting(name: str, reason: str = "ContainerCreating", last_code: int | None = None) -> dict:
    status = {"name": name, "state": {"waiting": {"reason": reason}}}
    if last_code is not None:
        status["lastState"] = {"terminated": {"exitCode": last_code}}
    return status


def spec(policy: str = "Always", containers=("a",), inits=()) -> dict:
    return {"restartPolicy": policy, "containers": [{"name": n} for n in containers],
            "initContainers": [{"name": n} for n in inits]}


@pytest.mark.parametrize("pod_spec, inits, statuses, phase", [
    (spec(), [], [waiting("a")], "Pending"),
    (spec(), [], [running("a")], "Running"),
    (spec(containers=("a", "b")), [], [running("a"), waiting("b")], "Pending"),
    (spec("Always"), [], [terminated("a", 0)], "Running"),
    (spec("Always"), [], [waiting("a", "CrashLoopBackOff", 1)], "Running"),
    (spec("OnFailure"), [], [terminated("a", 0)], "Succeeded"),
    (spec("OnFailure"), [], [terminated("a", 1)], "Running"),
    (spec("Never"), [], [terminated("a", 1)], "Failed"),
    (spec("Never"), [], [terminated("a", 0)], "Succeeded"),
    (spec("Never", containers=("a", "b")), [], [terminated("a", 0), running("b")], "Running"),
    (spec(inits=("i",)), [running("i")], [waiting("a", "PodInitializing")], "Pending"),
    (spec("Never", inits=("i",)), [terminated("i", 1)], [waiting("a", "PodInitializing")], "Failed"),
    (spec("Always", inits=("i",)), [waiting("i", "CrashLoopBackOff", 1)], [waiting("a", "PodInitializing")],
     "Pending"),
    (spec(), [], [], "Pending"),
], ids=[
    "a container still being created keeps the pod Pending",
    "a running container makes the pod Running",
    "one container not yet started keeps the pod Pending",
    "Always: an exited container is about to restart, the pod stays Running",
    "Always: a container in CrashLoopBackOff leaves the pod Running",
    "OnFailure: success completes the pod",
    "OnFailure: a failure will be restarted, the pod stays Running",
    "Never: a failure fails the pod",
    "Never: success completes the pod",
    "Never: a pod is Running while any container runs",
    "a running init container keeps the pod Pending",
    "Never: a failed init container fails the pod",
    "Always: a crash-looping init container keeps the pod Pending",
    "no statuses at all is Pending",
])
def test_pod_phase_follows_get_phase(pod_spec, inits, statuses, phase):
    assert pod_phase(pod_spec, inits, statuses) == phase


def test_a_terminal_pod_is_succeeded_only_when_every_container_exited_zero():
    assert pod_phase(spec("Always"), [], [terminated("a", 0)], True) == "Succeeded"
    assert pod_phase(spec("Always"), [], [terminated("a", 143)], True) == "Failed"


def _container(cid: str, name: str, state: str, exit_code: int = 0, restarts: int = 0, at: int = 1) -> cri.ContainerStatus:
    return cri.ContainerStatus(cid, cri.ContainerMetadata(name, restarts), state, at * 10**9, at * 10**9,
                               (at + 1) * 10**9 if state == cri.CONTAINER_EXITED else 0, exit_code,
                               "docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:1",
                               reason="Error" if exit_code else "Completed",
                               labels={"io.kubernetes.container.name": name},
                               annotations={"io.kubernetes.container.restartCount": str(restarts)})


def test_a_crash_looping_container_is_waiting_with_its_last_run_in_last_state():
    pod = {"metadata": {"uid": "u"}, "spec": spec("Always"), "status": {}}
    runtime = RuntimePodStatus("u", [], [_container("c2", "a", cri.CONTAINER_EXITED, 1, 2, at=20),
                                         _container("c1", "a", cri.CONTAINER_EXITED, 1, 1, at=10)])
    reasons = {"a": ("CrashLoopBackOff", "back-off 20s restarting failed container=a pod=p_default(u)")}
    status = generate_api_pod_status(pod, runtime, reasons, host_ip="172.18.0.3", now=30)
    a = status["containerStatuses"][0]
    assert a["state"] == {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": "back-off 20s restarting failed container=a pod=p_default(u)"}}
    assert a["lastState"]["terminated"]["containerID"] == "containerd://c2"
    assert a["restartCount"] == 2 and a["ready"] is False
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady" and ready["message"] == "containers with unready status: [a]"
    assert status["phase"] == "Running"


def test_a_container_that_will_not_restart_stays_terminated():
    pod = {"metadata": {"uid": "u"}, "spec": spec("Never"), "status": {}}
    runtime = RuntimePodStatus("u", [], [_container("c1", "a", cri.CONTAINER_EXITED, 1, 0)])
    status = generate_api_pod_status(pod, runtime, {"a": ("CrashLoopBackOff", "")}, host_ip="h", now=0)
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1
    assert status["phase"] == "Failed"
