"""The architecture diagram: which boxes and arrows it draws, for the lecture picture and a live cluster."""

from __future__ import annotations

import re

import pytest

import engine
from engine.viz.architecture import ABSENT_COLOR, HIGHLIGHT_EDGE, HIGHLIGHT_FILL, architecture

SEED_COMPONENTS = ["etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager",
                   "cloud-controller-manager", "cloud-controller-manager/node controller",
                   "cloud-controller-manager/route controller", "cloud-controller-manager/service controller",
                   "cloud-controller-manager/volume controller", "node-1/kubelet", "node-1/kube-proxy",
                   "node-1/containerd", "node-1/runc", "addon/networking", "addon/dns", "addon/dashboard",
                   "addon/monitoring", "addon/logging", "kubectl"]


@pytest.mark.parametrize("component", SEED_COMPONENTS)
def test_the_lecture_picture_draws_every_component_of_the_seed_outline(component, helpers):
    helpers.node_attrs(architecture().source, component)


def test_only_kube_apiserver_has_an_edge_to_or_from_etcd(helpers):
    touching = [(tail, head) for tail, head, _ in helpers.edges_of(architecture().source)
                if "etcd" in (tail, head)]
    assert touching == [("kube-apiserver", "etcd")]


@pytest.mark.parametrize("component", [name for name in SEED_COMPONENTS if name not in (
    "etcd", "kube-apiserver", "node-1/containerd", "node-1/runc")
    and not name.startswith("cloud-controller-manager/")])
def test_every_component_and_the_user_talk_to_kube_apiserver(component, helpers):
    assert (component, "kube-apiserver") in [(t, h) for t, h, _ in helpers.visible_edges(architecture().source)]


def test_the_kubelet_drives_the_container_runtime_through_the_cri(helpers):
    edges = {(t, h): attrs for t, h, attrs in helpers.visible_edges(architecture().source)}
    assert "CRI" in edges[("node-1/kubelet", "node-1/containerd")]
    assert "OCI" in edges[("node-1/containerd", "node-1/runc")]


@pytest.mark.parametrize("highlight, lit", [
    ("etcd", ["etcd"]),
    ("kube-scheduler", ["kube-scheduler"]),
    ("kubelet", ["node-1/kubelet", "node-2/kubelet"]),
    ("CoreDNS", ["addon/dns"]),
    (["etcd", "kube-apiserver"], ["etcd", "kube-apiserver"]),
], ids=["etcd alone is filled when lit",
        "the scheduler is filled when lit",
        "lighting the kubelet lights it on every node",
        "an add-on is found by the name of its implementation",
        "several components can be lit at once"])
def test_a_highlighted_component_is_filled_and_the_others_are_not(highlight, lit, helpers):
    source = architecture(highlight=highlight).source
    for component in SEED_COMPONENTS:
        attrs = helpers.node_attrs(source, component)
        assert ("filled" in attrs and HIGHLIGHT_FILL in attrs) == (component in lit), component


def test_edges_to_and_from_a_highlighted_component_are_bold(helpers):
    edges = helpers.visible_edges(architecture(highlight="kube-scheduler").source)
    bold = [(t, h) for t, h, attrs in edges if HIGHLIGHT_EDGE in attrs]
    assert bold == [("kube-scheduler", "kube-apiserver")]


def test_the_diagram_renders_to_svg_with_dot(cluster):
    for graph in (architecture(), architecture(cluster, highlight="kubelet")):
        assert b"<svg" in graph.pipe(format="svg")


def test_a_live_cluster_draws_its_real_nodes_with_their_ready_condition(cluster):
    source = architecture(cluster).source
    for node in cluster.node_names:
        assert f'cluster_node_{node}' in source
    assert "node-1 · Ready" in source
    assert "control-plane (control-plane) · Ready" in source


def test_components_not_installed_are_greyed_dashed_and_labelled_not_running(cluster, helpers):
    source = architecture(cluster).source
    scheduler = helpers.node_attrs(source, "kube-scheduler")
    assert "not running" in scheduler and "dashed" in scheduler and ABSENT_COLOR in scheduler
    manager = helpers.node_attrs(source, "kube-controller-manager")
    assert "not running" not in manager and "dashed" not in manager
    assert "not running" not in helpers.node_attrs(source, "node-2/kubelet")
    assert "not running" not in helpers.node_attrs(source, "etcd")


def test_a_failed_node_shows_not_ready_and_its_kubelet_stopped(cluster, helpers):
    cluster.fail_node("node-2")
    cluster.run(5)
    node = cluster.admin.get("nodes", "node-2")
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition.update(status="False", reason="KubeletNotReady")
    cluster.admin.update_status(node)
    source = architecture(cluster).source
    assert "node-2 · NotReady" in source
    assert "node-1 · Ready" in source
    assert "stopped" in helpers.node_attrs(source, "node-2/kubelet")
    assert "stopped" not in helpers.node_attrs(source, "node-1/kubelet")


def test_an_add_on_pod_in_kube_system_marks_the_add_on_running(cluster, helpers, pods):
    cluster.admin.create(pods.make("coredns-5d78c9869d-abcde", node="node-1", namespace="kube-system",
                                   labels={"k8s-app": "kube-dns"}))
    pods.set_phase(cluster, "coredns-5d78c9869d-abcde", "Running", namespace="kube-system")
    source = architecture(cluster).source
    dns = helpers.node_attrs(source, "addon/dns")
    assert "not running" not in dns and "1/1 pods Running" in dns
    assert "not running" in helpers.node_attrs(source, "addon/dashboard")


def test_more_than_six_nodes_collapse_into_one_box():
    big = engine.Cluster(nodes=8, seed=0)
    source = architecture(big).source
    assert "… and 3 more nodes" in source
    assert source.count("subgraph \"cluster_node_") + source.count("subgraph cluster_node_") == 6


def test_the_same_cluster_state_gives_the_same_dot_source():
    first, second = engine.Cluster(nodes=2, seed=3), engine.Cluster(nodes=2, seed=3)
    assert architecture(first, "etcd").source == architecture(second, "etcd").source
    assert architecture(first).source == architecture(first).source


class _Running:
    """Stands in for a component a later part of the engine will start."""

    running = True

    def start(self) -> None: ...

    def stop(self) -> None: ...


def test_the_diagram_grows_with_the_components_the_cluster_runs(cluster, helpers):
    cluster.components[("kube-scheduler", None)] = _Running()
    cluster.components[("kube-proxy", "node-1")] = _Running()
    cluster.components[("containerd", "node-1")] = _Running()
    cluster.components[("node-problem-detector", "node-1")] = _Running()
    cluster.components[("cloud-controller-manager", None)] = _Running()
    source = architecture(cluster).source
    for component in ("kube-scheduler", "node-1/kube-proxy", "node-1/containerd", "node-1/runc",
                      "cloud-controller-manager", "cloud-controller-manager/route controller",
                      "node-1/node-problem-detector"):
        assert "not running" not in helpers.node_attrs(source, component), component
    assert "not running" in helpers.node_attrs(source, "node-2/kube-proxy")
    assert ("node-1/node-problem-detector", "kube-apiserver") in [
        (tail, head) for tail, head, _ in helpers.visible_edges(source)]


def test_a_daemonset_pod_of_kube_proxy_runs_it_on_its_node_and_is_no_networking_add_on(cluster, helpers, pods):
    cluster.admin.create(pods.make("kube-proxy-x7k2p", node="node-3", namespace="kube-system",
                                   labels={"k8s-app": "kube-proxy"}))
    pods.set_phase(cluster, "kube-proxy-x7k2p", "Running", namespace="kube-system")
    source = architecture(cluster).source
    assert "not running" not in helpers.node_attrs(source, "node-3/kube-proxy")
    assert "not running" in helpers.node_attrs(source, "node-1/kube-proxy")
    assert "not running" in helpers.node_attrs(source, "addon/networking")


def test_activity_labels_arrows_with_recent_requests_from_the_audit_log(cluster, helpers, pods):
    cluster.run(10)
    for index in range(3):
        cluster.admin.create(pods.make(f"web-{index}", node="node-1"))
    edges = {(tail, head): attrs for tail, head, attrs in
             helpers.visible_edges(architecture(cluster, activity=5).source)}
    assert "3 req / 5 s" in edges[("kubectl", "kube-apiserver")]
    writes = re.search(r"(\d+) writes / 5 s", edges[("kube-apiserver", "etcd")])
    assert writes and int(writes[1]) >= 3           # the pods, plus the kubelets' lease renewals
    assert "req / 5 s" not in edges[("kube-scheduler", "kube-apiserver")]
    assert "req" not in architecture(cluster).source


def test_activity_over_a_longer_window_counts_the_kubelets_heartbeats(cluster, helpers):
    cluster.run(30)
    edges = {(tail, head): attrs for tail, head, attrs in
             helpers.visible_edges(architecture(cluster, activity=30).source)}
    assert "req / 30 s" in edges[("node-1/kubelet", "kube-apiserver")]


def test_the_diagram_fits_a_notebook_column():
    import re

    import engine
    from engine.viz import architecture
    for graph in (architecture(), architecture(engine.Cluster(nodes=3, seed=0))):
        svg = graph.pipe(format="svg").decode()
        width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
        assert width <= 720
