"""What the API server serves for a CRD: names, conditions, subresources, generation, field validation."""

from __future__ import annotations

import copy

import pytest

import engine

CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "websites.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "websites", "kind": "Website", "shortNames": ["ws"]},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "subresources": {"status": {}, "scale": {
                                  "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                  "labelSelectorPath": ".status.selector"}},
                              "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                  "spec": {"type": "object", "properties": {
                                      "image": {"type": "string"}, "replicas": {"type": "integer", "default": 1}}},
                                  "status": {"type": "object", "properties": {
                                      "replicas": {"type": "integer"}, "selector": {"type": "string"}}}}}}}]}}


def website(name: str = "blog", **spec) -> dict:
    return {"apiVersion": "example.com/v1", "kind": "Website", "metadata": {"name": name, "namespace": "default"},
            "spec": {"image": "nginx", **spec}}


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    cluster = engine.Cluster(nodes=0, components=[])
    cluster.apply(CRD)
    cluster.run(1)
    return cluster


def test_an_established_crd_has_its_names_accepted_and_its_defaults(cluster):
    crd = cluster.get("crd", "websites.example.com", None)
    assert crd["spec"]["names"]["singular"] == "website" and crd["spec"]["names"]["listKind"] == "WebsiteList"
    assert crd["status"]["acceptedNames"]["plural"] == "websites"
    conditions = {c["type"]: (c["status"], c["reason"]) for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": ("True", "NoConflicts"), "Established": ("True", "InitialNamesAccepted")}
    assert crd["status"]["storedVersions"] == ["v1"]


def test_a_second_crd_with_the_same_plural_in_the_group_is_not_accepted(cluster):
    clash = copy.deepcopy(CRD)
    clash["metadata"]["name"] = "sites.example.com"
    clash["spec"]["names"] = {"plural": "sites", "kind": "Site", "shortNames": ["websites"]}
    cluster.apply(clash)
    cluster.run(1)
    crd = cluster.get("crd", "sites.example.com", None)
    conditions = {c["type"]: (c["status"], c["reason"]) for c in crd["status"]["conditions"]}
    assert conditions["NamesAccepted"] == ("True", "NoConflicts")     # a short name is no plural
    clash["metadata"]["name"] = "websites2.example.com"
    clash["spec"]["names"] = {"plural": "websites2", "kind": "Website"}
    cluster.apply(clash)
    cluster.run(1)
    crd = cluster.get("crd", "websites2.example.com", None)
    conditions = {c["type"]: (c["status"], c["reason"], c["message"]) for c in crd["status"]["conditions"]}
    assert conditions["NamesAccepted"] == ("False", "KindConflict", '"Website" is already in use')
    assert conditions["Established"][:2] == ("False", "NotAccepted")
    with pytest.raises(engine.ApiError):
        cluster.list("websites2")


def test_status_is_written_only_through_its_subresource_and_generation_follows_the_spec(cluster):
    created = cluster.admin.create({**website("status"), "status": {"replicas": 5}})
    assert "status" not in created and created["metadata"]["generation"] == 1
    assert created["spec"]["replicas"] == 1                     # the schema's default
    created["status"] = {"replicas": 2}
    written = cluster.admin.update_status(created)
    assert written["status"] == {"replicas": 2} and written["metadata"]["generation"] == 1
    written["spec"]["replicas"] = 3
    written["status"] = {"replicas": 9}
    updated = cluster.admin.update(written)
    assert updated["status"] == {"replicas": 2} and updated["metadata"]["generation"] == 2


def test_the_scale_subresource_reads_and_writes_the_declared_paths(cluster):
    cluster.admin.create(website("scaled", replicas=2))
    scale = cluster.admin.get("websites", "scaled", "default", subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"] == {"replicas": 2}
    cluster.admin.scale("websites", "scaled", "default", 4)
    assert cluster.get("website", "scaled")["spec"]["replicas"] == 4


def test_unknown_fields_are_pruned_with_a_warning_or_refused_under_strict(cluster):
    obj = website("pruned")
    obj["spec"]["colour"] = "blue"
    stored = cluster.admin.create(obj)
    assert "colour" not in stored["spec"]
    assert cluster.admin.last_warnings == ['unknown field "spec.colour"']
    obj["metadata"]["name"] = "strict"
    with pytest.raises(engine.ApiError) as refused:
        cluster.admin.create(obj, field_validation="Strict")
    assert str(refused.value) == ('Website in version "v1" cannot be handled as a Website: strict decoding error: '
                                  'unknown field "spec.colour"')


def test_two_clusters_never_share_a_custom_kind(cluster):
    other = engine.Cluster(nodes=0, components=[])
    assert other.apiserver.registry.find("websites") is None
    assert cluster.apiserver.registry.find("websites") is not None
