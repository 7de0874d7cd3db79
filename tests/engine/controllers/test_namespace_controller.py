"""The namespace controller: its conditions (pure), and a namespace emptied then finalized on a node-less cluster."""

import pytest

import engine
from engine.controllers.namespace import Remaining, content_conditions, pod_grace_estimate


def test_conditions_say_what_remains_and_keep_unchanged_transition_times():
    remaining = Remaining({"pods.": 2, "widgets.example.com": 1}, {"example.com/hold": 1})
    conditions = content_conditions(remaining, [], 10.0)
    assert [(c["type"], c["status"], c["reason"]) for c in conditions] == [
        ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions"),
        ("NamespaceDeletionContentFailure", "False", "ContentDeleted"),
        ("NamespaceContentRemaining", "True", "SomeResourcesRemain"),
        ("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain")]
    assert conditions[3]["message"] == ("Some resources are remaining: pods. has 2 resource instances, "
                                        "widgets.example.com has 1 resource instances")
    assert conditions[4]["message"] == ("Some content in the namespace has finalizers remaining: "
                                        "example.com/hold in 1 resource instances")
    later = content_conditions(Remaining(), conditions, 20.0)
    assert later[0]["lastTransitionTime"] == "2025-01-01T00:00:10Z"            # unchanged
    assert (later[3]["reason"], later[3]["lastTransitionTime"]) == ("ContentRemoved", "2025-01-01T00:00:20Z")


def test_pod_estimate_is_the_longest_remaining_grace_period():
    pods = [{"metadata": {"deletionTimestamp": "2025-01-01T00:00:40Z", "deletionGracePeriodSeconds": 30}},
            {"metadata": {}, "spec": {"terminationGracePeriodSeconds": 5}},
            {"metadata": {}, "spec": {}, "status": {"phase": "Succeeded"}}]
    assert pod_grace_estimate(pods, 20.0) == 20


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0)


def test_namespace_waits_for_finalized_content_then_goes(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    cluster.run(1)                                  # the default ServiceAccount
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain", "namespace": "demo"}})
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "held", "namespace": "demo", "finalizers": ["example.com/hold"]}})
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "idle", "namespace": "demo"},
                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    cluster.run(1)
    cluster.delete("namespace", "demo", None)
    cluster.run(5)
    namespace = cluster.get("namespace", "demo", None)
    assert namespace["status"]["phase"] == "Terminating" and namespace["spec"]["finalizers"] == ["kubernetes"]
    remaining = {c["type"]: c for c in namespace["status"]["conditions"]}["NamespaceContentRemaining"]
    assert remaining["message"] == "Some resources are remaining: configmaps. has 1 resource instances"
    assert [c["metadata"]["name"] for c in cluster.list("configmaps", "demo")] == ["held"]
    assert cluster.list("pods", "demo") == []
    held = cluster.get("configmap", "held", "demo")
    held["metadata"]["finalizers"] = []
    cluster.admin.update(held)
    cluster.run(10)
    with pytest.raises(engine.ApiError):
        cluster.get("namespace", "demo", None)
