"""The cells of kubectl's table printers, computed from object fields as printers.go computes them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.api.kinds import REGISTRY
from engine.kubectl.printers import (format_endpoints, node_roles, node_status, pod_ready, pod_restarts,
                                     pod_status, render_table, service_external_ip, service_ports)

T0 = "2025-01-01T00:00:00Z"


def running(ready: bool = True) -> dict:
    return {"state": {"running": {"startedAt": T0}}, "ready": ready, "started": True}


def waiting(reason: str) -> dict:
    return {"state": {"waiting": {"reason": reason}}, "ready": False}


def terminated(reason: str = "", exit_code: int = 0, signal: int = 0) -> dict:
    state: dict[str, Any] = {"exitCode": exit_code, "startedAt": T0, "finishedAt": T0}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"state": {"terminated": state}, "ready": False}


def pod(containers: list[dict] | None = None, init: list[dict] | None = None, phase: str = "Pending",
        conditions: list[dict] | None = None, reason: str = "", deleting: bool = False,
        sidecars: tuple[str, ...] = ()) -> dict:
    containers = containers if containers is not None else []
    names = [f"c{index}" for index in range(max(len(containers), 1))]
    init_names = [f"i{index}" for index in range(len(init or []))]
    obj: dict[str, Any] = {
        "metadata": {"name": "web", "creationTimestamp": T0},
        "spec": {"containers": [{"name": name} for name in names],
                 "initContainers": [{"name": name, **({"restartPolicy": "Always"} if name in sidecars else {})}
                                    for name in init_names]},
        "status": {"phase": phase,
                   "containerStatuses": [dict(status, name=name) for name, status in zip(names, containers)],
                   "initContainerStatuses": [dict(status, name=name) for name, status in zip(init_names, init or [])],
                   "conditions": conditions or []},
    }
    if reason:
        obj["status"]["reason"] = reason
    if deleting:
        obj["metadata"]["deletionTimestamp"] = T0
    return obj


READY_TRUE = [{"type": "Ready", "status": "True"}]
INITIALIZED = [{"type": "Initialized", "status": "True"}]


@pytest.mark.parametrize("obj, status, ready", [
    pytest.param(pod(), "Pending", "0/1", id="a pod with no container statuses shows its phase"),
    pytest.param(pod([waiting("ContainerCreating")]), "ContainerCreating", "0/1",
                 id="a waiting container's reason becomes the status"),
    pytest.param(pod([running()], phase="Running"), "Running", "1/1", id="a ready running container is Running"),
    pytest.param(pod([running(), running(False)], phase="Running"), "Running", "1/2",
                 id="only ready running containers count as ready"),
    pytest.param(pod([waiting("CrashLoopBackOff")], phase="Running"), "CrashLoopBackOff", "0/1",
                 id="a container in back-off shows CrashLoopBackOff"),
    pytest.param(pod([waiting("ErrImagePull")]), "ErrImagePull", "0/1", id="a failed pull shows ErrImagePull"),
    pytest.param(pod([waiting("ImagePullBackOff")]), "ImagePullBackOff", "0/1",
                 id="a pull in back-off shows ImagePullBackOff"),
    pytest.param(pod([terminated("Completed")], phase="Succeeded"), "Completed", "0/1",
                 id="a container that exited cleanly shows Completed"),
    pytest.param(pod([terminated("OOMKilled", 137)], phase="Running"), "OOMKilled", "0/1",
                 id="a container killed for memory shows OOMKilled"),
    pytest.param(pod([terminated(exit_code=1)], phase="Failed"), "ExitCode:1", "0/1",
                 id="a terminated container without a reason shows its exit code"),
    pytest.param(pod([terminated(exit_code=137, signal=9)], phase="Failed"), "Signal:9", "0/1",
                 id="a terminated container without a reason but with a signal shows the signal"),
    pytest.param(pod([terminated("Completed"), running()], phase="Running", conditions=READY_TRUE), "Running", "1/2",
                 id="Completed turns back to Running while another container runs and the pod is Ready"),
    pytest.param(pod([terminated("Completed"), running()], phase="Running"), "NotReady", "1/2",
                 id="Completed turns to NotReady while another container runs and the pod is not Ready"),
    pytest.param(pod([waiting("PodInitializing")], init=[running(False)]), "Init:0/1", "0/1",
                 id="a running init container shows how many init containers are done"),
    pytest.param(pod([waiting("PodInitializing")], init=[terminated("Completed"), running(False)]), "Init:1/2",
                 "0/1", id="the second of two init containers running shows Init:1/2"),
    pytest.param(pod([waiting("PodInitializing")], init=[waiting("CrashLoopBackOff")]), "Init:CrashLoopBackOff",
                 "0/1", id="an init container in back-off shows Init:CrashLoopBackOff"),
    pytest.param(pod([waiting("PodInitializing")], init=[terminated("Error", 1)]), "Init:Error", "0/1",
                 id="a failed init container shows Init:Error"),
    pytest.param(pod([waiting("PodInitializing")], init=[terminated(exit_code=2)]), "Init:ExitCode:2", "0/1",
                 id="a failed init container without a reason shows Init:ExitCode"),
    pytest.param(pod([waiting("PodInitializing")], init=[terminated(exit_code=2, signal=15)]), "Init:Signal:15",
                 "0/1", id="a signalled init container without a reason shows Init:Signal"),
    pytest.param(pod([waiting("PodInitializing")], init=[terminated("Completed")], conditions=INITIALIZED),
                 "PodInitializing", "0/1", id="after the init containers the main container shows PodInitializing"),
    pytest.param(pod([running()], init=[running()], phase="Running", sidecars=("i0",)), "Running", "2/2",
                 id="a started sidecar init container counts as a ready container"),
    pytest.param(pod([running()], phase="Running", deleting=True), "Terminating", "1/1",
                 id="a pod being deleted shows Terminating"),
    pytest.param(pod([terminated("Completed")], phase="Succeeded", deleting=True), "Completed", "0/1",
                 id="a finished pod being deleted keeps its final status"),
    pytest.param(pod([running()], phase="Running", reason="NodeLost", deleting=True), "Unknown", "1/1",
                 id="a pod being deleted on a lost node shows Unknown"),
    pytest.param(pod([], phase="Failed", reason="Evicted"), "Evicted", "0/1",
                 id="the pod's status reason replaces the phase"),
    pytest.param(pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
                 "SchedulingGated", "0/1", id="a pod held by scheduling gates shows SchedulingGated"),
])
def test_pod_status_and_ready(obj: dict, status: str, ready: str) -> None:
    assert pod_status(obj) == status
    assert pod_ready(obj) == ready


def test_restarts_show_how_long_ago_the_last_container_finished() -> None:
    obj = pod([dict(waiting("CrashLoopBackOff"), restartCount=5,
                    lastState={"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-01T00:10:00Z"}})])
    assert pod_restarts(obj, now=900.0) == "5 (5m ago)"
    assert pod_restarts(pod([running()]), now=900.0) == "0"


def test_restarts_without_a_finish_time_are_a_bare_count() -> None:
    assert pod_restarts(pod([dict(running(), restartCount=3)]), now=10.0) == "3"


def node(ready: str | None = "True", unschedulable: bool = False, labels: dict | None = None) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {"metadata": {"name": "n", "labels": labels or {}}, "spec": {"unschedulable": unschedulable},
            "status": {"conditions": conditions}}


@pytest.mark.parametrize("obj, expected", [
    pytest.param(node(), "Ready", id="a Ready condition that is True reads Ready"),
    pytest.param(node("False"), "NotReady", id="a Ready condition that is False reads NotReady"),
    pytest.param(node("Unknown"), "NotReady", id="a Ready condition that is Unknown also reads NotReady"),
    pytest.param(node(None), "Unknown", id="no Ready condition at all reads Unknown"),
    pytest.param(node(unschedulable=True), "Ready,SchedulingDisabled", id="a cordoned node adds SchedulingDisabled"),
])
def test_node_status(obj: dict, expected: str) -> None:
    assert node_status(obj) == expected


@pytest.mark.parametrize("labels, expected", [
    pytest.param({}, "<none>", id="no role labels reads none"),
    pytest.param({"node-role.kubernetes.io/control-plane": ""}, "control-plane", id="the role is the label's suffix"),
    pytest.param({"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "infra"}, "infra,worker",
                 id="roles from both label styles are sorted and joined"),
])
def test_node_roles(labels: dict, expected: str) -> None:
    assert node_roles(node(labels=labels)) == expected


@pytest.mark.parametrize("spec, status, expected", [
    pytest.param({"type": "ClusterIP"}, {}, "<none>", id="a ClusterIP service has no external IP"),
    pytest.param({"type": "ClusterIP", "externalIPs": ["1.2.3.4"]}, {}, "1.2.3.4",
                 id="external IPs are shown for a ClusterIP service"),
    pytest.param({"type": "LoadBalancer"}, {}, "<pending>", id="a load balancer without ingress is pending"),
    pytest.param({"type": "LoadBalancer"}, {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}, "203.0.113.7",
                 id="a load balancer shows its ingress IP"),
    pytest.param({"type": "ExternalName", "externalName": "db.example.com"}, {}, "db.example.com",
                 id="an ExternalName service shows the name"),
])
def test_service_external_ip(spec: dict, status: dict, expected: str) -> None:
    assert service_external_ip({"spec": spec, "status": status}) == expected


def test_service_ports_show_node_ports() -> None:
    assert service_ports([{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                          {"port": 53, "protocol": "UDP"}]) == "80:30080/TCP,53/UDP"


@pytest.mark.parametrize("subsets, expected", [
    pytest.param([], "<none>", id="no subsets reads none"),
    pytest.param([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], "10.0.0.1:80",
                 id="one address and port"),
    pytest.param([{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)], "ports": [{"port": 80}]}],
                 "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...", id="more than three endpoints are summarised"),
])
def test_format_endpoints(subsets: list, expected: str) -> None:
    assert format_endpoints({"subsets": subsets}) == expected


def test_render_table_aligns_like_tabwriter_and_prefixes_kinds() -> None:
    objects = [{"metadata": {"name": "cfg", "namespace": "default", "creationTimestamp": T0, "labels": {"a": "b"}},
                "data": {"k": "v"}}]
    text = render_table(REGISTRY.lookup("cm"), objects, 30.0, namespace_column=True, show_labels=True,
                        with_kind=True)
    assert text == ("NAMESPACE   NAME            DATA   AGE   LABELS\n"
                    "default     configmap/cfg   1      30s   a=b\n")
