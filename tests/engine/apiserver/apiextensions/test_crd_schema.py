"""The structural schema of a custom resource: pruning, defaulting and validation messages."""

from __future__ import annotations

import pytest

from engine.apiserver.apiextensions import schema

SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "minLength": 1, "maxLength": 20},
        "cronSpec": {"type": "string", "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "policy": {"type": "string", "enum": ["Allow", "Forbid"]},
        "ports": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {
            "port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "port": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True}}},
    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}


def causes(spec: dict) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in schema.validate(SCHEMA, {"spec": spec})]


@pytest.mark.parametrize("spec, expected", [
    ({"image": "a", "replicas": "x"},
     ['spec.replicas: Invalid value: "x": spec.replicas in body must be of type integer: "string"']),
    ({"image": "a", "replicas": 15},
     ["spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10"]),
    ({"image": "a", "replicas": 0},
     ["spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"]),
    ({"image": "a", "cronSpec": "* * * *"},
     ["spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match "
      r"'^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"]),
    ({}, ["spec.image: Required value"]),
    ({"image": ""}, ['spec.image: Invalid value: "": spec.image in body should be at least 1 chars long']),
    ({"image": "a", "policy": "Maybe"},
     ['spec.policy: Unsupported value: "Maybe": supported values: "Allow", "Forbid"']),
    ({"image": "a", "ports": [{}, {}, {}]}, ["spec.ports: Too many: 3: must have at most 2 items"]),
    ({"image": "a", "ports": [{"port": "http"}]},
     ['spec.ports[0].port: Invalid value: "http": spec.ports[0].port in body must be of type integer: "string"']),
    ({"image": "a", "labels": {"app": 1}},
     ['spec.labels.app: Invalid value: 1: spec.labels.app in body must be of type string: "integer"']),
    ({"image": "a", "port": 8080, "note": None}, []),
    ({"image": "a", "port": True},
     ['spec.port: Invalid value: true: spec.port in body must be of type integer,string: "boolean"']),
], ids=["a string where an integer belongs", "above the maximum", "below the minimum", "a pattern that does not match",
        "a required field missing", "shorter than minLength", "a value outside the enum", "more items than maxItems",
        "a wrong type inside a list item", "a wrong type as a map value", "int-or-string and nullable accept theirs",
        "int-or-string refuses a boolean"])
def test_validation_names_the_field_with_kube_openapi_messages(spec, expected):
    assert causes(spec) == expected


def test_pruning_drops_undeclared_fields_but_keeps_preserved_and_map_values():
    obj = {"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"}, "top": 1,
           "spec": {"image": "a", "imagee": "b", "labels": {"any": "v"}, "extra": {"free": {"form": 1}},
                    "ports": [{"port": 80, "name": "http"}]}}
    assert schema.prune(SCHEMA, obj) == ["top", "spec.imagee", "spec.ports[0].name"]
    assert obj == {"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"},
                   "spec": {"image": "a", "labels": {"any": "v"}, "extra": {"free": {"form": 1}},
                            "ports": [{"port": 80}]}}


def test_pruning_without_removal_only_reports():
    obj = {"spec": {"image": "a", "imagee": "b"}}
    assert schema.prune(SCHEMA, obj, remove=False) == ["spec.imagee"]
    assert obj["spec"]["imagee"] == "b"


def test_defaults_fill_missing_fields_at_any_depth_and_never_overwrite():
    obj = {"spec": {"image": "a", "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}}
    schema.apply_defaults(SCHEMA, obj)
    assert obj["spec"]["replicas"] == 1
    assert [p["protocol"] for p in obj["spec"]["ports"]] == ["TCP", "UDP"]
    obj = {"spec": {"image": "a", "replicas": 3}}
    schema.apply_defaults(SCHEMA, obj)
    assert obj["spec"]["replicas"] == 3


def test_describe_walks_properties_and_array_items():
    assert schema.describe(SCHEMA, ["spec", "ports", "port"]) == {"type": "integer"}
    assert schema.describe(SCHEMA, ["spec", "nothing"]) is None
