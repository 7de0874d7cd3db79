"""A cluster left running (an hour's live demo, a notebook left open) stays bounded.

Between minute 10 and minute 40 of virtual time, nothing the cluster keeps may grow with the time it has run:
the store's history (compacted every five minutes), the watch caches' windows, the watchers (informers re-watch
every 5 to 10 minutes, and the old watch must go), and the timers kept alive. Events are left out: they live an
hour (--event-ttl), so they grow during the first hour, as in Kubernetes.
"""

import gc

import pytest

import engine
from engine.sim.loop import Timer


def _footprint(cluster) -> dict[str, int]:
    cachers = cluster.apiserver.cachers.values()
    gc.collect()
    return {
        "revisions kept": cluster.store.revision - cluster.store.compact_revision,
        "watch cache window": sum(len(cacher.events) for cacher in cachers),
        "watchers": sum(len(cacher.watchers) for cacher in cachers),
        "timers alive": sum(1 for obj in gc.get_objects() if type(obj) is Timer),
    }


@pytest.fixture(scope="module")
def footprints():
    cluster = engine.Cluster(nodes=2, seed=0, keep_history=False)
    cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
                   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}})
    cluster.run(600)
    early = _footprint(cluster)
    cluster.run(1800)
    return early, _footprint(cluster)


@pytest.mark.parametrize("what", ["revisions kept", "watch cache window", "timers alive"])
def test_what_the_cluster_keeps_does_not_grow_with_its_age(footprints, what):
    early, late = footprints
    assert late[what] <= early[what] * 1.1 + 10, (what, early[what], late[what])


def test_a_rewatch_replaces_the_old_watch(footprints):
    early, late = footprints
    assert late["watchers"] == early["watchers"]
