"""engine.api.schema: every built-in kind's fields, generated from the official client's models."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

from engine.api import schema
from engine.api.kinds import REGISTRY

ROOT = Path(__file__).resolve().parents[3]

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {"limits": {"cpu": 1}},
                                "ports": [{"containerPort": 80}]}]}}


def _generator():
    spec = importlib.util.spec_from_file_location("generate_api_schema", ROOT / "scripts" / "generate_api_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_schema_is_what_the_generator_writes() -> None:
    assert (ROOT / "engine" / "api" / "schema.json").read_text() == _generator().text(), \
        "engine/api/schema.json drifted: run `.venv/bin/python scripts/generate_api_schema.py` and commit it"


@pytest.mark.parametrize("kind", list(REGISTRY), ids=lambda kind: kind.kind)
def test_every_registered_kind_has_a_schema(kind) -> None:
    assert schema.type_of(kind.api_version, kind.kind) is not None


def test_a_docs_manifest_has_no_unknown_fields() -> None:
    assert schema.unknown_fields(copy.deepcopy(POD)) == []


def test_unknown_fields_are_named_by_their_path_in_document_order() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][0]["imagee"] = "nginx"
    pod["spec"]["containers"][0]["ports"][0]["protocl"] = "TCP"
    pod["spec"]["restartpolicy"] = "Never"
    pod["metadata"]["label"] = {"a": "b"}
    assert schema.unknown_fields(pod) == ["metadata.label", "spec.containers[0].ports[0].protocl",
                                          "spec.containers[0].imagee", "spec.restartpolicy"]


def test_maps_and_free_form_values_keep_any_key() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"annotations": {"any/key": "x"}},
                  "spec": {"selector": {"matchLabels": {"whatever": "x"}}, "strategy": {
                      "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                      "template": {"spec": {"containers": [{"name": "a", "image": "b",
                                                             "resources": {"requests": {"example.com/gpu": 1}}}]}}}}
    assert schema.unknown_fields(deployment) == []


def test_prune_removes_exactly_the_unknown_fields() -> None:
    pod = copy.deepcopy(POD)
    pod["spec"]["containers"][0]["imagee"] = "nginx"
    pod["spec"]["foo"] = {"bar": 1}
    assert schema.unknown_fields(pod, prune=True) == ["spec.containers[0].imagee", "spec.foo"]
    assert pod == POD


def test_a_kind_without_a_schema_keeps_every_field() -> None:
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"anything": {"goes": True}}}
    assert schema.unknown_fields(custom, prune=True) == [] and custom["spec"] == {"anything": {"goes": True}}


def test_the_strict_error_lists_every_field_as_apimachinery_does() -> None:
    assert schema.strict_error_text(["spec.a", "spec.b"]) == \
        'strict decoding error: unknown field "spec.a", unknown field "spec.b"'
