"""The scheduler view: every filter's verdict per node, the scores of the real attempt, and the widget."""

from __future__ import annotations

import pytest

import engine
from engine.viz.scheduler_view import (SchedulerView, decision_rows, filter_verdicts, parse_taints,
                                       parse_tolerations, render_decision_html)

CONTROL_PLANE_TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


@pytest.fixture
def scheduling() -> engine.Cluster:
    return engine.Cluster(nodes=2, seed=0)


def test_taints_and_tolerations_are_read_in_kubectl_syntax():
    assert parse_taints("gpu=true:NoSchedule, spot:PreferNoSchedule") == [
        {"key": "gpu", "value": "true", "effect": "NoSchedule"}, {"key": "spot", "effect": "PreferNoSchedule"}]
    assert parse_tolerations("gpu=true:NoSchedule, spot") == [
        {"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists"}]


def test_every_filter_gives_its_verdict_on_every_node_not_only_the_first_failing_one(scheduling):
    view = SchedulerView(scheduling)
    view.add_node("gpu-1", cpu="2", labels={"disktype": "ssd"}, taints=parse_taints("gpu=true:NoSchedule"))
    pod = {"metadata": {"name": "big", "namespace": "default"},
           "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "3"}}}],
                    "nodeSelector": {"disktype": "ssd"}}}
    verdicts = filter_verdicts(scheduling, pod)
    assert set(verdicts) == {"control-plane", "node-1", "node-2", "gpu-1"}
    gpu = verdicts["gpu-1"]
    assert gpu["TaintToleration"] == ["node(s) had untolerated taint {gpu: true}"]
    assert gpu["NodeResourcesFit"] == ["Insufficient cpu"]          # reported although a filter before it failed
    assert gpu["NodeAffinity"] is None
    assert verdicts["node-1"]["NodeAffinity"] == ["node(s) didn't match Pod's node affinity/selector"]
    assert verdicts["control-plane"]["TaintToleration"] == [CONTROL_PLANE_TAINT]


def test_a_pod_added_through_the_view_shows_the_chosen_node_with_its_weighted_scores(scheduling):
    view = SchedulerView(scheduling)
    created = view.add_pod("web", cpu="500m", memory="256Mi")
    assert created["metadata"]["name"] == "web" and view.pod.value == "default/web"
    rows, summary = decision_rows(scheduling, "default", "web")
    chosen = [row for row in rows if row["chosen"]]
    node = scheduling.get("pod", "web")["spec"]["nodeName"]
    assert [row["node"] for row in chosen] == [node] == [summary["node"]]
    assert chosen[0]["total"] == sum(chosen[0]["scores"].values())
    assert chosen[0]["scores"]["TaintToleration"] == 3 * 100           # weight 3, no PreferNoSchedule taint
    plane = next(row for row in rows if row["node"] == "control-plane")
    assert plane["total"] is None and plane["filters"]["TaintToleration"] == [CONTROL_PLANE_TAINT]
    text = view.table.value
    assert f"is bound to <b>{node}</b>" in text and "TaintToleration ×3" in text and "Insufficient" not in text


def test_a_pod_that_fits_nowhere_shows_the_failed_scheduling_message(scheduling):
    view = SchedulerView(scheduling)
    view.add_pod("huge", cpu="64")
    rows, summary = decision_rows(scheduling, "default", "huge")
    assert summary["node"] is None
    assert summary["message"].startswith(f"0/3 nodes are available: 1 {CONTROL_PLANE_TAINT}, 2 Insufficient cpu.")
    assert all(row["total"] is None for row in rows)
    assert "is Pending: 0/3 nodes are available" in render_decision_html(rows, summary)


def test_a_bad_form_value_is_reported_in_the_view_and_changes_nothing(scheduling):
    view = SchedulerView(scheduling)
    view.node_name.value = "Not_A_Valid_Name"
    view.add_node_button.click()
    assert "Invalid" in view.message.value or "invalid" in view.message.value
    assert "Not_A_Valid_Name" not in [n["metadata"]["name"] for n in scheduling.list("nodes", None)]
