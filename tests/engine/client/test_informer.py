"""Shared informers against a real API server: list, watch, handlers, stale caches, 410 and relist, the factory."""

from __future__ import annotations

import pytest

from engine import flags
from engine.api.errors import Forbidden, Gone
from engine.api.frozen import thaw
from engine.client.cache import DeletedFinalStateUnknown
from engine.client.informer import SharedInformer, SharedInformerFactory
from engine.client.workqueue import WorkQueue

DELAY = flags.watch_delay


def names(objects) -> list[str]:
    return sorted(obj["metadata"]["name"] for obj in objects)


def server_pods(admin, namespace=None) -> dict[str, str]:
    """name -> resourceVersion of the pods the API server holds."""
    listing = admin.list("pods", namespace)
    return {pod["metadata"]["name"]: pod["metadata"]["resourceVersion"] for pod in listing["items"]}


def cached_pods(informer) -> dict[str, str]:
    return {pod["metadata"]["name"]: pod["metadata"]["resourceVersion"] for pod in informer.indexer.list()}


@pytest.fixture
def pods(admin, seen):
    """A started, synced pod informer with the ``seen`` handlers registered before the start."""
    informer = SharedInformer(admin, "pods")
    informer.add_event_handler(**seen.handlers())
    informer.run()
    admin.loop.run_for(0)
    assert informer.has_synced
    return informer


# -- the first list ---------------------------------------------------------------

def test_the_initial_list_fires_an_add_for_every_object_and_then_has_synced(admin, loop, seen, make_pod):
    for name in ("a", "b", "c"):
        admin.create(make_pod(name))
    informer = SharedInformer(admin, "pods")
    informer.add_event_handler(**seen.handlers())
    informer.run()
    assert not informer.has_synced and seen.calls == []      # run() only schedules the list
    loop.run_for(0)
    assert informer.has_synced
    assert seen.calls == [("add", "a"), ("add", "b"), ("add", "c")]
    assert informer.last_sync_resource_version == admin.list("pods")["metadata"]["resourceVersion"]


# -- watch events arrive after the watch delay ------------------------------------------

@pytest.mark.parametrize("action, expected", [
    pytest.param(lambda admin, pod: admin.create(pod("new")), ("add", "new"),
                 id="a created object reaches on_add after the watch delay"),
    pytest.param(lambda admin, pod: admin.patch("pods", "existing", {"metadata": {"labels": {"v": "2"}}}, "default"),
                 ("update", "existing"), id="an updated object reaches on_update after the watch delay"),
    pytest.param(lambda admin, pod: admin.delete("pods", "existing", "default"), ("delete", "existing"),
                 id="a deleted object reaches on_delete after the watch delay"),
])
def test_changes_reach_handlers_only_after_the_watch_delay(admin, loop, seen, make_pod, action, expected):
    admin.create(make_pod("existing"))
    informer = SharedInformer(admin, "pods")
    informer.run()
    loop.run_for(0)
    informer.add_event_handler(**seen.handlers())
    loop.run_for(0)
    seen.clear()
    action(admin, make_pod)
    loop.run_for(DELAY / 2)
    assert seen.calls == []                                   # not yet: the informer is behind the server
    loop.run_for(DELAY / 2)
    assert seen.calls == [expected]


def test_the_cache_is_stale_until_the_event_arrives(admin, loop, pods, make_pod):
    admin.create(make_pod("web", app="v1"))
    loop.run_for(DELAY)
    admin.patch("pods", "web", {"metadata": {"labels": {"app": "v2"}}}, "default")
    assert admin.get("pods", "web", "default")["metadata"]["labels"]["app"] == "v2"
    assert pods.lister.get("default", "web")["metadata"]["labels"]["app"] == "v1"    # stale
    assert pods.lister.list("default", "app=v2") == []
    loop.run_for(DELAY)
    assert pods.lister.get("default/web")["metadata"]["labels"]["app"] == "v2"
    assert names(pods.lister.list("default", "app=v2")) == ["web"]


def test_update_handlers_get_the_old_and_the_new_object(admin, loop, pods, seen, make_pod):
    admin.create(make_pod("web", app="v1"))
    admin.patch("pods", "web", {"metadata": {"labels": {"app": "v2"}}}, "default")
    loop.run_for(DELAY)
    old, new = seen.objects[-1]
    assert seen.calls[-2:] == [("add", "web"), ("update", "web")]
    assert (old["metadata"]["labels"]["app"], new["metadata"]["labels"]["app"]) == ("v1", "v2")
    assert int(new["metadata"]["resourceVersion"]) > int(old["metadata"]["resourceVersion"])


def test_when_a_handler_runs_the_cache_already_holds_the_new_state(admin, loop, make_pod):
    informer = SharedInformer(admin, "pods")
    observed = []
    informer.add_event_handler(on_add=lambda obj: observed.append(informer.lister.get("default", "web") is obj),
                               on_delete=lambda obj: observed.append(informer.lister.get("default", "web")))
    informer.run()
    admin.create(make_pod("web"))
    loop.run_for(DELAY)
    admin.delete("pods", "web", "default")
    loop.run_for(DELAY)
    assert observed == [True, None]


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda obj: obj["metadata"].__setitem__("name", "x"), id="setting a field of a cached object raises"),
    pytest.param(lambda obj: obj["metadata"]["labels"].update(app="x"), id="updating a cached dict raises"),
    pytest.param(lambda obj: obj["spec"]["containers"].append({}), id="appending to a cached list raises"),
    pytest.param(lambda obj: obj.pop("spec"), id="popping from a cached object raises"),
])
def test_cached_objects_raise_type_error_on_mutation(admin, loop, pods, seen, make_pod, mutate):
    admin.create(make_pod("web"))
    loop.run_for(DELAY)
    for obj in (pods.lister.get("default", "web"), seen.objects[-1]):
        with pytest.raises(TypeError, match="read-only"):
            mutate(obj)
    copy = thaw(pods.lister.get("default", "web"))
    mutate(copy)                                              # a thawed copy is the caller's own


# -- 410 Gone and the relist ----------------------------------------------------------

def test_a_watch_from_a_compacted_revision_gets_410_and_the_informer_recovers_by_relisting(
        cluster, admin, loop, pods, seen, make_pod):
    for name in ("a", "b", "c"):
        admin.create(make_pod(name))
    loop.run_for(DELAY)
    seen.clear()
    pods.reflector.disconnect(seconds=10.0)                   # the connection drops for 10 s
    admin.delete("pods", "a", "default")
    admin.patch("pods", "b", {"metadata": {"labels": {"changed": "yes"}}}, "default")
    admin.create(make_pod("d"))
    for index in range(20):                                   # plenty of other writes
        admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index}"}})
    cluster.apiserver.compact(cluster.store.revision)         # etcd compaction forgets the gap
    loop.run_for(9.9)
    assert seen.calls == [] and "a" in cached_pods(pods)      # partitioned: the cache is stale
    loop.run_for(0.1 + DELAY)                                 # reconnect: the watch is answered 410
    assert isinstance(pods.reflector.last_error, Gone)
    assert pods.reflector.last_error.status["reason"] == "Expired"
    assert seen.calls == [] and pods.reflector.lists == 1     # backing off before relisting
    loop.run_for(1.6)                                         # the first backoff is 0.8 to 1.6 s
    assert pods.reflector.lists == 2
    assert cached_pods(pods) == server_pods(admin)
    assert ("delete", "a", "tombstone") in seen.calls
    tombstone = seen.objects[seen.calls.index(("delete", "a", "tombstone"))]
    assert isinstance(tombstone, DeletedFinalStateUnknown) and tombstone.key == "default/a"
    assert ("add", "d") in seen.calls and ("update", "b") in seen.calls
    assert ("update", "c") in seen.calls                      # a relist re-delivers unchanged objects too
    admin.create(make_pod("e"))                               # and the new watch works
    loop.run_for(DELAY)
    assert seen.calls[-1] == ("add", "e")


def test_a_short_disconnect_resumes_the_watch_without_relisting(admin, loop, pods, seen, make_pod):
    pods.reflector.disconnect(seconds=5.0)
    admin.create(make_pod("during"))
    admin.delete("pods", "during", "default")
    loop.run_for(5.0 + DELAY)
    assert pods.reflector.lists == 1
    assert seen.calls == [("add", "during"), ("delete", "during")]


def test_the_watch_times_out_every_five_to_ten_minutes_and_is_reopened_without_a_relist(admin, loop, pods, seen,
                                                                                         make_pod):
    loop.run_for(1200)
    assert pods.reflector.watches >= 2 and pods.reflector.lists == 1
    admin.create(make_pod("late"))
    loop.run_for(DELAY)
    assert seen.calls == [("add", "late")]


def test_bookmarks_advance_the_resource_version_without_calling_handlers(admin, loop, pods, seen):
    before = int(pods.last_sync_resource_version)
    for index in range(3):
        admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index}"}})
    loop.run_for(61)
    assert int(pods.last_sync_resource_version) > before
    assert seen.calls == []


# -- handlers added late, resync, on_change --------------------------------------------

def test_a_handler_added_after_sync_gets_synthetic_adds_first_and_then_events_in_order(admin, loop, pods, new_seen,
                                                                                      make_pod):
    admin.create(make_pod("a"))
    admin.create(make_pod("b"))
    loop.run_for(DELAY)
    late = new_seen()
    pods.add_event_handler(**late.handlers())
    assert late.calls == []                                   # delivered on the next loop turn, as in client-go
    admin.delete("pods", "a", "default")
    loop.run_for(DELAY)
    assert late.calls == [("add", "a"), ("add", "b"), ("delete", "a")]


def test_a_resync_redelivers_every_cached_object_as_an_update(admin, loop, seen, make_pod):
    admin.create(make_pod("a"))
    informer = SharedInformer(admin, "pods", resync_period=30.0)
    informer.add_event_handler(**seen.handlers())
    informer.run()
    loop.run_for(29)
    assert seen.calls == [("add", "a")]
    loop.run_for(1)
    assert seen.calls == [("add", "a"), ("update", "a")]
    old, new = seen.objects[-1]
    assert old is new
    loop.run_for(30)
    assert seen.calls.count(("update", "a")) == 2


def test_on_change_with_add_key_puts_keys_on_a_work_queue_including_deletions(admin, loop, pods, make_pod):
    queue = WorkQueue(loop, name="test")
    pods.on_change(queue.add_key)
    admin.create(make_pod("a"))
    admin.create(make_pod("b", namespace="kube-system"))
    loop.run_for(DELAY)
    assert queue.keys() == ["default/a", "kube-system/b"]
    for key in queue.keys():
        queue.get()
        queue.done(key)
    pods.reflector.disconnect(1.0)
    admin.delete("pods", "a", "default")
    admin.server.compact(admin.server.store.revision)
    loop.run_for(3.0)                                         # 410, backoff, relist: a tombstone for "a"
    assert "default/a" in queue.keys()


def test_removed_handlers_hear_nothing_more(admin, loop, pods, new_seen, make_pod):
    other = new_seen()
    registration = pods.add_event_handler(**other.handlers())
    pods.remove_event_handler(registration)
    admin.create(make_pod("a"))
    loop.run_for(DELAY)
    assert other.calls == []


def test_a_failing_handler_does_not_keep_the_event_from_other_handlers(admin, loop, pods, seen, make_pod):
    def broken(obj):
        raise RuntimeError("learner bug")

    pods.add_event_handler(on_add=broken)
    pods.add_event_handler(**seen.handlers())  # registered after the broken one
    admin.create(make_pod("a"))
    with pytest.raises(RuntimeError, match="learner bug"):
        loop.run_for(DELAY)
    assert seen.calls.count(("add", "a")) == 2               # the fixture's handlers and the late ones
    assert pods.lister.get("default", "a") is not None


# -- filtering ----------------------------------------------------------------------------

@pytest.mark.parametrize("options, expected", [
    pytest.param({"namespace": "kube-system"}, ["sys"], id="a namespaced informer sees only its namespace"),
    pytest.param({"label_selector": "app=db"}, ["db"], id="a label selector filters what the informer lists"),
    pytest.param({"field_selector": "spec.nodeName=node-1"}, ["on-node-1"],
                 id="a field selector on spec.nodeName is how a kubelet watches only its pods"),
])
def test_informers_can_watch_a_namespace_or_a_selection(admin, loop, make_pod, options, expected):
    admin.create(make_pod("sys", namespace="kube-system"))
    admin.create(make_pod("db", app="db"))
    admin.create(make_pod("on-node-1", node="node-1"))
    informer = SharedInformer(admin, "pods", **options)
    informer.run()
    loop.run_for(0)
    assert names(informer.lister.list()) == expected


def test_a_pod_bound_to_the_node_arrives_as_an_add_and_leaves_as_a_delete(admin, loop, seen, make_pod):
    informer = SharedInformer(admin, "pods", field_selector="spec.nodeName=node-1")
    informer.add_event_handler(**seen.handlers())
    informer.run()
    admin.create(make_pod("web"))
    loop.run_for(DELAY)
    assert seen.calls == []
    admin.bind("default", "web", "node-1")
    loop.run_for(DELAY)
    assert seen.calls == [("add", "web")]
    admin.delete("pods", "web", "default", grace_period_seconds=0)
    loop.run_for(DELAY)
    assert seen.calls == [("add", "web"), ("delete", "web")]


def test_a_custom_delay_makes_a_slower_informer(admin, loop, seen, make_pod):
    informer = SharedInformer(admin, "pods", delay=2.0)
    informer.add_event_handler(**seen.handlers())
    informer.run()
    loop.run_for(0)
    admin.create(make_pod("a"))
    loop.run_for(1.9)
    assert seen.calls == []
    loop.run_for(0.1)
    assert seen.calls == [("add", "a")]


def test_a_forbidden_list_is_retried_with_backoff_until_rbac_allows_it(cluster, admin, loop, make_pod):
    admin.create(make_pod("a"))
    informer = SharedInformer(cluster.client("alice", ()), "pods")
    informer.run()
    loop.run_for(10)
    assert not informer.has_synced and isinstance(informer.reflector.last_error, Forbidden)
    admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                  "metadata": {"name": "pod-reader"},
                  "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]})
    admin.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": "alice-reads-pods"},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"},
                  "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    loop.run_for(31)                                          # the backoff is capped at 30 s (jittered up to 60)
    loop.run_for(30)
    assert informer.has_synced and names(informer.lister.list()) == ["a"]


# -- the factory ----------------------------------------------------------------------------

def test_the_factory_shares_one_informer_per_kind_namespace_and_selectors(admin):
    factory = SharedInformerFactory(admin)
    assert factory.pods is factory.informer("pods") is factory.informer("po") is factory.informer("Pod")
    assert factory.replicasets is factory.informer("replicasets.apps")
    assert factory.informer("pods", namespace="kube-system") is not factory.pods
    assert factory.informer("pods", field_selector="spec.nodeName=node-1") is not factory.pods
    assert factory.informer("nodes", namespace="ignored") is factory.nodes      # cluster-scoped: no namespace
    assert factory.lister("pods") is factory.pods.lister
    with pytest.raises(AttributeError, match="no resource"):
        factory.widgets


def test_factory_start_starts_what_was_asked_for_and_synced_waits_for_all(admin, loop):
    factory = SharedInformerFactory(admin)
    pods = factory.pods
    factory.start()
    loop.run_for(0)
    assert pods.has_synced and factory.synced
    nodes = factory.nodes                                     # asked for after start: not started
    loop.run_for(1)
    assert not nodes.started and not factory.synced
    factory.start()
    loop.run_for(0)
    assert nodes.has_synced and factory.synced
    factory.stop()
    assert pods.stopped and nodes.stopped
