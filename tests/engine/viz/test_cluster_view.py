"""The cluster view: pods in the right node box, coloured by state, and the nodes' resource bars."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from engine.viz.cluster_view import UNSCHEDULED, ClusterView, render_cluster_html


class _Boxes(HTMLParser):
    """Which pod chip sits in which node box, with its classes; and each box's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, dict[str, str]] = {}
        self.pods: dict[str, tuple[str, str]] = {}     # pod -> (node box, classes)
        self.bars: dict[tuple[str, str], int] = {}
        self._node: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        if "data-node" in attrs:
            self._node = attrs["data-node"]
            self.nodes[self._node] = attrs
        if "data-pod" in attrs:
            self.pods[attrs["data-pod"]] = (self._node, attrs["class"])
        if "data-resource" in attrs:
            self.bars[(self._node, attrs["data-resource"])] = int(attrs["data-percent"])


def parse(text: str) -> _Boxes:
    parser = _Boxes()
    parser.feed(text)
    return parser


def node(name: str, *, ready: str = "True", cpu: str = "4", memory: str = "8Gi", roles: tuple = ()) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {f"node-role.kubernetes.io/{role}": "" for role in roles}},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def pod(name: str, node_name: str | None = None, phase: str | None = "Running", *, cpu: str = "500m",
        memory: str = "1Gi", deleting: bool = False, namespace: str = "default") -> dict:
    metadata = {"name": name, "namespace": namespace}
    if deleting:
        metadata["deletionTimestamp"] = "2025-01-01T00:00:10Z"
    spec = {"containers": [{"name": "main", "image": "nginx",
                            "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"metadata": metadata, "spec": spec, "status": {"phase": phase} if phase else {}}


@pytest.mark.parametrize("the_pod, box, css", [
    (pod("web-1", "node-1", "Running"), "node-1", "kv-phase-running"),
    (pod("web-2", "node-2", "Pending"), "node-2", "kv-phase-pending"),
    (pod("batch", "node-1", "Succeeded"), "node-1", "kv-phase-succeeded"),
    (pod("crash", "node-2", "Failed"), "node-2", "kv-phase-failed"),
    (pod("going", "node-1", "Running", deleting=True), "node-1", "kv-phase-terminating"),
    (pod("fresh", None, None), "", "kv-phase-pending"),
], ids=["a running pod is green in its node's box",
        "a pending pod bound to a node is amber in that node's box",
        "a succeeded pod is grey",
        "a failed pod is red",
        "a pod being deleted is Terminating, purple, whatever its phase",
        "a pod without spec.nodeName sits in the unscheduled box"])
def test_each_pod_is_in_its_node_box_with_its_state_colour(the_pod, box, css):
    text = render_cluster_html([node("node-1"), node("node-2")], [the_pod])
    found = parse(text)
    pod_id = f"default/{the_pod['metadata']['name']}"
    assert found.pods[pod_id][0] == box
    assert css in found.pods[pod_id][1].split()
    if box == "":
        assert UNSCHEDULED in text


def test_node_boxes_show_ready_and_not_ready_badges():
    found = parse(render_cluster_html([node("node-1"), node("node-2", ready="False"),
                                       node("node-3", ready="Unknown")], []))
    assert {name: attrs["data-ready"] for name, attrs in found.nodes.items()} == {
        "node-1": "Ready", "node-2": "NotReady", "node-3": "Unknown"}
    assert "kv-notready" in found.nodes["node-2"]["class"]


def test_resource_bars_sum_the_requests_of_non_terminal_pods_against_allocatable():
    found = parse(render_cluster_html([node("node-1", cpu="2", memory="4Gi")], [
        pod("a", "node-1", cpu="500m", memory="1Gi"), pod("b", "node-1", cpu="500m", memory="1Gi"),
        pod("done", "node-1", "Succeeded", cpu="1", memory="2Gi")]))
    assert found.bars[("node-1", "cpu")] == 50
    assert found.bars[("node-1", "mem")] == 50


def test_control_plane_nodes_come_first_then_nodes_by_name():
    found = parse(render_cluster_html([node("node-2"), node("node-1"), node("zz", roles=("control-plane",))],
                                      []))
    assert list(found.nodes) == ["zz", "node-1", "node-2"]


def test_a_pod_bound_to_a_missing_node_gets_a_box_of_its_own():
    found = parse(render_cluster_html([node("node-1")], [pod("lost", "node-9")]))
    assert found.pods["default/lost"][0] == "node-9"


def test_names_are_escaped():
    text = render_cluster_html([node("node-1")], [pod("<script>", "node-1")])
    assert "<script>" not in text.replace("<style>", "")


def test_the_widget_refreshes_from_the_api(cluster, pods):
    view = ClusterView(cluster)
    assert parse(view.body.value).pods == {}
    cluster.admin.create(pods.make("web", node="node-1"))
    cluster.admin.create(pods.make("queued"))
    view.refresh()
    found = parse(view.body.value)
    assert found.pods["default/web"][0] == "node-1"
    assert found.pods["default/queued"][0] == ""
    assert set(found.nodes) == {"control-plane", "node-1", "node-2", "node-3", ""}
    assert "2 pods" in view.header.value


def test_the_view_writes_no_audit_entries(cluster):
    before = cluster.apiserver.audit.total
    ClusterView(cluster).refresh()
    assert cluster.apiserver.audit.total == before


def test_a_requests_cache_gives_the_same_html():
    nodes = [node("node-1")]
    pods = [dict(pod("a", "node-1"), metadata={"name": "a", "namespace": "default", "uid": "u1",
                                                "resourceVersion": "5"})]
    cache: dict = {}
    assert render_cluster_html(nodes, pods, cache=cache) == render_cluster_html(nodes, pods, cache=cache) \
        == render_cluster_html(nodes, pods)
    assert cache == {("u1", "5"): (500, 1024 ** 3)}


def test_pressure_conditions_that_are_true_get_a_badge():
    pressed = node("node-1")
    pressed["status"]["conditions"] += [{"type": "MemoryPressure", "status": "True"},
                                        {"type": "DiskPressure", "status": "False"}]
    text = render_cluster_html([pressed], [])
    assert "kv-pressure" in text and "MemoryPressure" in text and "DiskPressure" not in text


def test_objects_written_at_the_marked_revision_are_outlined():
    fresh = dict(pod("fresh", "node-1"), metadata={"name": "fresh", "namespace": "default", "resourceVersion": "42"})
    older = dict(pod("older", "node-1"), metadata={"name": "older", "namespace": "default", "resourceVersion": "7"})
    found = parse(render_cluster_html([node("node-1")], [fresh, older], changed_at=42))
    assert "kv-changed" in found.pods["default/fresh"][1].split()
    assert "kv-changed" not in found.pods["default/older"][1].split()
    unmarked = parse(render_cluster_html([node("node-1")], [fresh, older]))
    assert not any("kv-changed" in classes for _box, classes in unmarked.pods.values())
