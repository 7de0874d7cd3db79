"""The cheaper create/update path keeps every observable: the watch cache holds what decoding the stored bytes
gives, validation sees the same typed object, and remembered RBAC decisions follow every RBAC change at once."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.api.frozen import FrozenDict, frozen_as_decoded, loads_frozen
from engine.api.validation import validate
from engine.api.validation.decoder import _SCHEMAS, _typed, type_checked
from engine.api.validation.fields import Errors
from engine.apiserver.storage import encode
from engine.apiserver.watchcache import decode
from json_shapes import same

RBAC = "rbac.authorization.k8s.io"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=15)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4),
       st.dictionaries(st.text(max_size=4), json_values, max_size=4), st.booleans())
def test_frozen_as_decoded_is_what_decoding_the_stored_json_gives(metadata, rest, versioned):
    metadata = dict(metadata)
    if versioned:
        metadata["resourceVersion"] = "12"
    obj = {**rest, "metadata": metadata}
    stored = encode(obj)
    assert json.loads(stored).get("metadata", {}).get("resourceVersion") is None
    assert obj["metadata"] == metadata                    # encode gives the resourceVersion back
    frozen = frozen_as_decoded(obj)
    assert same(frozen, loads_frozen(stored))
    assert "resourceVersion" in obj["metadata"] or not versioned


@pytest.mark.parametrize("odd", [
    {"metadata": {"name": "a"}, "spec": (1, 2)},                  # a tuple: JSON gives a list back
    {"metadata": {"name": "a"}, "spec": {1: "x"}},                # a key that is not a string
    {"metadata": {"name": "a"}, "spec": {"x": type("I", (int,), {})(3)}},    # subclasses JSON gives back plain
    {"metadata": {"name": "a"}, "odd": type("S", (str,), {})("s")},
    {"metadata": ["not", "an", "object"]},
    {"spec": {}},                                                  # no metadata at all
])
def test_frozen_as_decoded_declines_what_json_would_not_give_back_as_it_is(odd):
    assert frozen_as_decoded(odd) is None


def assert_cache_matches_store(cluster: engine.Cluster) -> None:
    server = cluster.apiserver
    for cacher in server.cachers.values():
        for key in cacher.objects.keys():
            obj = cacher.get(key)
            kv = server.store.range(key).kvs[0]
            assert same(obj, decode(kv)), key
            assert type(obj) is FrozenDict


def test_created_and_updated_objects_in_the_watch_cache_are_their_decoded_bytes():
    cluster = engine.Cluster(nodes=1, seed=3, keep_history=False)
    admin = cluster.admin
    admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}},
                  "data": {"k": "v"}})
    admin.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
    cluster.run(30)
    config = admin.get("configmaps", "c", "default")
    config["data"]["k2"] = "v2"
    admin.update(config)
    admin.patch("deployments", "web", {"spec": {"replicas": 3}}, "default")
    cluster.run(30)
    assert_cache_matches_store(cluster)


def test_a_watcher_sees_the_created_object_with_its_resource_version():
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    seen = []
    cluster.admin.watch("configmaps", seen.append, "default", resource_version=str(cluster.store.revision))
    created = cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                    "data": {"k": "v"}})
    cluster.run(1)
    assert [event["type"] for event in seen] == ["ADDED"]
    assert seen[0]["object"] == created
    assert seen[0]["object"]["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert list(seen[0]["object"]["metadata"])[-1] == "resourceVersion"


scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3) | st.text(max_size=3)
pod_values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                          | st.dictionaries(st.sampled_from(["name", "image", "ports", "containerPort", "x", "labels"]),
                                            children, max_size=3), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Pod")}, optional={
    "metadata": st.fixed_dictionaries({}, optional={"name": scalars, "labels": pod_values, "generation": scalars}),
    "spec": st.fixed_dictionaries({}, optional={
        "containers": st.lists(st.fixed_dictionaries({}, optional={
            "name": scalars, "image": scalars, "ports": pod_values, "x": pod_values}), max_size=2),
        "priority": scalars, "nodeSelector": pod_values})}))
def test_type_checked_gives_the_typed_copy_and_the_same_causes(pod):
    fast, slow = Errors(), Errors()
    schema = _SCHEMAS.get("Pod") or (type_checked(pod, "Pod", Errors()) and _SCHEMAS["Pod"])
    assert type_checked(pod, "Pod", fast) == _typed(pod, schema, "", slow)[1]
    assert list(fast) == list(slow)


def test_validation_causes_of_a_malformed_object_are_unchanged():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": None},
           "spec": {"containers": [{"name": "c", "image": 3, "ports": [{"containerPort": 80.0}]}]}}
    fields = [cause["field"] for cause in validate(pod)]
    assert "spec.containers[0].image" in fields
    assert "spec.containers[0].ports[0].containerPort" not in fields   # a whole float is an integer


# -- remembered RBAC decisions ---------------------------------------------------------------------------

def can(client, verb: str, resource: str, namespace: str = "default", name: str = "") -> bool:
    try:
        if verb == "get":
            client.get(resource, name, namespace)
        elif verb == "list":
            client.list(resource, namespace)
        return True
    except engine.ApiError as error:
        if error.code == 403:
            return False
        return True                                     # not found, but allowed to ask


def test_a_binding_created_changed_or_deleted_flips_the_decision_at_once():
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    admin, alice = cluster.admin, cluster.client("alice")
    admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}})
    for _ in range(2):
        assert not can(alice, "get", "configmaps", name="c")
    admin.create({"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "read", "namespace": "default"},
                  "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
    assert not can(alice, "get", "configmaps", name="c")
    admin.create({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                  "metadata": {"name": "read", "namespace": "default"},
                  "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "read"},
                  "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "alice"}]})
    for _ in range(2):
        assert can(alice, "get", "configmaps", name="c") and can(alice, "list", "configmaps")
    admin.patch("roles", "read", {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]},
                "default")
    assert not can(alice, "get", "configmaps", name="c") and can(alice, "list", "configmaps")
    admin.patch("roles", "read", {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                                             "resourceNames": ["c"]}]}, "default")
    for _ in range(2):
        assert can(alice, "get", "configmaps", name="c") and not can(alice, "get", "configmaps", name="d")
        assert not can(alice, "list", "configmaps")
    admin.patch("rolebindings", "read", {"subjects": [{"kind": "User", "apiGroup": RBAC, "name": "bob"}]},
                "default")
    assert not can(alice, "get", "configmaps", name="c")
    admin.patch("rolebindings", "read", {"subjects": [{"kind": "User", "apiGroup": RBAC, "name": "alice"}]},
                "default")
    assert can(alice, "get", "configmaps", name="c")
    admin.delete("rolebindings", "read", "default")
    assert not can(alice, "get", "configmaps", name="c")


def test_a_change_to_an_aggregated_cluster_role_flips_the_decision_at_once():
    from engine.apiserver.rbac import aggregate_cluster_role

    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    admin, alice = cluster.admin, cluster.client("alice")
    admin.create({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "monitoring"},
                  "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"aggregate-to-monitoring": "true"}}]},
                  "rules": []})
    admin.create({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "monitoring"},
                  "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "monitoring"},
                  "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "alice"}]})

    def aggregate() -> None:
        """What the clusterrole-aggregation controller writes into the aggregated role."""
        role = admin.get("clusterroles", "monitoring")
        role["rules"] = aggregate_cluster_role(role, admin.list("clusterroles")["items"])
        admin.update(role)

    for _ in range(2):
        assert not can(alice, "list", "secrets")
    admin.create({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                  "metadata": {"name": "secret-reader", "labels": {"aggregate-to-monitoring": "true"}},
                  "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]})
    aggregate()
    for _ in range(2):
        assert can(alice, "list", "secrets")
    admin.delete("clusterroles", "secret-reader")
    aggregate()
    assert not can(alice, "list", "secrets")


def test_resource_names_for_another_verb_do_not_split_decisions_by_name():
    from engine.apiserver.authn import UserInfo
    from engine.apiserver.rbac import Attributes, RBACAuthorizer

    class Rules:
        def __init__(self, objects):
            self.objects = objects
            self.visits = 0

        def version(self):
            return (1,)

        def list_cluster_role_bindings(self):
            return []

        def list_role_bindings(self, namespace):
            self.visits += 1
            return [{"metadata": {"name": "b", "namespace": "dev"}, "roleRef": {"kind": "Role", "name": "r"},
                     "subjects": [{"kind": "User", "name": "u"}]}]

        def get_cluster_role(self, name):
            return None

        def get_role(self, namespace, name):
            return {"rules": self.objects}

    rules = Rules([{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/binding"]},
                   {"verbs": ["get", "update"], "apiGroups": [""], "resources": ["configmaps"],
                    "resourceNames": ["lock"]}])
    authorizer = RBACAuthorizer(rules)
    user = UserInfo("u")

    def decide(verb, resource, subresource, name):
        return authorizer.authorize(Attributes(user=user, verb=verb, namespace="dev", resource=resource,
                                               subresource=subresource, name=name))

    first = decide("create", "pods", "binding", "a")
    assert first.allowed and decide("create", "pods", "binding", "b") is first     # one decision for every name
    assert decide("get", "configmaps", "", "lock").allowed
    assert not decide("get", "configmaps", "", "other").allowed
    assert not decide("update", "configmaps", "", "").allowed
    assert decide("update", "configmaps", "", "lock").allowed


# -- a binding's JSON spliced from the stored bytes ------------------------------------------------------

members = st.dictionaries(st.sampled_from(["apiVersion", "kind", "metadata", "status", "x", "ü"]), json_values,
                          max_size=4)


@settings(max_examples=150, deadline=None)
@given(members, st.dictionaries(st.text(max_size=3), json_values, min_size=1, max_size=4), members,
       st.text(max_size=4), json_values, st.booleans())
def test_a_spliced_encoding_is_the_encoding(before, spec, after, name, value, status_changes):
    from engine.apiserver.storage import dumps, splice

    before = {key: item for key, item in before.items() if key not in after}
    previous = {**before, "spec": spec, **after}
    stored = dumps(previous).encode()
    obj = {**before, "spec": {**spec, name: value}, **after}
    if status_changes:
        obj["status"] = {"conditions": [{"type": "PodScheduled"}]}
    spliced = splice(obj, previous, stored, "spec", name)
    if name in spec or (status_changes and "status" in before):      # not previous's spec plus one; a new head
        assert spliced is None
    else:
        assert spliced == dumps(obj).encode()


def test_a_splice_that_does_not_line_up_is_declined():
    from engine.apiserver.storage import dumps, splice

    previous = {"metadata": {"name": "a", "resourceVersion": "3"}, "spec": {"x": 1}, "status": {}}
    stored = dumps({"metadata": {"name": "a"}, "spec": {"x": 1}, "status": {}}).encode()
    obj = {"metadata": {"name": "b"}, "spec": {"x": 1, "nodeName": "n"}, "status": {}}
    assert splice(obj, previous, stored, "spec", "nodeName") is None          # the head differs
    obj = {"metadata": {"name": "a"}, "spec": {"x": 2, "nodeName": "n"}, "status": {}}
    assert splice(obj, previous, stored, "spec", "nodeName") is None          # not previous's spec plus one
    late = {"spec": {"x": 1}, "metadata": {"name": "a", "resourceVersion": "3"}}
    stored = dumps({"spec": {"x": 1}, "metadata": {"name": "a"}}).encode()
    obj = {"spec": {"x": 1, "nodeName": "n"}, "metadata": {"name": "a"}}
    assert splice(obj, late, stored, "spec", "nodeName") is None              # the tail holds a resourceVersion
    assert splice(obj, {"spec": {}, "metadata": {}}, b"{}", "spec", "nodeName") is None


@pytest.mark.parametrize("text", ["status.phase!=Succeeded,status.phase!=Failed", "spec.nodeName=",
                                  "spec.nodeName=node-1", "spec.schedulerName=default-scheduler,status.phase=Running",
                                  "metadata.name=a,spec.nodeName=node-1", "status.podIP=10.0.0.1"])
def test_a_pod_field_selector_reading_only_its_fields_matches_as_the_full_field_set_does(text):
    from engine.api import selectors
    from engine.api.kinds import REGISTRY
    from engine.api.frozen import freeze
    from engine.apiserver.server import _field_matcher

    pods = [{"kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec, "status": status}
            for name in ("a", "b")
            for spec in ({}, {"nodeName": "node-1", "schedulerName": "default-scheduler"}, {"nodeName": None},
                         {"nodeName": 3}, {"nodeName": True})
            for status in ({}, {"phase": "Running", "podIP": "10.0.0.1"}, {"phase": "Succeeded"}, {"phase": None})]
    pods.append({"metadata": {"name": "a"}, "spec": {"nodeName": "node-1"}})      # no kind: the full set
    kind = REGISTRY.lookup("pods")
    matcher = _field_matcher(text, kind)
    selector = selectors.convert_field_selector("Pod", text)
    for pod in pods:
        expected = selector.matches(selectors.selectable_fields(pod, True))
        assert matcher(pod) == expected == matcher(freeze(pod)), (text, pod)


def test_an_authorizer_that_remembers_nothing_decides_every_request():
    from engine.apiserver.rbac import Decision as AuthzDecision

    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    asked: list[str] = []

    class Plain:
        def authorize(self, attrs):
            asked.append(attrs.resource)
            return AuthzDecision(attrs.resource == "configmaps", "only configmaps")

    cluster.apiserver.authorizer = Plain()
    alice = cluster.client("alice")
    for _ in range(2):
        assert can(alice, "list", "configmaps") and not can(alice, "list", "secrets")
    assert asked.count("configmaps") == 2


@settings(max_examples=150, deadline=None)
@given(members, st.dictionaries(st.text(max_size=3), json_values, min_size=1, max_size=4), members,
       st.text(max_size=4), json_values, st.booleans(), st.booleans())
def test_a_trusted_splice_is_the_encoding_too(before, spec, after, name, value, status_changes, versioned):
    from engine.apiserver.storage import dumps, splice

    before = {key: item for key, item in before.items() if key not in after}
    if versioned and isinstance(before.get("metadata"), dict):     # the cached object's resourceVersion
        before["metadata"] = {**before["metadata"], "resourceVersion": "7"}
    previous = {**before, "spec": spec, **after}
    stored = dumps({**previous, **({"metadata": {k: v for k, v in before["metadata"].items()
                                                  if k != "resourceVersion"}} if "metadata" in before and
                                   isinstance(before["metadata"], dict) else {})}).encode()
    obj = {**before, "spec": {**spec, name: value}, **after}
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    if status_changes:
        obj["status"] = {"conditions": [{"type": "PodScheduled"}]}
    spliced = splice(obj, previous, stored, "spec", name, trusted=True)
    if spliced is not None:
        assert spliced == dumps(obj).encode()
    elif name not in spec and not (status_changes and "status" in before) and "metadata" not in after:
        assert False, "a splice that lines up was declined"


def test_a_trusted_splice_declines_a_head_that_changed():
    from engine.apiserver.storage import dumps, splice

    previous = {"metadata": {"name": "a", "resourceVersion": "3"}, "spec": {"x": 1}, "status": {}}
    stored = dumps({"metadata": {"name": "a"}, "spec": {"x": 1}, "status": {}}).encode()
    for metadata in ({"name": "b"}, {"name": "a", "uid": "u"}, {"uid": "u"}, {"name": "a", "resourceVersion": "3"}):
        obj = {"metadata": metadata, "spec": {"x": 1, "nodeName": "n"}, "status": {}}
        assert splice(obj, previous, stored, "spec", "nodeName", trusted=True) is None
    reordered = {"metadata": {"b": 1, "a": 2}, "spec": {"x": 1}}
    stored = dumps({"metadata": {"b": 1, "a": 2}, "spec": {"x": 1}}).encode()
    obj = {"metadata": {"a": 2, "b": 1}, "spec": {"x": 1, "nodeName": "n"}}     # equal, written otherwise
    assert splice(obj, reordered, stored, "spec", "nodeName", trusted=True) is None
    floats = {"metadata": {"n": 0.0}, "spec": {"x": 1}}
    obj = {"metadata": {"n": -0.0}, "spec": {"x": 1, "nodeName": "n"}}
    assert splice(obj, floats, dumps(floats).encode(), "spec", "nodeName", trusted=True) is None


def test_a_pod_whose_bytes_another_writer_stored_is_bound_to_its_plain_encoding():
    from engine.apiserver.storage import dumps

    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    cluster.admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
                          "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    key = "/registry/pods/default/web"
    written = json.loads(cluster.store.range(key).kvs[0].value)
    cluster.store.put(key, json.dumps(written, indent=1).encode())       # the same object, other bytes
    current = cluster.apiserver.cached("pods", "default", "web")
    cluster.admin.bind("default", "web", "node-1")
    stored = cluster.store.range(key).kvs[0].value
    bound = json.loads(stored)
    assert bound["spec"]["nodeName"] == "node-1"
    assert stored == dumps(bound).encode()
    assert current["metadata"]["name"] == "web"
