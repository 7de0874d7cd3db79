"""engine.viz: the course's views, each a function of engine state, testable without a browser.

Diagrams are ``graphviz.Digraph`` objects (they render themselves in
JupyterLab; ``graph.pipe(format="svg")`` anywhere); widgets are ipywidgets.
Every view reads the cluster (watch cache, MVCC store, audit log), never
changes it, and never writes to stderr.

    from engine.viz import architecture, dashboard, request_trace
    architecture()                          # the lecture picture
    architecture(c, highlight="kubelet")    # this cluster, the kubelets lit
    dashboard(c)                            # controls over the cluster view, time travel, events, ...
    request_trace(c, kind="pod", name="web")
    owner_graph(c, "default")               # Deployment -> ReplicaSet -> Pods, by ownerReferences

``dashboard(cluster)`` composes ``Controls`` over a ``Tab`` of the
``ClusterView``, ``TimeTravel``, ``EventLog``, ``Inspector`` and ``TraceView``;
each tick of the controls refreshes all of them.
(The Kubernetes Dashboard add-on's own widget is ``engine.viz.kubernetes_dashboard.DashboardView``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as widgets

from engine.viz.architecture import architecture
from engine.viz.cluster_view import ClusterView, render_cluster_html
from engine.viz.controls import Controls, TimeTravel, state_at
from engine.viz.events import EventLog
from engine.viz.inspector import Inspector, object_diff
from engine.viz.owners import owner_graph
from engine.viz.trace import request_trace, trace_table
from engine.viz.trace_view import TraceView

if TYPE_CHECKING:
    from engine.cluster import Cluster

__all__ = ["architecture", "ClusterView", "render_cluster_html", "Controls", "TimeTravel", "state_at",
           "EventLog", "Inspector", "object_diff", "request_trace", "trace_table", "owner_graph", "TraceView", "dashboard"]

TAB_TITLES = ("Cluster", "Time travel", "Events", "Inspector", "Requests")


def dashboard(cluster: "Cluster", *, speed: float = 1.0) -> widgets.VBox:
    """Controls over tabs: the cluster view, time travel, the event log, the inspector and request traces."""
    views = [ClusterView(cluster), TimeTravel(cluster), EventLog(cluster), Inspector(cluster), TraceView(cluster)]
    tabs = widgets.Tab(children=views)
    tabs.titles = TAB_TITLES
    controls = Controls(cluster, views=views, speed=speed)
    board = widgets.VBox([controls, tabs])
    board.controls = controls
    board.tabs = tabs
    return board
