"""Builders for the scheduler's plugin tests: nodes, pods and NodeInfos in the real shape, like the upstream st.MakeNode/MakePod."""

from __future__ import annotations

import itertools

from engine.scheduler.framework import CycleState
from engine.scheduler.nodeinfo import NodeInfo

_uids = itertools.count()


def make_node(name: str = "node-1", *, cpu: str = "4", memory: str = "8Gi", pods: int = 110,
              labels: dict | None = None, taints: list | None = None, images: list | None = None,
              unschedulable: bool = False, extra: dict | None = None) -> dict:
    allocatable = {"cpu": cpu, "memory": memory, "pods": str(pods), **(extra or {})}
    spec: dict = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": spec, "status": {"allocatable": allocatable, "capacity": dict(allocatable),
                                     "images": images or []}}


def make_pod(name: str = "pod", *, namespace: str = "default", cpu: str | None = None, memory: str | None = None,
             containers: list | None = None, init_containers: list | None = None, node_name: str = "",
             labels: dict | None = None, tolerations: list | None = None, node_selector: dict | None = None,
             affinity: dict | None = None, host_ports: list | None = None, priority: int = 0,
             overhead: dict | None = None, image: str = "nginx", spread: list | None = None) -> dict:
    if containers is None:
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
        container: dict = {"name": "app", "image": image, "resources": {"requests": requests} if requests else {}}
        if host_ports:
            container["ports"] = [{"containerPort": p, "hostPort": p, "protocol": "TCP"} if isinstance(p, int) else p
                                  for p in host_ports]
        containers = [container]
    spec: dict = {"containers": containers, "priority": priority, "schedulerName": "default-scheduler"}
    for key, value in (("initContainers", init_containers), ("nodeName", node_name), ("tolerations", tolerations),
                       ("nodeSelector", node_selector), ("affinity", affinity), ("overhead", overhead),
                       ("topologySpreadConstraints", spread)):
        if value:
            spec[key] = value
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{next(_uids)}", "labels": labels or {}},
            "spec": spec, "status": {"phase": "Pending"}}


def node_info(node: dict, *pods: dict) -> NodeInfo:
    info = NodeInfo(node)
    for pod in pods:
        info.add_pod(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}",
                     dict(pod, spec=dict(pod["spec"], nodeName=node["metadata"]["name"])))
    return info


class FakeHandle:
    """What a plugin sees of the scheduler: a snapshot of node infos."""

    def __init__(self, infos: list[NodeInfo]) -> None:
        self.node_infos = infos
        self.snapshot = self

    def get(self, name: str) -> NodeInfo | None:
        return next((info for info in self.node_infos if info.name == name), None)


def run_filter(plugin, pod: dict, info: NodeInfo):
    state = CycleState()
    if hasattr(plugin, "pre_filter"):
        status = plugin.pre_filter(state, pod, [info])
        if status is not None and status.code == "Skip":
            return None
    return plugin.filter(state, pod, info)


def run_scores(plugin, pod: dict, infos: list[NodeInfo]) -> dict[str, int]:
    state = CycleState()
    if hasattr(plugin, "pre_score"):
        status = plugin.pre_score(state, pod, infos)
        if status is not None and status.code == "Skip":
            return {info.name: 0 for info in infos}
    scores = {info.name: plugin.score(state, pod, info) for info in infos}
    if hasattr(plugin, "normalize_score"):
        plugin.normalize_score(state, pod, scores)
    return scores

