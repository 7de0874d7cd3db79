"""kube-apiserver's etcd compactor (compact.go): every --etcd-compaction-interval, at the previous tick's revision."""

import pytest

import engine
from engine import flags
from engine.apiserver.compact import COMPACT_REV_KEY
from engine.store.types import CompactedError

INTERVAL = flags.etcd_compaction_interval


@pytest.fixture
def cluster():
    return engine.Cluster(nodes=1, seed=0)


def _run_to(cluster, when: float) -> None:
    cluster.run(when - cluster.now)


def _compact_rev_key(cluster):
    kvs = cluster.store.range(COMPACT_REV_KEY).kvs
    return kvs[0] if kvs else None


def test_the_first_tick_after_boot_records_a_revision_and_compacts_nothing(cluster):
    _run_to(cluster, INTERVAL - 1)
    assert _compact_rev_key(cluster) is None
    _run_to(cluster, INTERVAL + 1)
    key = _compact_rev_key(cluster)
    assert (key.version, key.value) == (1, b"0")
    assert cluster.store.compact_revision == 0


def test_each_later_tick_compacts_at_the_revision_of_the_tick_before(cluster):
    _run_to(cluster, INTERVAL + 1)
    first_tick = _compact_rev_key(cluster).mod_revision
    _run_to(cluster, 2 * INTERVAL + 1)
    key = _compact_rev_key(cluster)
    assert int(key.value) == first_tick == cluster.store.compact_revision
    with pytest.raises(CompactedError):
        cluster.store.range("/registry/", "/registry0", revision=first_tick - 1)
    assert cluster.compactor.compactions == 1


def test_the_watch_caches_forget_the_compacted_events(cluster):
    _run_to(cluster, 3 * INTERVAL + 1)
    compacted = cluster.store.compact_revision
    windows = [cacher.events for cacher in cluster.apiserver.cachers.values()]
    assert compacted > 0
    assert all(event.revision > compacted for window in windows for event in window)


def test_a_compaction_by_another_api_server_makes_this_one_catch_up_instead(cluster):
    _run_to(cluster, INTERVAL + 1)
    cluster.store.put(COMPACT_REV_KEY, b"7")        # another API server won the compact time meanwhile
    _run_to(cluster, 2 * INTERVAL + 1)
    assert (cluster.compactor.compactions, cluster.store.compact_revision) == (0, 0)
    caught_up = _compact_rev_key(cluster).version
    _run_to(cluster, 3 * INTERVAL + 1)
    assert cluster.compactor.compactions == 1
    assert _compact_rev_key(cluster).version == caught_up + 1


def test_a_stopped_cluster_compacts_no_more(cluster):
    cluster.stop()
    _run_to(cluster, 3 * INTERVAL + 1)
    assert _compact_rev_key(cluster) is None
