"""Request traces: a pod's create, its etcd write, the watch events it caused and the requests they led to."""

from __future__ import annotations

import pytest

import engine
from engine.components import ComponentSpec
from engine.viz.trace import request_trace, trace_table

NODES_ONLY = [ComponentSpec("kubelet", "node", "engine.kubelet.node_status:NodeStatusAgent", user="system:node:{node}",
                            groups=("system:nodes",))]
"""Nodes that register and heartbeat, and nothing else: no controller (their informers would add their own
watch deliveries to every trace), no kube-scheduler and no kubelet running pods (the test binds the pod itself,
and a kubelet's pod watch and status writes would join the trace)."""


def without_controllers(steps):
    """The steps that do not involve kube-controller-manager (its controllers watch pods too)."""
    return [step for step in steps if "kube-controller-manager" not in (step["source"], step["target"])]


@pytest.fixture
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=3, seed=0, components=NODES_ONLY)
    c.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
    return c


@pytest.fixture
def scheduled(cluster, pods):
    """A pod created by the admin and bound by a watcher acting as kube-scheduler."""
    scheduler = cluster.client("system:kube-scheduler", ())

    def bind(event: dict) -> None:
        pod = event["object"]
        if event["type"] == "ADDED" and not pod["spec"].get("nodeName"):
            scheduler.bind(pod["metadata"]["namespace"], pod["metadata"]["name"], "node-1")

    watch = scheduler.watch("pods", bind)
    cluster.admin.create(pods.make("web"))
    cluster.run(5)
    watch.stop()
    return cluster


def test_a_pod_create_is_traced_to_the_apiserver_etcd_and_the_watching_scheduler(scheduled):
    steps = without_controllers(trace_table(scheduled, kind="pod", name="web"))
    assert [(step["source"], step["target"], step["kind"]) for step in steps] == [
        ("kubectl (kubernetes-admin)", "kube-apiserver", "request"),
        ("kube-apiserver", "etcd", "etcd"),
        ("kube-apiserver", "kube-scheduler", "watch"),
        ("kube-scheduler", "kube-apiserver", "request"),
        ("kube-apiserver", "etcd", "etcd"),
        ("kube-apiserver", "kube-scheduler", "watch"),
    ]
    create, write, added, binding, bound, modified = steps
    assert create["message"] == "create pods web (201)"
    assert write["message"] == f"txn put /registry/pods/default/web (revision {create['revision']})"
    assert added["message"] == f"watch ADDED pods/web (rev {create['revision']})"
    assert binding["message"] == "create pods/binding web (201)"
    assert modified["message"].startswith("watch MODIFIED") and modified["revision"] == bound["revision"]


def test_steps_are_in_time_order_and_a_delivery_comes_before_the_request_it_caused(scheduled):
    steps = without_controllers(trace_table(scheduled, kind="pods", name="web"))
    assert [step["time"] for step in steps] == sorted(step["time"] for step in steps)
    assert steps[2]["time"] == steps[3]["time"]        # the bind happened inside the ADDED handler


def test_a_trace_by_audit_id_finds_the_nameless_create(scheduled):
    by_name = trace_table(scheduled, kind="pod", name="web")
    by_id = trace_table(scheduled, by_name[0]["audit_id"])
    assert by_id == by_name


def test_a_trace_can_start_at_a_later_request(scheduled):
    binding = without_controllers(trace_table(scheduled, kind="pod", name="web"))[3]
    steps = trace_table(scheduled, binding["audit_id"])
    assert steps[0]["message"] == "create pods/binding web (201)"
    assert all(step["revision"] is None or step["revision"] >= binding["revision"] for step in steps)


def test_the_window_limits_how_far_the_trace_follows(cluster, pods):
    cluster.admin.create(pods.make("web"))
    cluster.run(40)
    pod = cluster.admin.get("pods", "web", "default")
    pod["metadata"]["labels"]["tier"] = "front"
    cluster.admin.update(pod)
    assert [step["kind"] for step in without_controllers(
        trace_table(cluster, kind="pod", name="web", window=30))] == ["request", "etcd"]
    assert len(without_controllers(trace_table(cluster, kind="pod", name="web", window=60))) == 4


@pytest.mark.parametrize("arguments, message", [
    ({"kind": "pod", "name": "never-created"}, "no successful create of pods 'never-created'"),
    ({"audit_id": 10**9}, "no audit entry"),
    ({}, "say which request to trace"),
], ids=["a pod that was never created cannot be traced",
        "an audit id the log does not hold is refused with what it holds",
        "a trace needs an audit id or a kind and a name"])
def test_a_request_that_cannot_be_found_is_explained(cluster, arguments, message):
    with pytest.raises((LookupError, ValueError), match=message):
        trace_table(cluster, **arguments)


def test_the_sequence_diagram_renders_with_dot_and_names_every_participant(scheduled):
    graph = request_trace(scheduled, kind="pod", name="web")
    source = graph.source
    for participant in ("kubectl (kubernetes-admin)", "kube-apiserver", "etcd", "kube-scheduler"):
        assert f"<B>{participant}</B>" in source
    assert "create pods/binding web (201)" in source
    assert "watch ADDED pods/web" in source
    assert b"<svg" in graph.pipe(format="svg")


def test_kubelet_identities_are_named_after_their_node(cluster, pods):
    cluster.admin.create(pods.make("web", node="node-2"))
    kubelet = cluster.client("system:node:node-2", ("system:nodes",))
    pod = kubelet.get("pods", "web", "default")
    pod["status"] = {"phase": "Running"}
    kubelet.update_status(pod)
    steps = trace_table(cluster, kind="pod", name="web")
    assert ("kubelet (node-2)", "update pods/status web (200)") in [(s["source"], s["message"]) for s in steps]


def test_following_owned_objects_traces_a_deployment_down_to_its_pods(cluster, pods):
    controller = cluster.client("replication-controllers", ("system:masters",))

    def reference(owner: dict) -> list[dict]:
        return [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                 "uid": owner["metadata"]["uid"], "controller": True}]

    def on_deployment(event: dict) -> None:
        if event["type"] == "ADDED":
            owner = event["object"]
            controller.create({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                               "metadata": {"name": "web-5d9", "namespace": "default",
                                            "ownerReferences": reference(owner)},
                               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                                        "template": owner["spec"]["template"]}})

    def on_replicaset(event: dict) -> None:
        if event["type"] == "ADDED":
            pod = pods.make("web-5d9-x", labels={"app": "web"})
            pod["metadata"]["ownerReferences"] = reference(event["object"])
            controller.create(pod)

    controller.watch("deployments", on_deployment)
    controller.watch("replicasets", on_replicaset)
    cluster.admin.create({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "namespace": "default"},
                          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                                   "template": {"metadata": {"labels": {"app": "web"}},
                                                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    cluster.admin.create(pods.make("unrelated"))
    cluster.run(2)
    steps = trace_table(cluster, kind="deploy", name="web", follow_owned=True)
    followed = [step["message"] for step in steps]
    assert followed[0] == "create deployments web (201)"
    assert "create replicasets web-5d9 (201)" in followed
    assert "create pods web-5d9-x (201)" in followed
    replicaset_write = steps[followed.index("create replicasets web-5d9 (201)") + 1]
    assert f"watch ADDED replicasets/web-5d9 (rev {replicaset_write['revision']})" in followed
    assert not any("unrelated" in message for message in followed)
    alone = [step["message"] for step in trace_table(cluster, kind="deploy", name="web")]
    assert not any("web-5d9" in message for message in alone)
