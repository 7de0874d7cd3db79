"""Listers: namespace and selector queries over an informer's cache, returning frozen objects."""

from __future__ import annotations

import pytest

from engine.api.selectors import NOTHING, parse
from engine.client.cache import Indexer
from engine.client.lister import Lister


def pod(name: str, namespace: str = "default", **labels: str) -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels}}


@pytest.fixture
def lister() -> Lister:
    indexer = Indexer()
    for obj in (pod("web-1", app="web", tier="front"), pod("web-2", app="web"), pod("db-1", app="db"),
                pod("web-3", "other", app="web"), {"kind": "Node", "metadata": {"name": "node-1"}}):
        indexer.add(obj)
    return Lister(indexer)


@pytest.mark.parametrize("namespace, selector, expected", [
    pytest.param(None, None, ["web-1", "web-2", "db-1", "web-3", "node-1"], id="no namespace and no selector lists everything"),
    pytest.param("default", None, ["web-1", "web-2", "db-1"], id="a namespace lists only that namespace"),
    pytest.param("default", "app=web", ["web-1", "web-2"], id="a selector string filters by labels"),
    pytest.param(None, "app=web", ["web-1", "web-2", "web-3"], id="a selector across all namespaces"),
    pytest.param("default", "app in (web,db),tier!=front", ["web-2", "db-1"], id="set-based selectors work"),
    pytest.param("default", {"matchLabels": {"app": "web"}}, ["web-1", "web-2"], id="an API LabelSelector dict works"),
    pytest.param("default", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, ["web-1"],
                 id="matchExpressions work"),
    pytest.param("default", {}, ["web-1", "web-2", "db-1"], id="an empty LabelSelector selects everything"),
    pytest.param("default", parse("app=db"), ["db-1"], id="a parsed LabelSelector works"),
    pytest.param("default", NOTHING, [], id="the NOTHING selector selects nothing"),
    pytest.param("nowhere", None, [], id="an unknown namespace lists nothing"),
])
def test_list_filters_by_namespace_and_labels(lister, namespace, selector, expected):
    assert [obj["metadata"]["name"] for obj in lister.list(namespace, selector)] == expected


@pytest.mark.parametrize("args, expected", [
    pytest.param(("default", "web-1"), "web-1", id="get by namespace and name"),
    pytest.param(("default/web-2",), "web-2", id="get by namespace slash name key"),
    pytest.param((None, "node-1"), "node-1", id="get a cluster-scoped object with no namespace"),
    pytest.param(("node-1",), "node-1", id="get a cluster-scoped object by its key"),
    pytest.param(("default", "missing"), None, id="a missing object is None"),
])
def test_get_finds_one_object(lister, args, expected):
    found = lister.get(*args)
    assert (found["metadata"]["name"] if found else None) == expected


def test_listed_objects_are_frozen(lister):
    with pytest.raises(TypeError):
        lister.get("default", "web-1")["metadata"]["labels"]["app"] = "changed"
    with pytest.raises(TypeError):
        lister.list("default")[0]["metadata"]["name"] = "x"
