"""The ownership graph: arrows from owners to what they own, by ownerReferences."""

from __future__ import annotations

import pytest

from engine.viz.owners import owner_graph


def _owned_by(obj: dict, owner: dict, *, controller: bool = True) -> dict:
    obj["metadata"]["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                           "controller": controller}]
    return obj


@pytest.fixture
def family(cluster, pods):
    """Deployment web -> ReplicaSet web-5d9 -> Pods web-5d9-a, web-5d9-b; and an unrelated pod."""
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
    deployment = cluster.admin.create({"apiVersion": "apps/v1", "kind": "Deployment",
                                       "metadata": {"name": "web", "namespace": "default"},
                                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                                "template": template}})
    replicaset = cluster.admin.create(_owned_by({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                 "metadata": {"name": "web-5d9", "namespace": "default"},
                                                 "spec": {"replicas": 2,
                                                          "selector": {"matchLabels": {"app": "web"}},
                                                          "template": template}}, deployment))
    for suffix in ("a", "b"):
        cluster.admin.create(_owned_by(pods.make(f"web-5d9-{suffix}", labels={"app": "web"}), replicaset))
    cluster.admin.create(pods.make("loner"))
    return cluster


def test_owners_point_at_what_they_own(family, helpers):
    edges = sorted((tail, head) for tail, head, _ in helpers.edges_of(owner_graph(family).source))
    assert edges == [("Deployment/default/web", "ReplicaSet/default/web-5d9"),
                     ("ReplicaSet/default/web-5d9", "Pod/default/web-5d9-a"),
                     ("ReplicaSet/default/web-5d9", "Pod/default/web-5d9-b")]
    assert "loner" not in owner_graph(family).source


def test_a_pods_family_is_its_owners_up_the_chain(family):
    source = owner_graph(family, kind="pod", name="web-5d9-a").source
    assert "Deployment/default/web" in source and "ReplicaSet/default/web-5d9" in source
    assert "web-5d9-b" not in source


def test_an_owner_that_is_gone_is_drawn_dashed_red(family, helpers, pods):
    vanished = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "old-7f4", "uid": "00000000-0000-4000-8000-000000000000"}}
    family.admin.create(_owned_by(pods.make("stray"), vanished))
    source = owner_graph(family).source
    attrs = helpers.node_attrs(source, "ReplicaSet/default/old-7f4")
    assert "(gone)" in attrs and "dashed" in attrs
    assert ("ReplicaSet/default/old-7f4", "Pod/default/stray") in [
        (tail, head) for tail, head, _ in helpers.edges_of(source)]


def test_the_graph_renders_with_dot(family):
    assert b"<svg" in owner_graph(family).pipe(format="svg")
