"""Field validation in the API server: Strict fails, Warn drops and warns (the default), Ignore drops."""

from __future__ import annotations

import pytest

import engine
from engine.api import errors


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=3)


def _config_map(name: str, **extra) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **extra.pop("metadata", {})},
            "data": {"a": "1"}, **extra}


def test_strict_refuses_a_create_naming_every_unknown_field(cluster: engine.Cluster) -> None:
    with pytest.raises(errors.BadRequest) as raised:
        cluster.admin.create(_config_map("strict", dat={"b": "2"}, metadata={"lables": {}}),
                             field_validation="Strict")
    assert raised.value.code == 400
    assert str(raised.value) == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
                                 'error: unknown field "metadata.lables", unknown field "dat"')
    with pytest.raises(errors.NotFound):
        cluster.admin.get("configmaps", "strict", "default")


def test_warn_is_the_default_it_drops_the_fields_and_says_so(cluster: engine.Cluster) -> None:
    created = cluster.admin.create(_config_map("warned", dat={"b": "2"}))
    assert "dat" not in created and created["data"] == {"a": "1"}
    assert cluster.admin.last_warnings == ['unknown field "dat"']
    assert "dat" not in cluster.admin.get("configmaps", "warned", "default")


def test_ignore_drops_silently(cluster: engine.Cluster) -> None:
    created = cluster.admin.create(_config_map("ignored", dat={"b": "2"}), field_validation="Ignore")
    assert "dat" not in created and cluster.admin.last_warnings == []


def test_update_and_patch_are_checked_too(cluster: engine.Cluster) -> None:
    current = cluster.admin.create(_config_map("changed"))
    current["extra"] = 1
    with pytest.raises(errors.BadRequest, match='cannot be handled as a ConfigMap: strict decoding error: '
                                                'unknown field "extra"'):
        cluster.admin.update(current, field_validation="Strict")
    with pytest.raises(errors.BadRequest) as raised:
        cluster.admin.patch("configmaps", "changed", {"extra": 1}, "default", field_validation="Strict")
    assert str(raised.value) == 'strict decoding error: unknown field "extra"'
    patched = cluster.admin.patch("configmaps", "changed", {"extra": 1, "data": {"b": "2"}}, "default")
    assert "extra" not in patched and patched["data"] == {"a": "1", "b": "2"}
    assert cluster.admin.last_warnings == ['unknown field "extra"']


def test_an_unsupported_directive_is_invalid(cluster: engine.Cluster) -> None:
    with pytest.raises(errors.Invalid, match='fieldValidation: Unsupported value: "Loose"'):
        cluster.admin.create(_config_map("loose"), field_validation="Loose")


def test_cluster_apply_is_strict_like_kubectl_apply(cluster: engine.Cluster) -> None:
    with pytest.raises(errors.BadRequest, match=r'unknown field "spec.containers\[0\].imagee"'):
        cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
                       "spec": {"containers": [{"name": "web", "imagee": "nginx"}]}})
