"""The request explorer: recent writes, newest first, and the chosen one's trace drawn as SVG."""

from __future__ import annotations

from engine.viz.trace_view import TraceView, recent_writes


def test_recent_writes_are_newest_first_with_the_names_creates_made(cluster, pods):
    cluster.admin.create(pods.make("first"))
    cluster.admin.create(pods.make("second"))
    labels = [label for label, _audit_id in recent_writes(cluster, 2)]
    assert labels[0].endswith("kubernetes-admin create pods default/second")
    assert labels[1].endswith("kubernetes-admin create pods default/first")


def test_heartbeats_and_events_are_left_out(cluster):
    cluster.run(30)
    assert not any(" leases " in label for label, _audit_id in recent_writes(cluster))


def test_the_view_draws_the_chosen_requests_trace(cluster, pods):
    cluster.admin.create(pods.make("web"))
    view = TraceView(cluster)
    assert "create pods default/web" in view.request.label
    assert view.diagram.value.startswith("<svg")
    assert "create pods web (201)" in view.diagram.value


def test_refresh_keeps_the_choice_and_redraws_when_the_trace_grows(cluster, pods):
    cluster.admin.create(pods.make("web"))
    view = TraceView(cluster)
    chosen = view.request.value
    before = view.diagram.value
    cluster.client("system:kube-scheduler", ()).bind("default", "web", "node-1")
    for index in range(3):
        cluster.admin.create(pods.make(f"other-{index}"))
    view.refresh()
    assert view.request.value == chosen
    assert view.diagram.value != before
    assert "create pods/binding web (201)" in view.diagram.value
