"""The CRI calls a kubelet makes, recorded and drawn: what the kubelet asks containerd to do for a pod.

In Kubernetes the kubelet drives the container runtime only through the CRI,
two gRPC services: ``RuntimeService`` (sandboxes, containers, exec, stats)
and ``ImageService`` (pulls). ``CRITap(cluster, node)`` listens on one node's
runtime: every call that changes something (RunPodSandbox, PullImage,
CreateContainer, StartContainer, StopContainer, RemoveContainer,
StopPodSandbox, RemovePodSandbox) is recorded with its virtual time and what
it was about; the read-only calls the kubelet makes all the time
(ListContainers, ContainerStatus ... on every PLEG relist) are counted, not
listed. ``cri_sequence(calls)`` draws a list of recorded calls as a
``graphviz.Digraph``: the kubelet, the two CRI services and runc, with one
numbered arrow per call.

Promises: the tap only observes (each call goes through unchanged, with its
arguments and result, exceptions included); the same calls give the same
DOT source; nothing here starts, stops or retries anything.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import graphviz

if TYPE_CHECKING:
    from engine.cluster import Cluster

RUNTIME_CALLS = {"run_pod_sandbox": "RunPodSandbox", "create_container": "CreateContainer",
                 "start_container": "StartContainer", "stop_container": "StopContainer",
                 "remove_container": "RemoveContainer", "stop_pod_sandbox": "StopPodSandbox",
                 "remove_pod_sandbox": "RemovePodSandbox"}
IMAGE_CALLS = {"pull_image": "PullImage"}
READS = {"list_containers": "ListContainers", "container_status": "ContainerStatus",
         "list_pod_sandbox": "ListPodSandbox", "pod_sandbox_status": "PodSandboxStatus",
         "exec_sync": "ExecSync", "image_status": "ImageStatus", "container_stats": "ContainerStats"}


@dataclass(frozen=True)
class CRICall:
    """One recorded call: when, which service, which call, and what it was about."""

    time: float
    service: str         # "RuntimeService" or "ImageService"
    call: str            # the CRI name: "RunPodSandbox"
    about: str           # "web (sandbox)", "nginx", "app (attempt 0)", or a container/sandbox id

    def __str__(self) -> str:
        return f"t={self.time:7.3f}  {self.service:14} {self.call}({self.about})"


def _about(method: str, args: tuple, names: dict[str, str]) -> str:
    if method == "run_pod_sandbox":
        meta = args[0].metadata
        return f"{meta.name} (sandbox, attempt {meta.attempt})"
    if method == "create_container":
        meta = args[1].metadata
        return f"{meta.name} (attempt {meta.attempt})"
    if method == "pull_image":
        return str(args[0])
    return names.get(str(args[0]), str(args[0])[:13])


class CRITap:
    """Records the CRI calls made on one node's runtime (see the module docstring)."""

    def __init__(self, cluster: "Cluster", node: str) -> None:
        self.runtime = cluster.runtimes[node]
        self.calls: list[CRICall] = []
        self.reads: Counter[str] = Counter()
        self._names: dict[str, str] = {}
        self._now = lambda: cluster.now
        for method, name in RUNTIME_CALLS.items():
            self._wrap(self.runtime, method, "RuntimeService", name)
        for method, name in IMAGE_CALLS.items():
            self._wrap(self.runtime.images, method, "ImageService", name)
        for method, name in READS.items():
            owner = self.runtime.images if method == "image_status" else self.runtime
            self._count(owner, method, name)

    def _wrap(self, owner: Any, method: str, service: str, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, method)

        @functools.wraps(original)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(CRICall(self._now(), service, name, _about(method, args, self._names)))
            result = original(*args, **kwargs)
            if method in ("run_pod_sandbox", "create_container") and isinstance(result, str):
                self._names[result] = self.calls[-1].about.split(" (")[0]
            return result
        setattr(owner, method, recorded)

    def _count(self, owner: Any, method: str, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, method)

        @functools.wraps(original)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.reads[name] += 1
            return original(*args, **kwargs)
        setattr(owner, method, counted)

    def since(self, time: float) -> list[CRICall]:
        """The calls recorded at or after ``time``."""
        return [call for call in self.calls if call.time >= time]


def cri_sequence(calls: list[CRICall], title: str = "") -> graphviz.Digraph:
    """The kubelet, containerd's two CRI services and runc, one numbered arrow per call."""
    graph = graphviz.Digraph("cri", graph_attr={"rankdir": "LR", "label": title, "labelloc": "t",
                                                "fontname": "Helvetica"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    graph.node("kubelet", "kubelet", fillcolor="#f9d77e")
    with graph.subgraph(name="cluster_containerd") as containerd:
        containerd.attr(label="containerd (CRI plugin)", style="rounded", color="#888888")
        containerd.node("RuntimeService", "RuntimeService", fillcolor="#cfe2f3")
        containerd.node("ImageService", "ImageService", fillcolor="#cfe2f3")
    graph.node("runc", "runc\n(namespaces, cgroups)", fillcolor="#d9ead3")
    graph.node("registry", "registry", shape="cylinder", fillcolor="#eeeeee")
    for number, call in enumerate(calls, start=1):
        graph.edge("kubelet", call.service, label=f"{number}. {call.call}\n{call.about}\nt={call.time:.1f}s")
    if any(call.service == "RuntimeService" for call in calls):
        graph.edge("RuntimeService", "runc", label="create / start / kill", style="dashed")
    if any(call.service == "ImageService" for call in calls):
        graph.edge("ImageService", "registry", label="layers", style="dashed")
    return graph


__all__ = ["CRICall", "CRITap", "cri_sequence"]
