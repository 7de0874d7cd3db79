"""What the in-memory store keeps per write is cheap for the garbage collector, and replay rebuilds from it
exactly the events delivered live."""

from __future__ import annotations

import gc

from engine.sim import Loop
from engine.store import DeleteOp, KeyValue, MemoryStore, PutOp, prefix_end


def _writes(store: MemoryStore, loop: Loop) -> None:
    lease = store.lease_grant(5).id
    for index in range(30):
        store.put(f"/k/{index % 7}", str(index).encode(), lease=lease if index % 5 == 0 else 0)
        if index % 4 == 3:
            store.delete_range(f"/k/{(index + 2) % 7}")
    store.txn([], [PutOp("/k/a", b"1"), PutOp("/k/b", b"2"), DeleteOp("/k/1")], [])
    store.delete_range("/k/", prefix_end("/k/"))
    store.put("/k/1", b"again")
    loop.run_for(10)                        # the lease expires: its keys go in one revision


def test_replay_gives_the_events_delivered_live_with_and_without_prev_kv():
    loop = Loop(seed=0)
    store = MemoryStore(loop)
    live_with, live_plain = [], []
    store.watch("/k/", prefix_end("/k/"), prev_kv=True, callback=live_with.append)
    store.watch("/k/", prefix_end("/k/"), callback=live_plain.append)
    _writes(store, loop)
    assert len(live_with) > 30
    replay_with, replay_plain = [], []
    store.watch("/k/", prefix_end("/k/"), start_revision=1, prev_kv=True, callback=replay_with.append)
    store.watch("/k/", prefix_end("/k/"), start_revision=1, callback=replay_plain.append)
    assert replay_with == live_with
    assert replay_plain == live_plain
    assert any(event.prev_kv is not None for call in replay_with for event in call)
    assert all(event.prev_kv is None for call in replay_plain for event in call)


def test_replay_after_a_compaction_matches_the_live_events_after_it():
    loop = Loop(seed=0)
    store = MemoryStore(loop)
    live = []
    store.watch("/k/", prefix_end("/k/"), prev_kv=True, callback=live.append)
    _writes(store, loop)
    middle = live[len(live) // 2][0].kv.mod_revision
    store.compact(middle)
    replayed = []
    store.watch("/k/", prefix_end("/k/"), start_revision=middle + 1, prev_kv=True, callback=replayed.append)
    assert replayed == [call for call in live if call[0].kv.mod_revision > middle]


def test_the_log_holds_untracked_tuples_and_a_key_written_once_holds_its_key_value():
    store = MemoryStore(Loop(seed=0))
    store.put("/once", b"v")
    store.put("/twice", b"1")
    store.put("/twice", b"2")
    gc.collect()
    assert all(type(entry) is tuple and not gc.is_tracked(entry) for entry in store._log)
    assert type(store._history["/once"]) is KeyValue
    assert [kv.value for kv in store._history["/twice"]] == [b"1", b"2"]
    store.compact(store.revision)
    assert type(store._history["/twice"]) is KeyValue      # one version left: no list any more
    assert store.range("/twice").kvs[0].value == b"2"
