"""The CRI tap records the calls a kubelet makes for a pod, in order, and draws them without changing anything."""

from __future__ import annotations

import engine
from engine.viz.cri_calls import CRITap, cri_sequence


def _node() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)


def _pod(name: str, image: str = "nginx:1.27", init: bool = False) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": image}]}
    if init:
        spec["initContainers"] = [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "sleep 1"]}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def test_starting_a_pod_is_sandbox_then_pull_then_create_and_start() -> None:
    c = _node()
    tap = CRITap(c, "node-1")
    c.apply(_pod("web"))
    c.run(6)
    assert [(call.service, call.call) for call in tap.calls] == [
        ("RuntimeService", "RunPodSandbox"), ("ImageService", "PullImage"),
        ("RuntimeService", "CreateContainer"), ("RuntimeService", "StartContainer")]
    assert tap.calls[0].about == "web (sandbox, attempt 0)" and tap.calls[1].about == "nginx:1.27"
    assert tap.calls[3].about == "app"                 # the id is shown by the container's name
    assert tap.calls[1].time < tap.calls[2].time       # the pull takes time
    assert tap.reads["ListContainers"] > 0 and tap.since(tap.calls[2].time) == tap.calls[2:]
    assert c.get("pod", "web")["status"]["phase"] == "Running"       # the tap changed nothing


def test_an_init_container_runs_to_its_end_before_the_app_container_is_created() -> None:
    c = _node()
    tap = CRITap(c, "node-1")
    c.apply(_pod("init", init=True))
    c.run(10)
    created = [call.about for call in tap.calls if call.call == "CreateContainer"]
    assert created == ["setup (attempt 0)", "app (attempt 0)"]
    setup_started = next(call.time for call in tap.calls if call.call == "StartContainer" and call.about == "setup")
    app_created = next(call.time for call in tap.calls if call.about == "app (attempt 0)")
    assert app_created >= setup_started + 1


def test_the_sequence_diagram_numbers_each_call_and_is_deterministic() -> None:
    c = _node()
    tap = CRITap(c, "node-1")
    c.apply(_pod("web"))
    c.run(6)
    source = cri_sequence(tap.calls, "web").source
    assert "1. RunPodSandbox" in source and "2. PullImage" in source and "4. StartContainer" in source
    assert "kubelet -> RuntimeService" in source and "kubelet -> ImageService" in source
    assert "RuntimeService -> runc" in source
    assert source == cri_sequence(list(tap.calls), "web").source
