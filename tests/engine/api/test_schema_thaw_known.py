"""schema.thaw_known: the plain copy and whether it has unknown fields, as thaw and then unknown_fields say."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import schema
from engine.api.frozen import FrozenDict, freeze, thaw

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "b"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}]},
       "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
                                "resources": {"requests": {"cpu": "1"}}, "env": [{"name": "X", "value": "1"}]}],
                "nodeSelector": {"disk": "ssd"}, "volumes": [{"name": "v", "emptyDir": {}}]},
       "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def _variants():
    yield POD
    for path in (("extra",), ("metadata", "extra"), ("spec", "extra"), ("spec", "containers", 0, "imagee"),
                 ("spec", "containers", 0, "ports", 0, "extra"), ("spec", "volumes", 0, "emptyDir", "extra"),
                 ("status", "conditions", 0, "extra"), ("metadata", "ownerReferences", 0, "extra")):
        pod = copy.deepcopy(POD)
        target = pod
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = {"nested": [1, {"x": None}]}
        yield pod
    odd = copy.deepcopy(POD)
    odd["spec"]["containers"] = tuple(odd["spec"]["containers"])        # a tuple reads as a list
    odd["spec"]["nodeSelector"] = ["not", "a", "map"]                     # wrong shapes are no unknown fields
    odd["metadata"]["labels"] = FrozenDict({"app": "web"})
    odd["spec"]["volumes"] = {"v": {"name": "v"}}
    yield odd
    yield {"apiVersion": "v1", "kind": "Pod", "metadata": None, "spec": "text", "status": 3}


@pytest.mark.parametrize("obj", list(_variants()))
@pytest.mark.parametrize("frozen", [False, True])
def test_thaw_known_is_thaw_then_unknown_fields(obj: dict, frozen: bool) -> None:
    source = freeze(obj) if frozen else obj
    root = schema.type_of("v1", "Pod")
    plain, unknown = schema.thaw_known(source, root)
    expected = thaw(source)
    assert plain == expected
    assert type(plain) is dict and all(type(value) is not FrozenDict for value in plain.values())
    assert unknown == bool(schema.unknown_fields(expected))
    plain["spec"] = "changed"           # a copy: the source is untouched
    assert source["spec"] != "changed"


def test_knows_names_the_fields_of_an_object_type() -> None:
    root = schema.type_of("v1", "Pod")
    assert schema.knows(root, ("apiVersion", "kind", "metadata"))
    assert not schema.knows(root, ("apiVersion", "bogus"))
    assert not schema.knows("[]string", ("x",))


EVENT_FIELDS = ["metadata", "involvedObject", "reason", "message", "source", "firstTimestamp",
                "lastTimestamp", "count", "type", "eventTime", "reportingComponent", "reportingInstance", "related",
                "series", "bogus", "metadatа"]
json_like = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                             st.sampled_from(["name", "namespace", "kind", "count", "extra", "labels"]), inner,
                             max_size=3), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(EVENT_FIELDS), json_like, min_size=6, max_size=18), st.booleans())
def test_a_wide_object_copied_at_once_is_thaw_then_unknown_fields(fields, frozen):
    """An Event has more fields than ``_COPIED_WHOLE``: its top level is copied in one step."""
    obj = {"apiVersion": "v1", "kind": "Event", **fields}
    source = {key: freeze(value) for key, value in obj.items()} if frozen else obj
    plain, unknown = schema.thaw_known(source, schema.type_of("v1", "Event"))
    expected = thaw(source)
    assert plain == expected and list(plain) == list(expected)
    assert all(type(value) not in (FrozenDict, tuple) for value in plain.values())
    assert unknown == bool(schema.unknown_fields(expected))
    if plain:
        plain[next(iter(plain))] = "changed"
        assert source == obj                             # a copy: the source is untouched
