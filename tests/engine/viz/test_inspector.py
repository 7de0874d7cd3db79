"""The inspector: objects as kubectl's YAML, their versions, and diffs between revisions."""

from __future__ import annotations

import pytest
import yaml

from engine.viz.inspector import (CLUSTER_SCOPED, Inspector, object_at, object_diff, object_versions,
                                  object_yaml)

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": "default"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


@pytest.fixture
def scaled(cluster):
    """A Deployment created with 2 replicas and scaled to 5: (cluster, revision before, revision after)."""
    created = cluster.admin.create(DEPLOYMENT)
    before = int(created["metadata"]["resourceVersion"])
    cluster.admin.scale("deployments", "web", "default", 5)
    return cluster, before, cluster.store.revision


def test_yaml_has_sorted_keys_like_kubectl(cluster):
    text = object_yaml(cluster.get("namespace", "default", None))
    assert text.index("apiVersion:") < text.index("kind:") < text.index("metadata:")
    assert yaml.safe_load(text)["metadata"]["name"] == "default"


def test_object_diff_shows_the_changed_replicas_line(scaled):
    cluster, before, after = scaled
    diff = object_diff(cluster, "deploy", "web", "default", before, after)
    assert "-  replicas: 2" in diff
    assert "+  replicas: 5" in diff
    assert diff.startswith("--- deployments/default/web @ revision")
    assert "image: nginx" not in [line[1:].strip() for line in diff.splitlines() if line[:1] in "+-"]


def test_a_diff_from_before_the_creation_adds_the_whole_object(scaled):
    cluster, before, _after = scaled
    diff = object_diff(cluster, "deployments", "web", "default", before - 1, before)
    assert "(absent)" in diff.splitlines()[0]
    assert "+kind: Deployment" in diff


def test_object_at_reads_the_past_and_knows_when_an_object_did_not_exist(scaled):
    cluster, before, _after = scaled
    assert object_at(cluster, "deploy", "web", "default", before)["spec"]["replicas"] == 2
    assert object_at(cluster, "deploy", "web", "default")["spec"]["replicas"] == 5
    assert object_at(cluster, "deploy", "web", "default", before - 1) is None


def test_object_versions_lists_each_write_newest_first(scaled):
    cluster, before, after = scaled
    assert object_versions(cluster, "deploy", "web", "default") == [after, before]
    assert object_versions(cluster, "deploy", "missing", "default") == []


def test_the_inspector_shows_the_chosen_objects_yaml(scaled):
    cluster, _before, _after = scaled
    inspector = Inspector(cluster)
    inspector.select("deployments", "web", "default")
    assert "replicas: 5" in inspector.output.value
    inspector.diff.value = True
    assert "+  replicas: 5" in inspector.output.value


def test_cluster_scoped_kinds_disable_the_namespace_choice(cluster):
    inspector = Inspector(cluster, kind="nodes")
    assert inspector.namespace.value == CLUSTER_SCOPED and inspector.namespace.disabled
    assert list(inspector.name.options) == sorted(cluster.node_names)
    assert "kind: Node" in inspector.output.value


def test_a_kind_with_no_objects_says_so(cluster):
    inspector = Inspector(cluster, kind="cronjobs")
    assert "no objects" in inspector.output.value


def test_the_inspector_reads_without_audit_entries(scaled):
    cluster, _before, _after = scaled
    total = cluster.apiserver.audit.total
    inspector = Inspector(cluster)
    inspector.select("deployments", "web", "default")
    inspector.refresh()
    assert cluster.apiserver.audit.total == total


def test_choosing_another_kind_refills_the_namespace_and_name_choices(scaled):
    cluster, _before, _after = scaled
    inspector = Inspector(cluster)
    inspector.kind.value = "nodes"
    assert inspector.namespace.disabled
    assert "node-1" in inspector.name.options
    inspector.kind.value = "serviceaccounts"
    assert not inspector.namespace.disabled and inspector.namespace.value == "default"
    inspector.namespace.value = "kube-system"
    assert "default" in list(inspector.name.options)
    assert "namespace: kube-system" in inspector.output.value
