"""What a live cluster runs, read once for the architecture diagram: components, Nodes, add-on pods.

A component runs when the cluster started it (``cluster.components``, keyed
by name and node) and has not stopped it, or when a pod of it runs in
``kube-system`` (a kubeadm static pod, a DaemonSet pod such as
``kube-proxy-x7k2p``). An add-on is found by its component name, or by its
pods' ``k8s-app`` / ``app`` / ``app.kubernetes.io/name`` label or name
(CoreDNS pods carry ``k8s-app: kube-dns``). States: ``generic`` (the lecture
picture, no cluster), ``running``, ``stopped`` (started, then stopped, or
pods present but none Running) and ``absent`` (not installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.viz._objects import sort_nodes

if TYPE_CHECKING:
    from engine.cluster import Cluster

APISERVER = "kube-apiserver"
ETCD = "etcd"

RUNTIME_COMPONENTS = ("container-runtime", "containerd", "runtime", "cri")
"""Component names under which a node's container runtime may be registered."""
ADDON_NAMESPACES = ("kube-system", "kubernetes-dashboard", "kube-flannel", "calico-system", "logging", "monitoring")


@dataclass(frozen=True)
class Addon:
    """One kind of add-on: the names its implementations go by."""

    key: str
    title: str
    examples: str
    patterns: tuple[str, ...]


ADDONS = (
    Addon("networking", "Networking (CNI)", "flannel · calico · canal · weave",
          ("flannel", "calico", "canal", "weave", "cilium", "cni")),
    Addon("dns", "DNS", "CoreDNS / kube-dns", ("coredns", "kube-dns")),
    Addon("dashboard", "Dashboard", "web UI", ("dashboard",)),
    Addon("monitoring", "Resource monitoring", "cAdvisor · metrics-server",
          ("metrics-server", "cadvisor", "prometheus", "heapster")),
    Addon("logging", "Cluster logging", "EFK / ELK", ("fluentd", "fluent-bit", "elasticsearch", "kibana",
                                                      "logstash", "filebeat", "logging")),
)


def component_state(component: Any) -> str:
    """``running`` unless the component says it has stopped (``running = False``)."""
    return "running" if getattr(component, "running", True) else "stopped"


class Survey:
    """What a live cluster runs, read once: components, Nodes, add-on pods."""

    def __init__(self, cluster: "Cluster | None") -> None:
        self.cluster = cluster
        self.components: dict[tuple[str, str | None], Any] = dict(getattr(cluster, "components", {}) or {})
        if cluster is None:
            self.nodes: list[dict] = []
            self.pods: list[dict] = []
            return
        self.nodes = sort_nodes(cluster.apiserver.cached_list("nodes"))
        self.pods = [pod for namespace in ADDON_NAMESPACES
                     for pod in cluster.apiserver.cached_list("pods", namespace)]

    def control_plane_state(self, name: str) -> str:
        if self.cluster is None:
            return "generic"
        if name in (ETCD, APISERVER):
            return "running"
        component = self.components.get((name, None))
        if component is not None:
            return component_state(component)
        return self._pod_state(lambda pod: _is_pod_of(pod, name), "absent")

    def node_state(self, names: tuple[str, ...], node: str) -> str:
        if self.cluster is None:
            return "generic"
        for name in names:
            component = self.components.get((name, node))
            if component is not None:
                return component_state(component)
        return self._pod_state(lambda pod: (pod.get("spec") or {}).get("nodeName") == node
                               and any(_is_pod_of(pod, name) for name in names), "absent")

    def addon(self, addon: Addon) -> tuple[str, str]:
        """The add-on's state and what was found of it (``coredns: 2/2 pods Running``)."""
        if self.cluster is None:
            return "generic", addon.examples
        for (name, _node), component in sorted(self.components.items(), key=lambda item: (item[0][0],
                                                                                          item[0][1] or "")):
            if addon_of(name) is addon:
                return component_state(component), name
        found: dict[str, list[dict]] = {}
        for pod in self.pods:
            match = _addon_match(pod, addon)
            if match:
                found.setdefault(match, []).append(pod)
        if not found:
            return "absent", addon.examples
        running = sum(1 for pods in found.values() for pod in pods if (pod.get("status") or {}).get("phase")
                      == "Running")
        total = sum(len(pods) for pods in found.values())
        detail = f"{', '.join(sorted(found))}: {running}/{total} pods Running"
        return ("running" if running else "stopped"), detail

    def _pod_state(self, predicate: Any, default: str) -> str:
        pods = [pod for pod in self.pods if predicate(pod)]
        if not pods:
            return default
        if any((pod.get("status") or {}).get("phase") == "Running" for pod in pods):
            return "running"
        return "stopped"


def _pod_labels(pod: dict) -> dict[str, str]:
    return (pod.get("metadata") or {}).get("labels") or {}


def _is_pod_of(pod: dict, component: str) -> bool:
    """A kube-system pod of ``component``: a kubeadm static pod or a DaemonSet pod named after it."""
    labels = _pod_labels(pod)
    name = pod["metadata"]["name"]
    return (labels.get("component") == component or labels.get("k8s-app") == component
            or name == component or name.startswith(component + "-"))


def addon_of(name: str) -> Addon | None:
    """The add-on a component or pod name belongs to (kube-proxy is a node component, never an add-on)."""
    lowered = name.lower()
    if lowered.startswith("kube-proxy"):
        return None
    return next((addon for addon in ADDONS if any(pattern in lowered for pattern in addon.patterns)), None)


def _addon_match(pod: dict, addon: Addon) -> str | None:
    """What names ``pod`` as part of ``addon``: its app label (``kube-dns``), else the pattern in its name."""
    labels = _pod_labels(pod)
    for label in ("k8s-app", "app", "app.kubernetes.io/name"):
        value = labels.get(label, "")
        if value and addon_of(value) is addon:
            return value
    name = pod["metadata"]["name"]
    if addon_of(name) is addon:
        return next(pattern for pattern in addon.patterns if pattern in name.lower())
    return None
