"""What the etcd backend promises beyond the conformance suite: its own writes are delivered inside the
write, others' changes reach the loop in order, a prefix confines it, and it reads history it never saw."""

from __future__ import annotations

import threading
import time

import pytest

from engine.sim import Loop
from engine.store import prefix_end
from engine.store.etcd import EtcdStore
from engine.store.etcd_client import EtcdClient, encode_key, encode_value
from engine.store.etcd_process import EtcdServer


@pytest.fixture
def etcd(etcd_server, loop: Loop, request: pytest.FixtureRequest):
    store = EtcdStore(etcd_server.endpoint, loop=loop, prefix=f"/{request.node.name}/")
    yield store
    store.revoke_granted_leases()
    store.close()


def call(endpoint: str, path: str, body: dict) -> dict:
    """One RPC by another client (as etcdctl would make it)."""
    client = EtcdClient(endpoint)
    try:
        return client.call(path, body)
    finally:
        client.close()


def outside_put(endpoint: str, key: str, value: bytes) -> None:
    call(endpoint, "kv/put", {"key": encode_key(key), "value": encode_value(value)})


def test_a_write_returns_after_its_watchers_were_called_on_the_writing_thread(etcd, recorder):
    threads = []
    record = recorder()

    def callback(events):
        threads.append(threading.current_thread())
        record(events)

    etcd.watch("k", callback=callback)
    etcd.put("k", b"v")
    assert record.summary() == [("PUT", "k", b"v")], "delivered before put() returned"
    assert threads == [threading.current_thread()]


def test_a_change_made_by_another_client_reaches_the_watcher_through_the_loop(etcd, etcd_server, loop, recorder):
    record = recorder()
    etcd.watch("", "\0", callback=record)
    outside_put(etcd_server.endpoint, etcd.prefix + "from-etcdctl", b"hello")
    assert etcd.sync(timeout=5.0)
    assert record.summary() == [("PUT", "from-etcdctl", b"hello")]


def test_changes_of_others_are_delivered_before_the_next_own_write(etcd, etcd_server, recorder):
    record = recorder()
    etcd.watch("", "\0", callback=record)
    outside_put(etcd_server.endpoint, etcd.prefix + "a", b"theirs")
    etcd.sync(timeout=5.0)
    etcd.put("b", b"mine")
    assert [event.kv.key for event in record.events] == ["a", "b"]
    assert record.revisions == sorted(record.revisions)


def test_the_loop_delivers_changes_of_others_at_its_next_step(etcd, etcd_server, loop, recorder):
    record = recorder()
    etcd.watch("", "\0", callback=record)
    outside_put(etcd_server.endpoint, etcd.prefix + "x", b"1")
    for _ in range(200):                  # the reader thread hands the revision to the loop
        loop.run_for(0.01)
        if record.calls:
            break
        time.sleep(0.01)
    assert record.summary() == [("PUT", "x", b"1")]


def test_a_prefix_confines_the_store_to_its_keys(etcd, etcd_server):
    outside_put(etcd_server.endpoint, "/somewhere-else", b"x")
    etcd.put("mine", b"1")
    assert [kv.key for kv in etcd.range("", "\0").kvs] == ["mine"]
    raw = call(etcd_server.endpoint, "kv/range", {"key": encode_key(etcd.prefix),
                                                  "range_end": encode_key(prefix_end(etcd.prefix))})
    assert [kv["key"] for kv in raw["kvs"]] == [encode_key(etcd.prefix + "mine")], "etcd holds the prefixed key"


def test_a_watch_from_before_the_store_existed_reads_the_server_history(etcd_server, loop, recorder, request):
    prefix = f"/{request.node.name}/"
    first = EtcdStore(etcd_server.endpoint, loop=loop, prefix=prefix)
    start = first.put("k", b"1").revision
    first.put("k", b"2")
    first.close()
    later = EtcdStore(etcd_server.endpoint, loop=loop, prefix=prefix)
    try:
        record = recorder()
        later.watch("k", start_revision=start, callback=record)
        later.put("k", b"3")
        assert [event.kv.value for event in record.events] == [b"1", b"2", b"3"]
    finally:
        later.close()


def test_a_callback_that_raises_does_not_starve_the_others(etcd, recorder):
    record = recorder()

    def broken(events):
        raise RuntimeError("boom")

    etcd.watch("k", callback=broken)
    etcd.watch("k", callback=record)
    with pytest.raises(RuntimeError, match="boom"):
        etcd.put("k", b"v")
    assert record.summary() == [("PUT", "k", b"v")]


def test_the_watch_stream_resumes_after_the_server_restarts_without_missing_a_revision(loop, recorder):
    with EtcdServer("restart") as server:
        store = EtcdStore(server.endpoint, loop=loop)
        try:
            record = recorder()
            store.watch("", "\0", callback=record)
            store.put("before", b"1")
            server.stop()
            server.start()
            outside_put(server.endpoint, "while-reconnecting", b"2")
            store.put("after", b"3")
            assert [event.kv.key for event in record.events] == ["before", "while-reconnecting", "after"]
        finally:
            store.close()
