"""An object written while nobody watches its key is kept by the watch cache as its bytes and decoded when first
read: every reader (get, list, a watch replaying the window, with or without selectors) sees what an eager cache
would have shown, and repeated reads share one frozen object."""

from __future__ import annotations

import json

import engine
from engine.api.frozen import FrozenDict
from engine.apiserver.watchcache import decode


def _config(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default",
                                                                   "labels": labels}, "data": {"k": name}}


def _history(cluster: engine.Cluster) -> str:
    """Creates, updates (one stops matching app=a, one starts), deletes; returns the resourceVersion before."""
    admin = cluster.admin
    since = str(cluster.store.revision)
    for name in ("one", "two", "three"):
        admin.create(_config(name, app="a"))
    two = admin.get("configmaps", "two", "default")
    two["metadata"]["labels"] = {"app": "b"}
    admin.update(two)
    three = admin.get("configmaps", "three", "default")
    three["data"]["k"] = "changed"
    admin.update(three)
    admin.delete("configmaps", "one", "default")
    admin.delete("configmaps", "two", "default")
    return since


def _seen(cluster: engine.Cluster, since: str, label_selector: str | None) -> list[str]:
    seen: list[dict] = []
    cluster.admin.watch("configmaps", seen.append, "default", resource_version=since, allow_bookmarks=False,
                        label_selector=label_selector)
    cluster.run(1)
    return [json.dumps(event, sort_keys=False) for event in seen]


def test_a_watch_replaying_encoded_objects_sees_what_an_eager_cache_shows():
    for selector in (None, "app=a"):
        eager = engine.Cluster(nodes=0, seed=1, keep_history=False, components=[])
        eager.admin.watch("configmaps", lambda event: None, "default", allow_bookmarks=False)  # decoded at once
        lazy = engine.Cluster(nodes=0, seed=1, keep_history=False, components=[])
        since = _history(eager)
        assert _history(lazy) == since
        lazy_cacher = lazy.apiserver.cachers[lazy.apiserver.registry.lookup("configmaps")]
        assert not lazy_cacher.watchers
        expected = _seen(eager, since, selector)
        assert expected and _seen(lazy, since, selector) == expected
        assert any('"DELETED"' in event for event in expected)


def test_an_encoded_object_is_decoded_once_on_first_read():
    cluster = engine.Cluster(nodes=0, seed=2, keep_history=False, components=[])
    cluster.admin.create(_config("c", app="a"))
    cacher = cluster.apiserver.cachers[cluster.apiserver.registry.lookup("configmaps")]
    key = "/registry/configmaps/default/c"
    listed = cacher.list("/registry/configmaps/default/")
    got = cacher.get(key)
    assert got is cacher.get(key) and listed == [got] and listed[0] is got
    assert type(got) is FrozenDict
    assert json.dumps(got) == json.dumps(decode(cluster.store.range(key).kvs[0]))
    assert cluster.admin.get("configmaps", "c", "default")["metadata"]["resourceVersion"] == \
        str(cluster.store.range(key).kvs[0].mod_revision)


def test_events_nobody_watches_read_back_as_written():
    cluster = engine.Cluster(nodes=1, seed=3, keep_history=False)
    cluster.admin.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                                   "template": {"metadata": {"labels": {"app": "web"}},
                                                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
    cluster.run(30)
    server = cluster.apiserver
    cacher = server.cachers[server.registry.lookup("events")]
    keys = cacher.objects.keys()
    assert keys
    for key in keys:
        obj = cacher.get(key)
        assert type(obj) is FrozenDict
        assert json.dumps(obj) == json.dumps(decode(server.store.range(key).kvs[0]))
