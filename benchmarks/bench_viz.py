"""Views (engine/viz): a widget reacts to a click within 100 ms on a 50-node cluster (DESIGN.md).

A 50-node cluster with 500 pods created through ``c.admin`` (bound to nodes
round-robin, a tenth left unscheduled, phases mixed through the status
subresource). Measured, each as the median of several runs:

* ``ClusterView.refresh()``: re-read Nodes and Pods and re-render the HTML;
* ``render_cluster_html`` alone (the pure function);
* ``architecture(cluster)`` source generation (no ``dot`` run);
* ``state_at`` for nodes and pods at a past revision plus its rendering (one time-travel slider move);
* ``TraceView.refresh()`` when the chosen trace has not changed (the list of recent writes only);
* last, a click on the *step* button of ``dashboard(cluster)``: one virtual second of the cluster, then its
  five views refreshed (the cluster view, time travel, events, the inspector, request traces). The cluster
  first runs ``SETTLE`` virtual seconds, untimed, past the tick in which the kubelets start the pods they
  were handed (1,500 Events and 500 pod status writes in one virtual second: about 0.7 s of wall time, the
  cluster's work, not the widgets').

The budget is the table's last row.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import engine

NODES = 50
PODS = 500
REPEATS = 7
SETTLE = 10.0
CLICK_BUDGET_MS = 100


def _cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=NODES, seed=0, keep_history=False)
    phases = ("Running", "Running", "Running", "Pending", "Succeeded", "Failed")
    for index in range(PODS):
        spec: dict = {"containers": [{"name": "main", "image": "nginx:1.27",
                                      "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}
        if index % 10:
            spec["nodeName"] = f"node-{index % NODES + 1}"
        created = cluster.admin.create({"apiVersion": "v1", "kind": "Pod",
                                        "metadata": {"name": f"web-{index}", "namespace": "default"},
                                        "spec": spec})
        if index % 10:
            created["status"] = {"phase": phases[index % len(phases)]}
            cluster.admin.update_status(created)
    cluster.run(1.0)
    return cluster


def _median_ms(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run() -> list[tuple[str, float, str]]:
    from engine.viz import ClusterView, TimeTravel, TraceView, architecture, dashboard, render_cluster_html, state_at
    cluster = _cluster()
    view = ClusterView(cluster)
    nodes = list(cluster.apiserver.cached_list("nodes"))
    pods = list(cluster.apiserver.cached_list("pods"))
    middle = (cluster.store.compact_revision + 1 + cluster.store.revision) // 2
    travel = TimeTravel(cluster)
    traces = TraceView(cluster)

    def slide() -> None:
        travel.slider.value = middle if travel.slider.value != middle else middle + 1

    rows = [
        (f"ClusterView.refresh, {NODES} nodes / {PODS} pods", _median_ms(view.refresh), "ms"),
        ("render_cluster_html alone", _median_ms(lambda: render_cluster_html(nodes, pods)), "ms"),
        ("architecture(cluster) DOT source", _median_ms(lambda: architecture(cluster).source), "ms"),
        ("state_at(nodes, pods) at a past revision, no cache", _median_ms(
            lambda: state_at(cluster, middle, kinds=("nodes", "pods"))), "ms"),
        ("TimeTravel slider move (read + render)", _median_ms(slide), "ms"),
        ("TraceView.refresh (50 recent writes, trace unchanged)", _median_ms(traces.refresh), "ms"),
    ]
    board = dashboard(cluster)
    cluster.run(SETTLE)
    rows.append(("dashboard(cluster) step click: 1 virtual s, then its 5 views refreshed",
                 _median_ms(board.controls.step_button.click), "ms"))
    rows.append(("  budget (DESIGN.md): a widget reacts to a click within", CLICK_BUDGET_MS, "ms"))
    return rows
