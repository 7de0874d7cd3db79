"""Custom resources on a whole cluster: a CRD is served, and its objects live and die like any other.

Each scenario applies the Kubernetes docs' CronTab CRD, waits for it to be
Established, then checks what the rest of the cluster does with its objects:
the namespace controller deletes them with their namespace, the garbage
collector deletes them when their owner goes (and their dependents when they
go), and deleting the CRD deletes every CronTab before the CRD itself goes.
The cluster has no worker nodes: only API objects matter here.
"""

from __future__ import annotations

import pytest

import engine

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {
                                   "cronSpec": {"type": "string"}, "image": {"type": "string"},
                                   "replicas": {"type": "integer"}}},
                               "status": {"type": "object", "properties": {"lastRun": {"type": "string"}}}}}}}]}}


def crontab(name: str, namespace: str = "default", owner: dict | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": namespace}
    if owner is not None:
        metadata["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}]
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": metadata,
            "spec": {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image"}}


@pytest.fixture
def cluster(make_cluster) -> engine.Cluster:
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply(CRD)
    cluster.run(1)
    conditions = {c["type"]: c for c in cluster.get("crd", CRD["metadata"]["name"], None)["status"]["conditions"]}
    assert conditions["Established"]["status"] == "True"
    return cluster


def test_crontabs_are_deleted_with_their_namespace(cluster):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cron"}})
    cluster.apply([crontab("a", "cron"), crontab("b", "cron"), crontab("kept")])
    cluster.delete("namespace", "cron", None)
    cluster.run(10)
    assert cluster.list("crontabs", all_namespaces=True) == [cluster.get("crontabs", "kept")]
    with pytest.raises(engine.ApiError):
        cluster.get("namespace", "cron", None)


def test_the_garbage_collector_deletes_a_crontab_whose_owner_is_gone(cluster):
    owner = cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})
    cluster.apply(crontab("owned", owner=owner))
    cluster.run(1)
    cluster.delete("configmap", "owner")
    cluster.run(40)                  # within a discovery resync of the collector
    assert cluster.list("crontabs") == []


def test_deleting_a_crontab_collects_its_dependents(cluster):
    owner = cluster.apply(crontab("parent"))
    child = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "child", "ownerReferences": [
        {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "name": "parent",
         "uid": owner["metadata"]["uid"]}]}}
    cluster.apply(child)
    cluster.run(1)
    cluster.delete("crontab", "parent")
    cluster.run(40)
    assert [cm["metadata"]["name"] for cm in cluster.list("configmaps")] == ["kube-root-ca.crt"]


def test_deleting_the_crd_deletes_its_objects_then_stops_serving_the_kind(cluster):
    cluster.apply([crontab("a"), crontab("b")])
    held = crontab("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.apply(held)
    cluster.delete("crd", CRD["metadata"]["name"], None)
    cluster.run(1)
    crd = cluster.get("crd", CRD["metadata"]["name"], None)
    assert "customresourcecleanup.apiextensions.k8s.io" in crd["metadata"]["finalizers"]
    terminating = {c["type"]: c for c in crd["status"]["conditions"]}["Terminating"]
    assert (terminating["status"], terminating["reason"]) == ("True", "InstanceDeletionInProgress")
    assert [c["metadata"]["name"] for c in cluster.list("crontabs")] == ["held"]
    with pytest.raises(engine.ApiError) as refused:
        cluster.apply(crontab("late"))
    assert refused.value.code == 405
    released = cluster.get("crontab", "held")
    released["metadata"]["finalizers"] = []
    cluster.admin.update(released)
    cluster.run(6)
    assert cluster.list("crd", None) == []
    with pytest.raises(engine.ApiError):
        cluster.list("crontabs")
    assert "crontabs" not in cluster.kubectl("api-resources")
