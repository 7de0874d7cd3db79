"""The container-runtime lab's checks: right answers pass, typical mistakes are named, delegation earns nothing."""

from __future__ import annotations

import inspect

import pytest

from engine.api.quantity import parse_quantity
from engine.grading import GradingFailure
from engine.grading import runtime as grading_runtime
from engine.grading.runtime import (check_in_kubelet, check_linux_resources, check_pull_policy, check_start_calls,
                                    reference_start_calls)
from engine.runtime.cri import LinuxContainerResources


def cgroups(resources: dict | None, minimum: int = 2) -> LinuxContainerResources:
    resources = resources or {}
    limits = resources.get("limits") or {}
    requests = {**limits, **(resources.get("requests") or {})}
    request = parse_quantity(requests["cpu"]).milli_value() if "cpu" in requests else 0
    limit = parse_quantity(limits["cpu"]).milli_value() if "cpu" in limits else 0
    return LinuxContainerResources(cpu_period=100000 if limit else 0,
                                   cpu_quota=max(limit * 100, 1000) if limit else 0,
                                   cpu_shares=min(max(request * 1024 // 1000, minimum), 262144),
                                   memory_limit_in_bytes=parse_quantity(limits["memory"]).value()
                                   if "memory" in limits else 0)


def default_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    return "Always" if ":" not in last or last.endswith(":latest") else "IfNotPresent"


def decision(policy: str, present: bool) -> str:
    if policy == "Always":
        return "pull"
    if present:
        return "use"
    return "ErrImageNeverPull" if policy == "Never" else "pull"


def _retyped_start_calls():
    namespace = {"default_policy": default_policy, "decide": decision}
    source = (inspect.getsource(reference_start_calls).replace("default_pull_policy", "default_policy")
              .replace("pull_decision", "decide").replace("ERR_IMAGE_NEVER_PULL", "'ErrImageNeverPull'")
              .replace("def reference_start_calls", "def start_calls"))
    exec(source, namespace)
    return namespace["start_calls"]


start_calls = _retyped_start_calls()


def test_right_answers_pass_every_check() -> None:
    check_linux_resources(cgroups, seed=1)
    check_pull_policy(default_policy, decision)
    check_start_calls(start_calls, seed=2)
    check_in_kubelet(cgroups, start_calls, seed=3)


def test_shares_without_the_minimum_are_named() -> None:
    with pytest.raises(GradingFailure, match="cpu shares are at least 2"):
        check_linux_resources(lambda r: cgroups(r, minimum=0), seed=1)


def test_starting_every_init_container_at_once_is_named_and_seen_in_the_kubelet() -> None:
    def all_at_once(pod, view):
        calls = [] if view["sandbox"] else [("RunPodSandbox", pod["metadata"]["name"])]
        for c in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]:
            if c["name"] not in view["containers"]:
                calls += [("CreateContainer", c["name"]), ("StartContainer", c["name"])]
        return calls
    with pytest.raises(GradingFailure, match="init containers run one at a time"):
        check_start_calls(all_at_once, seed=2)
    with pytest.raises(GradingFailure, match="'inits'"):
        check_in_kubelet(cgroups, all_at_once, seed=3)


def test_always_is_told_to_pull_even_a_present_image() -> None:
    with pytest.raises(GradingFailure, match="Always pulls even when the image is on the node"):
        check_pull_policy(default_policy, lambda policy, present: "use" if present else decision(policy, present))


def test_delegating_to_the_engine_earns_nothing() -> None:
    with pytest.raises(GradingFailure, match="hands the work to the engine's own implementation"):
        check_linux_resources(lambda r: grading_runtime.runc.linux_resources(r), seed=1)
