"""What the in-memory store promises beyond the conformance suite: synchronous, re-entrant watch delivery,
deterministic lease ids and expiry order, and errors that say what to do."""

from __future__ import annotations

import pytest

from engine.sim import Loop
from engine.store import LeaseNotFoundError, MemoryStore, StoreError, prefix_end


@pytest.fixture
def memory(loop: Loop) -> MemoryStore:
    return MemoryStore(loop)


def test_watch_callbacks_run_inside_the_write(memory, recorder):
    record = recorder()
    memory.watch("k", callback=record)
    memory.put("k", b"v")
    assert len(record.calls) == 1, "delivered before put() returned"


def test_replayed_history_is_delivered_inside_watch(memory, recorder):
    memory.put("k", b"v")
    record = recorder()
    memory.watch("k", start_revision=1, callback=record)
    assert record.summary() == [("PUT", "k", b"v")]


def test_watch_ids_grow_from_one(memory, recorder):
    assert [memory.watch("k", callback=recorder()).id for _ in range(3)] == [1, 2, 3]


def test_a_callback_may_cancel_its_own_watch(memory, recorder):
    record = recorder()
    handles = []

    def once(events):
        record(events)
        handles[0].cancel()

    handles.append(memory.watch("k", callback=once))
    memory.put("k", b"1")
    memory.put("k", b"2")
    assert record.summary() == [("PUT", "k", b"1")]


def test_a_callback_that_cancels_a_later_watch_stops_it_before_it_is_served(memory, recorder):
    later = recorder()
    handles = []
    memory.watch("k", callback=lambda events: handles[0].cancel())
    handles.append(memory.watch("k", callback=later))
    memory.put("k", b"1")
    assert later.calls == []


def test_a_callback_that_writes_does_not_reorder_anyones_events(memory, recorder):
    first, last = recorder(), recorder()

    def echo(events):
        first(events)
        if events[0].kv.key == "k":
            memory.put("echo", events[0].kv.value)

    memory.watch("", "\0", callback=echo)
    memory.watch("", "\0", callback=last)
    base = memory.revision
    memory.put("k", b"1")
    assert first.revisions == last.revisions == [base + 1, base + 2]
    assert last.summary() == [("PUT", "k", b"1"), ("PUT", "echo", b"1")]


def test_a_watch_opened_from_a_callback_misses_and_repeats_nothing(memory, recorder):
    opened = recorder()

    def open_watch(events):
        if not opened.calls and events[0].kv.value == b"2":
            memory.put("side", b"x")
            memory.watch("", "\0", start_revision=1, callback=opened)

    memory.watch("k", callback=open_watch)
    memory.put("k", b"1")
    memory.put("k", b"2")
    memory.put("k", b"3")
    assert opened.summary() == [("PUT", "k", b"1"), ("PUT", "k", b"2"), ("PUT", "side", b"x"), ("PUT", "k", b"3")]
    assert opened.revisions == sorted(set(opened.revisions))


def test_a_callback_that_raises_does_not_starve_the_others_and_its_error_reaches_the_writer(memory, recorder):
    def broken(events):
        raise RuntimeError("watcher bug")

    healthy = recorder()
    memory.watch("k", callback=broken)
    memory.watch("k", callback=healthy)
    with pytest.raises(RuntimeError, match="watcher bug"):
        memory.put("k", b"1")
    assert memory.range("k").count == 1, "the write itself happened"
    assert healthy.summary() == [("PUT", "k", b"1")]


def test_a_callback_that_raises_during_replay_is_not_left_watching(memory):
    calls = []

    def broken(events):
        calls.append(events)
        raise RuntimeError("replay bug")

    memory.put("k", b"1")
    with pytest.raises(RuntimeError, match="replay bug"):
        memory.watch("k", start_revision=1, callback=broken)
    memory.put("k", b"2")
    assert len(calls) == 1


def test_lease_ids_grow_from_one_and_skip_ids_granted_by_hand(memory):
    assert memory.lease_grant(10).id == 1
    assert memory.lease_grant(10, lease_id=2).id == 2
    assert memory.lease_grant(10).id == 3


def test_granting_an_id_that_exists_is_refused(memory):
    memory.lease_grant(10, lease_id=7)
    with pytest.raises(StoreError, match="lease already exists"):
        memory.lease_grant(10, lease_id=7)


def test_the_minimum_lease_ttl_can_be_lowered_for_demos(loop):
    assert MemoryStore(loop, min_lease_ttl=1).lease_grant(1).ttl == 1


def test_leases_expiring_at_one_instant_go_in_id_order_each_in_its_own_revision(memory, loop, recorder):
    leases = [memory.lease_grant(5).id for _ in range(3)]
    for lease in reversed(leases):
        memory.put(f"key-of-{lease}", b"v", lease=lease)
    record = recorder()
    memory.watch("", "\0", callback=record)
    before = memory.revision
    loop.run_for(5)
    assert [event.kv.key for event in record.events] == [f"key-of-{lease}" for lease in leases]
    assert record.revisions == [before + 1, before + 2, before + 3]


def test_a_keep_alive_at_the_instant_of_expiry_is_too_late(memory, loop):
    outcome = []

    def keep_alive():
        try:
            memory.lease_keep_alive(lease)
        except LeaseNotFoundError:
            outcome.append("not found")

    loop.call_at(10, keep_alive)          # scheduled first, so it runs before the store's expiry timer
    lease = memory.lease_grant(10).id
    memory.put("k", b"v", lease=lease)
    loop.run_for(10)
    assert outcome == ["not found"]
    assert memory.range("k").kvs == []


def test_many_keep_alives_leave_one_expiry_timer(memory, loop):
    lease = memory.lease_grant(10).id
    for _ in range(100):
        loop.run_for(1)
        memory.lease_keep_alive(lease)
    assert loop.pending() == 1
    loop.run_for(10)
    assert memory.lease_time_to_live(lease).ttl == -1


@pytest.mark.parametrize("call, error, message", [
    pytest.param(lambda s: s.put("", b"v"), StoreError, "key is not provided", id="an empty key is refused"),
    pytest.param(lambda s: s.put("k", "text"), TypeError, "values are bytes", id="a str value is refused"),
    pytest.param(lambda s: s.txn([], ["put k"], []), TypeError, "RangeOp, PutOp or DeleteOp",
                 id="a txn op of the wrong type is refused"),
])
def test_misuse_is_refused_with_a_message_saying_what_to_do(memory, call, error, message):
    with pytest.raises(error, match=message):
        call(memory)
    assert memory.revision == 1


def test_compaction_forgets_superseded_versions_but_keeps_what_is_readable(memory):
    for index in range(50):
        memory.put(f"/k/{index % 5}", str(index).encode())
    memory.delete_range("/k/4")
    current = memory.range("/k/", prefix_end("/k/"))
    memory.compact(memory.revision)
    assert memory.range("/k/", prefix_end("/k/"), revision=memory.revision).kvs == current.kvs
    assert sum(len(history) if type(history) is list else 1 for history in memory._history.values()) == 4
    assert len(memory._log) == 1
