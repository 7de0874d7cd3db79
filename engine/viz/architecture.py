"""The architecture diagram: the whole cluster as the course draws it, as a ``graphviz.Digraph``.

``architecture()`` draws the lecture picture: a control-plane box (etcd,
kube-apiserver, kube-scheduler, kube-controller-manager, and the
cloud-controller-manager with its node, route, service and volume
controllers), one box per node (kubelet, kube-proxy, the container runtime:
containerd over runc), the add-ons beside them (networking, DNS, dashboard,
resource monitoring, cluster logging), and arrows for who talks to whom.
The arrows carry the course's one rule: every component talks to
kube-apiserver, and only kube-apiserver talks to etcd.

``architecture(cluster)`` draws that cluster instead: its real nodes (from
the Node objects, with their Ready condition), and for each component
whether it actually runs there: a component in ``cluster.components``, or
an add-on pod in ``kube-system``. What is not installed is drawn greyed and
dashed, labelled "not running"; a component that was started and then
stopped (a failed node's kubelet) is drawn dashed in red, "stopped".

``highlight`` lights components by name (``"etcd"``, ``"kubelet"``,
``"CoreDNS"``...): filled, with bold arrows to and from them. ``activity=10``
labels each arrow into kube-apiserver with the requests its component made
in the last 10 virtual seconds (from the audit log), and etcd's with the writes.

Promises: the same cluster state gives the same DOT source, byte for byte;
the diagram never changes the cluster (it reads the watch cache, which
writes no audit entries); beyond ``MAX_NODES`` nodes the rest collapse into
one "… and N more nodes" box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import graphviz

from engine.viz._activity import request_counts
from engine.viz._objects import node_ready, node_roles
from engine.viz._survey import (ADDONS, APISERVER, ETCD, RUNTIME_COMPONENTS, Survey, addon_of,
                                component_state)

if TYPE_CHECKING:
    from engine.cluster import Cluster

MAX_NODES = 6
"""Node boxes drawn in full; the others are summarised in one box."""
NODES_PER_ROW = 3

USER = "kubectl"
CLOUD = "cloud provider API"
ANCHOR = "under-control-plane"
MORE_NODES = "more-nodes"

HIGHLIGHT_FILL = "#ffd54f"
HIGHLIGHT_EDGE = "#e65100"
RUNNING_COLOR = "#37474f"
ABSENT_COLOR = "#9e9e9e"
STOPPED_COLOR = "#c62828"
READY_COLOR = {"Ready": "#2e7d32", "NotReady": "#c62828", "Unknown": "#757575"}
READY_FILL = {"Ready": "#f1f8e9", "NotReady": "#ffebee", "Unknown": "#f5f5f5"}

CONTROL_PLANE = (
    (ETCD, "consistent key-value store\nof all cluster data"),
    (APISERVER, "front door: authn, authz,\nadmission, validation, watch"),
    ("kube-scheduler", "picks a node for each pod"),
    ("kube-controller-manager", "controllers: make actual state\nmatch desired state"),
)
CLOUD_CONTROLLERS = ("node controller", "route controller", "service controller", "volume controller")
NODE_COMPONENTS = (
    ("kubelet", "runs the node's pods,\nprobes, reports status"),
    ("kube-proxy", "Service rules\n(iptables / ipvs)"),
)


@dataclass
class _Box:
    """One drawn component: where it is, what it is called, and whether it runs."""

    id: str
    title: str
    detail: str = ""
    state: str = "generic"            # generic | running | stopped | absent
    shape: str = "box"
    names: set[str] = field(default_factory=set)


def _names(*names: str) -> set[str]:
    return {name.lower() for name in names}


def _label(box: _Box) -> str:
    lines = [box.title]
    if box.detail:
        lines.append(box.detail)
    if box.state == "absent":
        lines.append("(not running)")
    elif box.state == "stopped":
        lines.append("(stopped)")
    return "\\n".join(line.replace("\n", "\\n") for line in lines)


def _draw(graph: graphviz.Digraph, box: _Box, lit: bool) -> None:
    attrs = {"shape": box.shape, "label": _label(box)}
    styles = ["rounded"] if box.shape == "box" else []
    if box.state == "absent":
        styles.append("dashed")
        attrs.update(color=ABSENT_COLOR, fontcolor=ABSENT_COLOR)
    elif box.state == "stopped":
        styles.append("dashed")
        attrs.update(color=STOPPED_COLOR, fontcolor=STOPPED_COLOR)
    else:
        attrs.update(color=RUNNING_COLOR)
    if lit:
        styles += ["filled", "bold"]
        attrs.update(fillcolor=HIGHLIGHT_FILL, penwidth="2.5")
    if styles:
        attrs["style"] = ",".join(styles)
    graph.node(box.id, **attrs)


def _wanted(highlight: str | Iterable[str] | None) -> set[str]:
    if highlight is None:
        return set()
    if isinstance(highlight, str):
        return {highlight.lower()}
    return {name.lower() for name in highlight}


class _Edges:
    """Edges collected first, so that highlighted ends can be known before drawing."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict[str, str]]] = []

    def add(self, tail: str, head: str, **attrs: str) -> None:
        self.items.append((tail, head, attrs))

    def draw(self, graph: graphviz.Digraph, lit: set[str],
             activity: dict[tuple[str, str], str] | None = None) -> None:
        for tail, head, attrs in self.items:
            if activity and attrs.get("style") != "invis" and (tail, head) in activity:
                attrs = dict(attrs, label="\n".join(filter(None, [attrs.get("label", ""),
                                                                   activity[(tail, head)]])))
            attrs = {key: value.replace("\n", "\\n") for key, value in attrs.items()}
            if attrs.get("style") != "invis" and (tail in lit or head in lit):
                attrs.update(color=HIGHLIGHT_EDGE, penwidth="2.5")
                attrs["style"] = ",".join(filter(None, [attrs.get("style", ""), "bold"]))
            if attrs.pop("upward", None):
                # drawn head -> tail with the arrow reversed: dot then ranks the tail *below* the head,
                # so that what sits under the control plane points up at it
                graph.edge(head, tail, dir="back", **attrs)
            else:
                graph.edge(tail, head, **attrs)


class _Diagram:
    """Builds the graph region by region; edges are drawn last, once the lit components are known."""

    def __init__(self, cluster: "Cluster | None", highlight: str | Iterable[str] | None,
                 activity: float | None = None) -> None:
        self.cluster = cluster
        self.activity: dict[tuple[str, str], str] = {}
        if cluster is not None and activity:
            counts, writes = request_counts(cluster, activity)
            self.activity = {(box, APISERVER): f"{count} req / {activity:g} s" for box, count in counts.items()}
            self.activity[(APISERVER, ETCD)] = f"{writes} writes / {activity:g} s"
        self.survey = Survey(cluster)
        self.wanted = _wanted(highlight)
        self.lit: set[str] = set()
        self.edges = _Edges()
        self.first_row: list[str] = []      # left to right under the control plane: nodes, then add-ons
        self.graph = graphviz.Digraph("architecture")
        # size: scale down to a notebook column (10 in = 720 pt), never up, keeping the proportions.
        self.graph.attr(rankdir="TB", newrank="true", fontname="Helvetica", nodesep="0.25", ranksep="0.6",
                        labelloc="t", size="10,10")
        self.graph.attr("node", fontname="Helvetica", fontsize="11")
        self.graph.attr("edge", fontname="Helvetica", fontsize="9", color="#78909c", arrowsize="0.7")
        if cluster is None:
            self.graph.attr(label="Kubernetes cluster architecture")
        else:
            self.graph.attr(label=f"Cluster (seed {cluster.seed}) at t = {cluster.now:.1f} s, "
                                  f"etcd revision {cluster.store.revision}")

    def place(self, where: graphviz.Digraph, box: _Box) -> None:
        lit = bool(self.wanted & ({box.id.lower()} | box.names))
        if lit:
            self.lit.add(box.id)
        _draw(where, box, lit)

    def build(self) -> graphviz.Digraph:
        self.place(self.graph, _Box(USER, "kubectl / user", "kubectl apply, get, ...",
                                    names=_names(USER, "user", "kubectl", "client")))
        self.edges.add(USER, APISERVER, label="REST (HTTPS)")
        self.control_plane()
        rows = self.node_rows()
        for index, (name, node) in enumerate(rows):
            # rows of NODES_PER_ROW node columns under the control plane: invisible edges only rank them
            above = ANCHOR if index < NODES_PER_ROW else f"{rows[index - NODES_PER_ROW][0]}/runc"
            self.edges.add(above, f"{name}/kube-proxy", style="invis")
            if index < NODES_PER_ROW:
                self.first_row.append(f"{name}/kube-proxy")
            self.node(name, node)
        hidden = self.survey.nodes[len(rows):]
        if hidden:
            self.more_nodes(hidden, f"{rows[-1][0]}/runc")
        self.addons()
        with self.graph.subgraph(name="row_under_control_plane") as row:
            row.attr(rank="same")
            for left, right in zip(self.first_row, self.first_row[1:]):
                row.edge(left, right, style="invis")
        self.edges.draw(self.graph, self.lit, self.activity)
        return self.graph

    def control_plane(self) -> None:
        survey = self.survey
        with self.graph.subgraph(name="cluster_control_plane") as plane:
            plane.attr(label="Control plane", style="rounded,filled", fillcolor="#e3f2fd", color="#1565c0",
                       fontcolor="#0d47a1", fontsize="14")
            for name, detail in CONTROL_PLANE:
                self.place(plane, _Box(name, name, detail, survey.control_plane_state(name),
                                       shape="cylinder" if name == ETCD else "box", names=_names(name)))
                if name not in (ETCD, APISERVER):
                    self.edges.add(name, APISERVER, label="watch / write")
            known = {name for name, _detail in CONTROL_PLANE} | {"cloud-controller-manager"}
            for name in sorted(name for (name, node) in survey.components
                               if node is None and name not in known and addon_of(name) is None):
                self.place(plane, _Box(name, name, "", component_state(survey.components[(name, None)]),
                                       names=_names(name)))
                self.edges.add(name, APISERVER)
            # etcd beside kube-apiserver, and an invisible point level with both that what sits under
            # the control plane hangs from: the only edge touching etcd stays kube-apiserver's
            plane.node(ANCHOR, shape="point", style="invis", width="0")
            with plane.subgraph(name="level_with_etcd") as level:
                level.attr(rank="same")
                for name in (ETCD, APISERVER, ANCHOR):
                    level.node(name)
            self.edges.add(APISERVER, ETCD, label="gRPC: the only\nclient of etcd", dir="both", color="#1565c0")
            self.cloud_controller_manager(plane)

    def cloud_controller_manager(self, plane: graphviz.Digraph) -> None:
        state = self.survey.control_plane_state("cloud-controller-manager")
        with plane.subgraph(name="cluster_cloud_controller_manager") as ccm:
            ccm.attr(label="cloud-controller-manager", style="rounded,dashed" if state == "absent" else "rounded",
                     color=ABSENT_COLOR if state == "absent" else "#1565c0")
            process = "cloud-controller-manager"
            self.place(ccm, _Box(process, process, "cloud-specific control loops", state,
                                 names=_names(process, "ccm")))
            for index, controller in enumerate(CLOUD_CONTROLLERS):
                box_id = f"{process}/{controller}"
                self.place(ccm, _Box(box_id, controller, "", state,
                                     names=_names(controller, controller.replace(" ", "-"))))
                above = process if index < 2 else f"{process}/{CLOUD_CONTROLLERS[index - 2]}"
                self.edges.add(above, box_id, style="invis")      # two by two under the process
        self.place(self.graph, _Box(CLOUD, CLOUD, "instances, routes,\nload balancers, disks", shape="box3d",
                                    names=_names(CLOUD, "cloud")))
        self.edges.add(process, APISERVER)
        self.edges.add(process, CLOUD, label="cloud API", style="dashed")

    def node_rows(self) -> list[tuple[str, dict | None]]:
        """The nodes drawn in full: two generic workers for the lecture picture, else the first MAX_NODES."""
        if self.cluster is None:
            return [("node-1", None), ("node-2", None)]
        return [(node["metadata"]["name"], node) for node in self.survey.nodes[:MAX_NODES]]

    def node(self, name: str, node: dict | None) -> None:
        survey = self.survey
        with self.graph.subgraph(name=f"cluster_node_{name}") as box:
            if node is None:
                box.attr(label=f"{name} (worker node)", style="rounded,filled", fillcolor="#f1f8e9",
                         color="#558b2f")
            else:
                ready = node_ready(node)
                roles = ", ".join(node_roles(node))
                title = f"{name} ({roles})" if roles else name
                box.attr(label=f"{title} · {ready}", style="rounded,filled" if ready == "Ready"
                         else "rounded,filled,bold", fillcolor=READY_FILL[ready], color=READY_COLOR[ready],
                         fontcolor=READY_COLOR[ready])
            for component, detail in NODE_COMPONENTS:
                box_id = f"{name}/{component}"
                self.place(box, _Box(box_id, component, detail, survey.node_state((component,), name),
                                     names=_names(component)))
                self.edges.add(box_id, APISERVER, upward="true")
            self.edges.add(f"{name}/kube-proxy", f"{name}/kubelet", style="invis")
            known = {component for component, _detail in NODE_COMPONENTS} | set(RUNTIME_COMPONENTS)
            for component in sorted(component for (component, where) in survey.components
                                    if where == name and component not in known):
                box_id = f"{name}/{component}"
                self.place(box, _Box(box_id, component, "",
                                     component_state(survey.components[(component, name)]),
                                     names=_names(component)))
                self.edges.add(box_id, APISERVER, upward="true")
                self.edges.add(f"{name}/kubelet", box_id, style="invis")
            state = survey.node_state(RUNTIME_COMPONENTS, name)
            with box.subgraph(name=f"cluster_runtime_{name}") as runtime:
                runtime.attr(label="container runtime", style="rounded,dashed" if state == "absent"
                             else "rounded", color="#6d4c41")
                for component, detail in (("containerd", "images, containers (CRI)"),
                                          ("runc", "namespaces + cgroups (OCI)")):
                    self.place(runtime, _Box(f"{name}/{component}", component, detail, state,
                                             names=_names(component, "container runtime", "container-runtime",
                                                          "runtime", "docker", "cri")))
            self.edges.add(f"{name}/kubelet", f"{name}/containerd", label="CRI")
            self.edges.add(f"{name}/containerd", f"{name}/runc", label="OCI")

    def more_nodes(self, hidden: list[dict], above: str) -> None:
        counts: dict[str, int] = {}
        for node in hidden:
            counts[node_ready(node)] = counts.get(node_ready(node), 0) + 1
        summary = ", ".join(f"{counts[state]} {state}" for state in ("Ready", "NotReady", "Unknown")
                            if state in counts)
        self.place(self.graph, _Box(MORE_NODES, f"… and {len(hidden)} more nodes",
                                    f"({summary})\nkubelet · kube-proxy · containerd each", shape="folder",
                                    names=_names(MORE_NODES)))
        self.edges.add(MORE_NODES, APISERVER, upward="true")
        self.edges.add(above, MORE_NODES, style="invis")

    def addons(self) -> None:
        with self.graph.subgraph(name="cluster_addons") as addons:
            addons.attr(label="Add-ons (pods in kube-system)", style="rounded,filled", fillcolor="#f3e5f5",
                        color="#6a1b9a", fontcolor="#4a148c")
            for index, addon in enumerate(ADDONS):
                state, detail = self.survey.addon(addon)
                box_id = f"addon/{addon.key}"
                self.place(addons, _Box(box_id, addon.title, detail, state,
                                        names=_names(addon.key, addon.title, *addon.patterns)))
                self.edges.add(box_id, APISERVER, upward="true")
                self.edges.add(ANCHOR if index == 0 else f"addon/{ADDONS[index - 1].key}", box_id, style="invis")
        self.first_row.append(f"addon/{ADDONS[0].key}")


def architecture(cluster: "Cluster | None" = None, highlight: str | Iterable[str] | None = None, *,
                 activity: float | None = None) -> graphviz.Digraph:
    """The cluster architecture; with ``cluster``, that cluster's nodes and what runs on them.

    ``highlight``: a component name or names to light (``"etcd"``, ``"kubelet"``, ``"CoreDNS"``).
    ``activity``: label each arrow into kube-apiserver with the requests its component made in the
    last ``activity`` virtual seconds (from the audit log), and the arrow to etcd with the writes.
    """
    return _Diagram(cluster, highlight, activity).build()
