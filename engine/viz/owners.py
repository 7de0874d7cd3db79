"""The ownership graph: objects linked by their ``metadata.ownerReferences``, as a ``graphviz.Digraph``.

A Deployment owns ReplicaSets, a ReplicaSet owns Pods, a Job owns Pods, a
StatefulSet owns Pods and ControllerRevisions: the garbage collector and the
controllers follow exactly these links. ``owner_graph(cluster, namespace)``
draws every object of a namespace that owns or is owned (plus cluster-scoped
owners they point at), an arrow from each owner to what it owns, solid for
the controller reference and dashed for others, and a red dashed box for an
owner that no longer exists (an orphan's dangling reference). Pods are
coloured by state as in the cluster view. With ``kind`` and ``name`` the
graph is limited to that object's family: its owners up the chain and
everything it owns down the chain.

It reads the watch cache only; the same objects give the same DOT source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import graphviz

from engine.viz._objects import pod_state
from engine.viz.cluster_view import PHASE_COLORS

if TYPE_CHECKING:
    from engine.cluster import Cluster

KIND_COLORS = {"Deployment": "#bbdefb", "ReplicaSet": "#c5cae9", "StatefulSet": "#d1c4e9",
               "DaemonSet": "#b2dfdb", "Job": "#ffe0b2", "CronJob": "#ffccbc", "Node": "#dcedc8"}


def _ident(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _objects(cluster: "Cluster", namespace: str | None) -> list[dict]:
    """Every object in ``namespace`` (all namespaces for None), and every cluster-scoped object."""
    found = []
    for kind in cluster.apiserver.registry:
        for obj in cluster.apiserver.cached_list(kind.plural, namespace if kind.namespaced else None):
            found.append({**obj, "kind": obj.get("kind") or kind.kind})
    return found


def owner_links(objects: Iterable[dict]) -> tuple[dict[str, dict], list[tuple[str, str, bool]]]:
    """The objects by identity and the (owner, owned, is controller) links among them, by uid."""
    by_uid: dict[str, dict] = {}
    by_ident: dict[str, dict] = {}
    for obj in objects:
        metadata = obj.get("metadata") or {}
        ident = _ident(obj["kind"], metadata.get("namespace"), metadata["name"])
        by_ident[ident] = obj
        if metadata.get("uid"):
            by_uid[metadata["uid"]] = obj
    links = []
    for ident, obj in sorted(by_ident.items()):
        metadata = obj.get("metadata") or {}
        for reference in metadata.get("ownerReferences") or []:
            owner = by_uid.get(reference.get("uid", ""))
            if owner is not None:
                owner_meta = owner["metadata"]
                owner_ident = _ident(owner["kind"], owner_meta.get("namespace"), owner_meta["name"])
            else:
                owner_ident = _ident(reference.get("kind", "?"), metadata.get("namespace"),
                                     reference.get("name", "?"))
            links.append((owner_ident, ident, bool(reference.get("controller"))))
    return by_ident, links


def _family(root: str, links: list[tuple[str, str, bool]]) -> set[str]:
    """``root``, its owners up the chain and what it owns down the chain."""
    family = {root}
    for forward in (True, False):
        frontier = [root]
        while frontier:
            current = frontier.pop()
            for owner, owned, _controller in links:
                start, end = (owner, owned) if forward else (owned, owner)
                if start == current and end not in family:
                    family.add(end)
                    frontier.append(end)
    return family


def owner_graph(cluster: "Cluster", namespace: str | None = "default", *, kind: str | None = None,
                name: str | None = None) -> graphviz.Digraph:
    """Owners and what they own in ``namespace`` (or one object's family, with ``kind`` and ``name``)."""
    objects = _objects(cluster, namespace)
    by_ident, links = owner_links(objects)
    involved = {end for owner, owned, _controller in links for end in (owner, owned)}
    if kind is not None and name is not None:
        resolved = cluster.apiserver.registry.lookup(kind)
        root = _ident(resolved.kind, namespace if resolved.namespaced else None, name)
        involved = _family(root, links)
    graph = graphviz.Digraph("owners")
    graph.attr(rankdir="LR", fontname="Helvetica", label=f"ownerReferences in {namespace or 'the cluster'}",
               labelloc="t")
    graph.attr("node", fontname="Helvetica", fontsize="11", shape="box", style="rounded,filled")
    for ident in sorted(involved):
        obj = by_ident.get(ident)
        kind_name, _, rest = ident.partition("/")
        short = rest.rsplit("/", 1)[-1]
        if obj is None:
            graph.node(ident, label=f"{kind_name}\\n{short}\\n(gone)", style="rounded,dashed",
                       color="#c62828", fontcolor="#c62828")
        elif kind_name == "Pod":
            state = pod_state(obj)
            graph.node(ident, label=f"Pod\\n{short}\\n{state}", fillcolor=PHASE_COLORS[state], fontcolor="white")
        else:
            graph.node(ident, label=f"{kind_name}\\n{short}", fillcolor=KIND_COLORS.get(kind_name, "#eeeeee"))
    for owner, owned, controller in links:
        if owner in involved and owned in involved:
            graph.edge(owner, owned, style="solid" if controller else "dashed",
                       label="controller" if controller else "owner")
    if not involved:
        graph.node("none", label="no ownerReferences here", shape="plaintext", style="")
    return graph
