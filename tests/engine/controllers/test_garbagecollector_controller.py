"""The garbage collector: reference classification (pure), and owner graphs of ConfigMaps on a node-less cluster."""

import pytest

import engine
from engine.controllers.garbagecollector import classify_references, deletion_policy


def test_references_are_solid_dangling_or_waiting():
    owners = {
        "alive": {"metadata": {"uid": "alive"}},
        "replaced": {"metadata": {"uid": "new-uid"}},
        "foreground": {"metadata": {"uid": "foreground", "deletionTimestamp": "2025-01-01T00:00:00Z",
                                    "finalizers": ["foregroundDeletion"]}},
        "orphaning": {"metadata": {"uid": "orphaning", "deletionTimestamp": "2025-01-01T00:00:00Z",
                                   "finalizers": ["orphan"]}},
    }
    refs = [{"name": name, "uid": uid} for name, uid in
            [("alive", "alive"), ("replaced", "old-uid"), ("gone", "gone"), ("foreground", "foreground"),
             ("orphaning", "orphaning")]]
    solid, dangling, waiting = classify_references(refs, lambda ref: owners.get(ref["name"]))
    assert [r["name"] for r in solid] == ["alive", "orphaning"]
    assert [r["name"] for r in dangling] == ["replaced", "gone"]
    assert [r["name"] for r in waiting] == ["foreground"]


@pytest.mark.parametrize("finalizers,policy", [([], "Background"), (["orphan"], "Orphan"),
                                               (["foregroundDeletion"], "Foreground")])
def test_a_dependent_is_deleted_as_its_own_finalizers_ask(finalizers, policy):
    assert deletion_policy({"metadata": {"finalizers": finalizers}}) == policy


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=0, seed=0)


def configmap(cluster, name, owner=None, finalizers=None, block=True):
    meta = {"name": name}
    if owner:
        uid = cluster.get("configmap", owner)["metadata"]["uid"] if owner != "ghost" else "no-such-uid"
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid,
                                    "blockOwnerDeletion": block}]
    if finalizers:
        meta["finalizers"] = finalizers
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})


def names(cluster):
    return sorted(c["metadata"]["name"] for c in cluster.list("configmaps") if c["metadata"]["name"] != "kube-root-ca.crt")


def test_background_deletion_cascades_down_the_chain(cluster):
    configmap(cluster, "owner")
    configmap(cluster, "child", "owner")
    configmap(cluster, "grandchild", "child")
    configmap(cluster, "bystander")
    cluster.run(1)
    cluster.delete("configmap", "owner", propagation_policy="Background")
    cluster.run(2)
    assert names(cluster) == ["bystander"]


def test_foreground_owner_waits_for_blocking_dependents(cluster):
    configmap(cluster, "owner")
    configmap(cluster, "child", "owner", finalizers=["example.com/hold"])
    cluster.run(1)
    cluster.delete("configmap", "owner", propagation_policy="Foreground")
    cluster.run(3)
    owner = cluster.get("configmap", "owner")
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"] and owner["metadata"]["deletionTimestamp"]
    assert cluster.get("configmap", "child")["metadata"]["deletionTimestamp"]
    child = cluster.get("configmap", "child")
    child["metadata"]["finalizers"] = []
    cluster.admin.update(child)
    cluster.run(1)
    assert names(cluster) == []


def test_orphan_deletion_removes_the_references_and_keeps_dependents(cluster):
    configmap(cluster, "owner")
    configmap(cluster, "child", "owner")
    configmap(cluster, "grandchild", "child")
    cluster.run(1)
    cluster.delete("configmap", "owner", propagation_policy="Orphan")
    cluster.run(2)
    assert names(cluster) == ["child", "grandchild"]
    assert "ownerReferences" not in cluster.get("configmap", "child")["metadata"]
    assert cluster.get("configmap", "grandchild")["metadata"]["ownerReferences"][0]["name"] == "child"


def test_dangling_references_to_absent_owners_are_collected(cluster):
    configmap(cluster, "dangling", "ghost")
    configmap(cluster, "owner")
    configmap(cluster, "half", "owner")
    half = cluster.get("configmap", "half")
    half["metadata"]["ownerReferences"].append({"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost",
                                                "uid": "no-such-uid"})
    cluster.admin.update(half)
    cluster.run(2)
    assert names(cluster) == ["half", "owner"]
    assert [r["name"] for r in cluster.get("configmap", "half")["metadata"]["ownerReferences"]] == ["owner"]
