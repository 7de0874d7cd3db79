"""ClusterTimeline: what changed on the watched nodes and pods between looks, drawn on a time axis."""

from __future__ import annotations

import re

from engine.viz.timeline import ClusterTimeline


def make_ready(cluster, name: str) -> None:
    pod = cluster.admin.get("pods", name, "default")
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    cluster.admin.update_status(pod)


def labels(lines: list[str]) -> list[str]:
    return [line.split(maxsplit=2)[2] for line in lines]


def test_pod_marks_follow_creation_readiness_and_deletion_of_the_selected_pods_only(cluster, pods):
    cluster.run(1)
    timeline = ClusterTimeline(cluster, pods="app=web")
    assert timeline.marks == []
    cluster.admin.create(pods.make("web-0", node="node-2", labels={"app": "web"}))
    cluster.admin.create(pods.make("other", labels={"app": "other"}))
    cluster.run(1)
    assert labels(timeline.observe()) == ["pod/web-0                    created on node-2"]
    make_ready(cluster, "web-0")
    cluster.run(1)
    assert labels(timeline.observe()) == ["pod/web-0                    Ready"]
    assert timeline.observe() == []                       # nothing changed since the last look
    cluster.admin.delete("pods", "web-0", "default", grace_period_seconds=0)
    cluster.run(1)
    assert labels(timeline.observe()) == ["pod/web-0                    gone"]
    assert timeline.lanes == ["pod/web-0"]
    assert [mark.time - timeline.start for mark in timeline.marks] == [1.0, 2.0, 3.0]   # stamped when seen


def test_node_marks_show_the_ready_condition_and_taints_and_the_svg_draws_every_mark(cluster):
    cluster.run(1)
    timeline = ClusterTimeline(cluster, nodes=["node-1"], title="node-1 fails")
    assert [mark.label for mark in timeline.marks] == ["Ready"]
    cluster.fail_node("node-1")
    cluster.run(60)
    assert [line.split()[-1] for line in timeline.observe()] == [
        "Unknown", "+unreachable:NoExecute", "+unreachable:NoSchedule"]
    svg = timeline.svg()
    assert svg.startswith("<svg") and "node-1 fails" in svg and "node/node-1" in svg
    assert len(re.findall("<circle", svg)) == len(timeline.marks) == 4
    assert timeline._repr_html_() == svg
