"""engine.viz exports the views, and the dashboard composes them under one set of controls."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

import engine.viz as viz

EXPORTS = ["architecture", "ClusterView", "render_cluster_html", "Controls", "TimeTravel", "state_at",
           "EventLog", "Inspector", "object_diff", "request_trace", "trace_table", "owner_graph", "TraceView", "dashboard"]


@pytest.mark.parametrize("name", EXPORTS)
def test_the_package_exports_each_view(name):
    assert name in viz.__all__ and callable(getattr(viz, name))


def test_the_dashboard_puts_the_views_in_tabs_under_controls(cluster, pods):
    board = viz.dashboard(cluster, speed=2.0)
    assert isinstance(board, widgets.VBox)
    assert list(board.tabs.titles) == list(viz.TAB_TITLES)
    kinds = [type(child) for child in board.tabs.children]
    assert kinds == [viz.ClusterView, viz.TimeTravel, viz.EventLog, viz.Inspector, viz.TraceView]
    cluster.admin.create(pods.make("web", node="node-1"))
    before = cluster.now
    board.controls.tick()
    assert cluster.now == pytest.approx(before + 2.0)
    assert 'data-pod="default/web"' in board.tabs.children[0].body.value
    assert 'data-pod="default/web"' in board.tabs.children[1].body.value
