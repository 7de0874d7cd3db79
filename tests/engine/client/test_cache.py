"""The Indexer: keys, frozen objects, and indexes that always agree with the objects."""

from __future__ import annotations

import pytest

from engine.client.cache import NAMESPACE_INDEX, DeletedFinalStateUnknown, Indexer, deletion_handling_key


def pod(name: str, namespace: str = "default", node: str = "", rv: str = "1") -> dict:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
            "spec": {"nodeName": node} if node else {}}


def by_node(obj: dict) -> list[str]:
    node = obj.get("spec", {}).get("nodeName")
    return [node] if node else []


def names(objects: list[dict]) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects]


@pytest.mark.parametrize("objects, key, expected", [
    pytest.param([pod("web")], "default/web", "web", id="a namespaced object is keyed namespace slash name"),
    pytest.param([{"metadata": {"name": "node-1"}}], "node-1", "node-1", id="a cluster-scoped object is keyed by name"),
    pytest.param([pod("web", "a"), pod("web", "b")], "b/web", "web", id="the same name in two namespaces is two keys"),
    pytest.param([pod("web")], "default/other", None, id="a key nobody stored gives None"),
])
def test_objects_are_keyed_by_namespace_and_name(objects, key, expected):
    indexer = Indexer()
    for obj in objects:
        indexer.add(obj)
    found = indexer.get_by_key(key)
    assert (found["metadata"]["name"] if found else None) == expected


def test_cached_objects_are_frozen_and_raise_on_mutation():
    indexer = Indexer()
    original = pod("web", node="node-1")
    indexer.add(original)
    cached = indexer.get_by_key("default/web")
    with pytest.raises(TypeError, match="thaw"):
        cached["spec"]["nodeName"] = "node-2"
    with pytest.raises(TypeError):
        cached["metadata"]["labels"] = {}
    original["spec"]["nodeName"] = "elsewhere"       # the caller's dict is not the cached one
    assert indexer.get_by_key("default/web")["spec"]["nodeName"] == "node-1"


@pytest.mark.parametrize("steps, node, expected", [
    pytest.param([("add", pod("a", node="n1")), ("add", pod("b", node="n2"))], "n1", ["a"],
                 id="by_index finds the objects with that index value"),
    pytest.param([("add", pod("a", node="n1")), ("update", pod("a", node="n2"))], "n1", [],
                 id="an update moves the object out of its old index value"),
    pytest.param([("add", pod("a", node="n1")), ("update", pod("a", node="n2"))], "n2", ["a"],
                 id="an update moves the object into its new index value"),
    pytest.param([("add", pod("a", node="n1")), ("add", pod("b", node="n1")), ("delete", pod("a"))], "n1", ["b"],
                 id="a delete removes the object from every index"),
    pytest.param([("add", pod("a")), ("update", pod("a", node="n1"))], "n1", ["a"],
                 id="an object that had no value gains one on update"),
    pytest.param([("add", pod("a", node="n1")), ("delete", DeletedFinalStateUnknown("default/a", pod("a")))], "n1", [],
                 id="deleting by tombstone removes the object the tombstone names"),
])
def test_indexes_follow_adds_updates_and_deletes(steps, node, expected):
    indexer = Indexer({"byNode": by_node})
    for verb, obj in steps:
        getattr(indexer, verb)(obj)
    assert names(indexer.by_index("byNode", node)) == expected
    assert indexer.index_keys("byNode", node) == [f"default/{name}" for name in expected]


def test_the_namespace_index_is_built_in():
    indexer = Indexer()
    for obj in (pod("a", "ns1"), pod("b", "ns2"), pod("c", "ns1"), {"metadata": {"name": "node-1"}}):
        indexer.add(obj)
    assert names(indexer.by_index(NAMESPACE_INDEX, "ns1")) == ["a", "c"]
    assert names(indexer.by_index(NAMESPACE_INDEX, "")) == ["node-1"]
    assert indexer.list_index_func_values(NAMESPACE_INDEX) == ["ns1", "ns2", ""]
    assert names(indexer.index(NAMESPACE_INDEX, pod("x", "ns2"))) == ["b"]


def test_replace_makes_the_store_hold_exactly_the_list_and_rebuilds_indexes():
    indexer = Indexer({"byNode": by_node})
    indexer.add(pod("old", node="n1"))
    indexer.add(pod("kept", node="n1", rv="1"))
    indexer.replace([pod("kept", node="n2", rv="7"), pod("new", node="n1")], "42")
    assert indexer.list_keys() == ["default/kept", "default/new"]
    assert names(indexer.by_index("byNode", "n1")) == ["new"]
    assert names(indexer.by_index("byNode", "n2")) == ["kept"]
    assert indexer.resource_version == "42"
    assert len(indexer) == 2 and "default/old" not in indexer


def test_indexers_added_later_index_what_is_already_stored():
    indexer = Indexer()
    indexer.add(pod("a", node="n1"))
    indexer.add_indexers({"byNode": by_node})
    assert names(indexer.by_index("byNode", "n1")) == ["a"]
    with pytest.raises(ValueError, match="conflict"):
        indexer.add_indexers({"byNode": by_node})


def test_an_unknown_index_name_is_a_clear_error():
    with pytest.raises(KeyError, match="does not exist"):
        Indexer().by_index("byNothing", "x")


def test_list_order_is_the_order_keys_were_first_stored():
    indexer = Indexer()
    for name in ("c", "a", "b"):
        indexer.add(pod(name))
    indexer.update(pod("c", rv="2"))
    assert names(indexer.list()) == ["c", "a", "b"]
    assert deletion_handling_key(indexer.list()[0]) == "default/c"


def test_put_by_key_returns_what_it_replaced_and_keeps_every_index_right():
    indexer = Indexer({"byNode": by_node})
    first = pod("a", "ns1", node="n1", rv="1")
    assert indexer.put("ns1/a", first) is None
    stored = indexer.get_by_key("ns1/a")
    moved = pod("a", "ns1", node="n2", rv="2")
    assert indexer.put("ns1/a", moved) is stored
    assert indexer.get_by_key("ns1/a")["metadata"]["resourceVersion"] == "2"
    assert indexer.index_keys("byNode", "n1") == [] and indexer.index_keys("byNode", "n2") == ["ns1/a"]
    assert indexer.index_keys(NAMESPACE_INDEX, "ns1") == ["ns1/a"]
    indexer.delete_key("ns1/a")
    assert indexer.list_index_func_values(NAMESPACE_INDEX) == [] and indexer.index_keys("byNode", "n2") == []
