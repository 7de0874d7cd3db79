"""The Dashboard widget: the add-on's views in tabs, logs and YAML a click away, read through the API server."""

from __future__ import annotations

import pytest
import yaml

import engine
from engine.addons.dashboard import views
from engine.viz.kubernetes_dashboard import ALL_NAMESPACES, DashboardView, listed_objects, render_html

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


@pytest.fixture(scope="module")
def cluster():
    c = engine.Cluster(nodes=2, seed=0)
    c.apply(WEB)
    c.run(20)
    return c


def test_each_tab_renders_its_view_as_a_table(cluster):
    html = render_html("workloads", views.workloads(cluster.admin, "default"))
    assert "<h4 style='margin:8px 0 2px'>Deployments</h4>" in html and "<tr data-name='web'>" in html
    assert "2 / 2" in html
    pods = render_html("pod", views.pods(cluster.admin, "default"))
    assert pods.count("<tr data-name='web-") == 2 and "color:#2e7d32'>Running<" in pods
    assert "control-plane" in render_html("node", views.nodes(cluster.admin))
    assert "kubernetes.default:443 TCP" in render_html("service", views.services(cluster.admin, "default"))
    assert "ScalingReplicaSet" in render_html("event", views.events(cluster.admin, "default"))
    with pytest.raises(ValueError):
        render_html("secrets", {})


def test_a_refused_list_shows_the_403_message(cluster):
    html = render_html("pod", views.pods(cluster.client("jane"), "default"))
    assert 'pods is forbidden: User &quot;jane&quot; cannot list resource' in html
    assert "There is nothing to display here" in html


def test_the_widget_follows_the_cluster_and_shows_logs_and_yaml(cluster):
    board = DashboardView(cluster)
    assert ALL_NAMESPACES in board.namespace.options and "default" in board.namespace.options
    assert "<tr data-name='web'>" in board.pages[0].value
    board.tabs.selected_index = 1                      # Pods
    pods = [label for label in board.object.options if label.startswith("pod/default/web-")]
    assert len(pods) == 2 and board.pages[1].value.count("<tr data-name='web-") == 2
    cluster.admin.scale("deployments", "web", "default", 3)
    cluster.run(10)
    board.refresh()
    assert board.pages[1].value.count("<tr data-name='web-") == 3
    board.select(pods[0])
    board.show_logs()
    assert "kd-logs" in board.detail.value and "Configuration complete" in board.detail.value
    board.show_yaml()
    text = board.detail.value.split(">", 1)[1].rsplit("</pre>", 1)[0]
    assert yaml.safe_load(text.replace("&#x27;", "'").replace("&quot;", '"'))["kind"] == "Pod"


def test_not_live_means_only_the_button_refreshes(cluster):
    board = DashboardView(cluster, live=False, namespace=None)
    assert board.namespace.value == ALL_NAMESPACES
    before = board.pages[0].value
    cluster.apply({**WEB, "metadata": {"name": "api"}})
    cluster.run(5)
    board.refresh()
    assert board.pages[0].value == before
    board.refresh_button.click()
    assert "<tr data-name='api'>" in board.pages[0].value


def test_listed_objects_name_each_row_for_the_yaml_chooser(cluster):
    labels = [label for label, *_ in listed_objects("node", views.nodes(cluster.admin))]
    assert labels == ["node/control-plane", "node/node-1", "node/node-2"]
    assert ("deployment/default/web", "deployment", "default", "web") in \
        listed_objects("workloads", views.workloads(cluster.admin, "default"))


def test_show_logs_asks_for_a_pod(cluster):
    board = DashboardView(cluster)
    board.show_logs()
    assert "choose a pod" in board.detail.value
