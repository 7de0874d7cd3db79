"""The API server's faster write path gives exactly what the plain one gives: same bytes, same decoded objects."""

from __future__ import annotations

import json
import random
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.api.frozen import FrozenDict, FrozenList, freeze, loads_frozen, thaw
from engine.api.meta import new_uid
from engine.apiserver.watchcache import decode
from json_shapes import same

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}


def plain_bind(current: dict, target: str, now: str) -> dict:
    """What _bind stored before: a thawed copy with the node and the PodScheduled condition."""
    pod = thaw(current)
    pod["spec"]["nodeName"] = target
    conditions = [c for c in pod.setdefault("status", {}).get("conditions", []) if c["type"] != "PodScheduled"]
    conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
    pod["status"]["conditions"] = conditions
    return pod


def test_a_bound_pod_in_the_watch_cache_is_what_decoding_its_stored_bytes_gives():
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    admin, server = cluster.admin, cluster.apiserver
    admin.create(POD)
    # a pod the scheduler already failed: its PodScheduled=False condition is replaced
    admin.create(dict(POD, metadata={"name": "failed"}))
    admin.patch("pods", "failed", {"status": {"conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/0 nodes"},
        {"type": "Ready", "status": "False"}]}}, "default", subresource="status")
    for name in ("web", "failed"):
        before = server.cached("pods", "default", name)
        admin.bind("default", name, "node-1")
        cached = server.cached("pods", "default", name)
        kv = server.store.range(f"/registry/pods/default/{name}").kvs[0]
        assert same(cached, decode(kv))
        expected = plain_bind(before, "node-1", cached["status"]["conditions"][-1]["lastTransitionTime"])
        expected["metadata"].pop("resourceVersion")
        assert kv.value == json.dumps(expected, separators=(",", ":")).encode()
        assert [c["type"] for c in cached["status"]["conditions"]][-1] == "PodScheduled"
        assert cached["metadata"]["resourceVersion"] == str(kv.mod_revision)
        assert before["metadata"]["resourceVersion"] != cached["metadata"]["resourceVersion"]


def test_the_watchers_of_a_binding_get_the_cached_object():
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    admin = cluster.admin
    admin.create(POD)
    seen = []
    admin.watch("pods", seen.append, "default", resource_version=cluster.apiserver.cached(
        "pods", "default", "web")["metadata"]["resourceVersion"])
    admin.bind("default", "web", "node-1")
    cluster.run(1)
    assert [event["type"] for event in seen] == ["MODIFIED"]
    assert seen[0]["object"] is cluster.apiserver.cached("pods", "default", "web")
    assert seen[0]["object"]["spec"]["nodeName"] == "node-1"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=30)


def reference_thaw(value):
    if isinstance(value, dict):
        return {key: reference_thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reference_thaw(item) for item in value]
    return value


def reference_freeze(value):
    if isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, dict):
        return FrozenDict({key: reference_freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList([reference_freeze(item) for item in value])
    return value


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_freeze_thaw_and_frozen_decoding_match_their_plain_definitions(value):
    frozen = reference_freeze(value)
    assert same(freeze(value), frozen)
    assert same(thaw(frozen), reference_thaw(frozen))
    assert same(loads_frozen(json.dumps(value)), reference_freeze(json.loads(json.dumps(value))))


def test_new_uid_is_the_text_of_a_version_4_uuid_from_the_same_draw():
    ours, theirs = random.Random(7), random.Random(7)
    for _ in range(2000):
        assert new_uid(ours) == str(uuid.UUID(int=theirs.getrandbits(128), version=4))


class VersionedRules:
    """RBAC objects that say their version, so the authorizer remembers its decisions."""

    def __init__(self, objects: list[dict]) -> None:
        self.objects = objects

    def version(self) -> tuple:
        return (len(self.objects),)

    def list_cluster_role_bindings(self) -> list[dict]:
        return []

    def list_role_bindings(self, namespace: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] == namespace]

    def get_cluster_role(self, name: str) -> dict | None:
        return None

    def get_role(self, namespace: str, name: str) -> dict | None:
        return next((o for o in self.objects if o["kind"] == "Role" and o["metadata"]["name"] == name), None)


def test_remembered_rbac_decisions_still_follow_resource_names():
    from engine.apiserver.authn import UserInfo
    from engine.apiserver.rbac import Attributes, RBACAuthorizer

    rbac = "rbac.authorization.k8s.io"

    def bound(role_name: str, user_name: str, *rules: dict) -> list[dict]:
        return [{"kind": "Role", "metadata": {"name": role_name, "namespace": "dev"}, "rules": list(rules)},
                {"kind": "RoleBinding", "metadata": {"name": role_name, "namespace": "dev"},
                 "roleRef": {"apiGroup": rbac, "kind": "Role", "name": role_name},
                 "subjects": [{"kind": "User", "apiGroup": rbac, "name": user_name}]}]

    objects = (bound("binder", "sched", {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/binding"]})
               + bound("one-config", "reader", {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                                                "resourceNames": ["app"]}))
    authorizer = RBACAuthorizer(VersionedRules(objects))

    def allowed(who: str, verb: str, resource: str, subresource: str, name: str) -> bool:
        attrs = Attributes(user=UserInfo(who), verb=verb, namespace="dev", resource=resource,
                           subresource=subresource, name=name)
        return authorizer.authorize(attrs).allowed

    for _ in range(2):                      # the second round is answered from what was remembered
        assert allowed("sched", "create", "pods", "binding", "a") and allowed("sched", "create", "pods", "binding", "b")
        assert allowed("reader", "get", "configmaps", "", "app")
        assert not allowed("reader", "get", "configmaps", "", "other")
        assert not allowed("sched", "get", "configmaps", "", "app")


def test_a_binding_splices_the_remembered_bytes_without_reading_the_store_back():
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    server = cluster.apiserver
    cluster.admin.create(POD)
    storage = server.storages[server.registry.find("pods")]
    key = "/registry/pods/default/web"
    assert type(storage._written[key]) is bytes and storage._written_objects[key] is server.cached("pods", "default", "web")
    reads = []
    store_range = server.store.range
    server.store.range = lambda k, *args, **kwargs: reads.append(k) or store_range(k, *args, **kwargs)
    cluster.admin.bind("default", "web", "node-1")
    assert key not in reads                 # the remembered bytes were the stored ones: spliced, not read back
    assert storage._written[key] == store_range(key).kvs[0].value
    assert storage._written_objects[key] is server.cached("pods", "default", "web")
