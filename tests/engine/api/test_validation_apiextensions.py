"""Validation of a CustomResourceDefinition: the causes the API server gives before storing one."""

from __future__ import annotations

import copy

import pytest

from engine.api.validation import validate

CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "crontabs.stable.example.com"},
       "spec": {"group": "stable.example.com", "scope": "Namespaced",
                "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                  "spec": {"type": "object", "properties": {"image": {"type": "string"}}}}}}}]}}


def changed(path: list, value) -> dict:
    crd = copy.deepcopy(CRD)
    node = crd
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return crd


def messages(crd: dict, old: dict | None = None) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in validate(crd, old)]


def test_the_docs_crontab_crd_is_valid():
    assert messages(CRD) == []


@pytest.mark.parametrize("path, value, expected", [
    (["metadata", "name"], "crontabs.example.com",
     'metadata.name: Invalid value: "crontabs.example.com": must be spec.names.plural+"."+spec.group'),
    (["spec", "scope"], "Global", 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'),
    (["spec", "versions", 0, "schema"], None,
     "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"),
    (["spec", "versions", 0, "schema", "openAPIV3Schema", "type"], None,
     "spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root"),
    (["spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec", "type"], None,
     "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: "
     "must not be empty for specified object fields"),
    (["spec", "names", "kind"], None, "spec.names.kind: Required value"),
], ids=["a name that is not plural.group", "an unknown scope", "a version without a schema",
        "a schema root without a type", "a declared field without a type", "no kind"])
def test_a_broken_crd_is_refused_with_the_field_named(path, value, expected):
    assert expected in messages(changed(path, value))


def test_a_group_without_a_dot_is_refused():
    crd = changed(["spec", "group"], "example")
    crd["metadata"]["name"] = "crontabs.example"
    assert messages(crd) == ['spec.group: Invalid value: "example": should be a domain with at least one dot']


def test_the_scope_is_immutable():
    crd = changed(["spec", "scope"], "Cluster")
    assert 'spec.scope: Invalid value: "Cluster": field is immutable' in messages(crd, CRD)


def test_the_cleanup_finalizer_is_accepted():
    crd = changed(["metadata", "finalizers"], ["customresourcecleanup.apiextensions.k8s.io"])
    assert messages(crd) == []
