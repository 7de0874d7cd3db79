"""The audit log and the watch deliveries keep plain tuples (untracked by the GC) and read as named tuples."""

import gc

import engine
from engine.apiserver.audit import AuditEntries, AuditEvent, AuditLog
from engine.apiserver.server import Deliveries, WatchDelivery


def _record(log: AuditLog, n: int) -> list[AuditEvent]:
    return [log.record(float(i), "alice", ("system:authenticated",), "create", "pods", "", "default", f"p{i}",
                       None, 201, 10 + i, str(10 + i)) for i in range(n)]


def test_the_log_yields_the_audit_events_it_returned_in_order_and_reversed():
    log = AuditLog(capacity=10)
    returned = _record(log, 4)
    assert all(type(event) is AuditEvent for event in returned)
    assert list(log) == list(log.entries) == returned
    assert all(type(event) is AuditEvent for event in log.entries)
    assert list(reversed(log.entries)) == returned[::-1]
    assert log.entries[-1] == returned[-1] and log.entries[0].audit_id == 1
    assert len(log) == len(log.entries) == 4 and log.total == 4
    assert log.since(2) == returned[2:]
    assert log.as_dicts() == [event.to_dict() for event in returned]


def test_the_log_keeps_its_newest_entries_and_counts_them_all():
    log = AuditLog(capacity=3)
    returned = _record(log, 5)
    assert list(log) == returned[2:] and log.total == 5 and log.entries.maxlen == 3


def test_kept_entries_are_plain_tuples_the_collector_stops_tracking():
    log = AuditLog()
    _record(log, 3)
    assert all(type(row) is tuple for row in log.entries.rows)
    gc.collect()
    assert not any(gc.is_tracked(row) for row in log.entries.rows)


def test_a_named_tuple_appended_is_kept_as_a_plain_tuple():
    entries = AuditEntries(maxlen=2)
    event = AuditEvent(7, 1.0, "bob", (), "get", "pods", "", None, None, None, 200, 3)
    entries.append(event)
    assert type(entries.rows[0]) is tuple and list(entries) == [event]
    fresh = type(entries)(maxlen=5)         # what a benchmark does to shorten the log
    assert len(fresh) == 0 and fresh.maxlen == 5


def test_watch_deliveries_are_plain_tuples_read_as_watch_deliveries():
    cluster = engine.Cluster(nodes=1, seed=0)
    watcher = cluster.client("row-watcher", ("system:masters",))
    watcher.watch("configmaps", lambda event: None, resource_version=str(cluster.store.revision))
    created = cluster.admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    cluster.run(1)
    deliveries = cluster.apiserver.deliveries
    assert isinstance(deliveries, Deliveries)
    mine = [d for d in deliveries if d.user == "row-watcher" and d.resource == "configmaps"]
    assert mine == [WatchDelivery(mine[0].time, "row-watcher", "configmaps", "ADDED", "default", "cm",
                                  int(created["metadata"]["resourceVersion"]))]
    assert type(mine[0]) is WatchDelivery and list(reversed(deliveries))[0] == deliveries[-1]
    gc.collect()
    assert all(type(row) is tuple and not gc.is_tracked(row) for row in deliveries.rows)
