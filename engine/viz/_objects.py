"""Small readings of API objects and identities that several views share.

Each helper is a pure function of plain data: how ``kubectl get`` would
name a pod's state (``Terminating`` when a deletion is pending), whether a
Node's ``Ready`` condition says ``Ready``, ``NotReady`` or ``Unknown``, and
which component an API user is (``system:node:node-1`` is the kubelet of
``node-1``). Views never change the objects they are given.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from engine.cluster import Cluster

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Terminating", "Unknown")


def pod_state(pod: dict) -> str:
    """The pod's phase, or ``Terminating`` once a graceful deletion has started."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    return phase if phase in PHASES else "Unknown"


def node_ready(node: dict) -> str:
    """``Ready``, ``NotReady`` or ``Unknown``, from the Node's ``Ready`` condition (kubectl's STATUS)."""
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            status = condition.get("status")
            if status == "True":
                return "Ready"
            if status == "False":
                return "NotReady"
            return "Unknown"
    return "Unknown"


def node_roles(node: dict) -> list[str]:
    """The roles kubectl shows, from ``node-role.kubernetes.io/<role>`` labels."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    prefix = "node-role.kubernetes.io/"
    return sorted(key[len(prefix):] for key in labels if key.startswith(prefix) and key[len(prefix):])


def sort_nodes(nodes: Iterable[dict]) -> list[dict]:
    """Control-plane nodes first, then by name: the order every view lists nodes in."""
    return sorted(nodes, key=lambda node: ("control-plane" not in node_roles(node),
                                           node["metadata"]["name"]))


def component_of(user: str, cluster: "Cluster | None" = None) -> tuple[str, str | None] | None:
    """(component name, node) of the component that authenticates as ``user``, from the cluster's specs."""
    for spec in getattr(cluster, "specs", None) or []:
        pattern = "^" + re.escape(spec.user).replace(re.escape("{node}"), "(?P<node>.+)") + "$"
        found = re.match(pattern, user)
        if found:
            return spec.name, found.groupdict().get("node")
    if user.startswith("system:node:"):
        return "kubelet", user[len("system:node:"):]
    return None


def participant(user: str, cluster: "Cluster | None" = None) -> str:
    """A readable name for the API user ``user``: the component it is, where that is known.

    ``system:node:node-1`` -> ``kubelet (node-1)``, ``system:kube-scheduler`` ->
    ``kube-scheduler``, ``kubernetes-admin`` -> ``kubectl (kubernetes-admin)``.
    """
    component = component_of(user, cluster)
    if component is not None:
        name, node = component
        return f"{name} ({node})" if node else name
    if user.startswith("system:serviceaccount:"):
        return user.rsplit(":", 1)[-1]
    if user.startswith("system:"):
        return user[len("system:"):]
    admin = getattr(cluster, "admin", None)
    if user == getattr(admin, "name", "kubernetes-admin") or user == "kubernetes-admin":
        return f"kubectl ({user})"
    return user
