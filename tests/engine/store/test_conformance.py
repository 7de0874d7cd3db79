"""The conformance suite: what every store backend must do, as etcd v3 does it.

Every test asks only for the ``store``, ``advance``, ``settle`` and ``recorder`` fixtures, and counts
revisions from the store's revision when the test begins, so the same suite runs against a real etcd.
"""

from __future__ import annotations


import pytest

from engine.store import (
    CompactedError, Compare, DeleteOp, DeleteResponse, FutureRevisionError, KeyValue, LeaseNotFoundError, PutOp,
    PutResponse, RangeOp, RangeResponse, StoreError, prefix_end,
)


def keys_of(response: RangeResponse) -> list[str]:
    return [kv.key for kv in response.kvs]


def items_of(response: RangeResponse) -> list[tuple[str, bytes]]:
    return [(kv.key, kv.value) for kv in response.kvs]


# -- revisions ------------------------------------------------------------------------------------------------


@pytest.mark.fresh_store
def test_a_fresh_store_is_at_revision_one_with_no_keys(store):
    assert store.revision == 1
    assert store.range("", "\0").count == 0


def _lease_with_keys(store, count):
    lease = store.lease_grant(60).id
    for index in range(count):
        store.put(f"leased/{index}", b"x", lease=lease)
    return lease


REVISION_BUMPS = [
    pytest.param(lambda s: None, lambda s, _: s.put("k", b"v"), 1, id="a put of a new key makes one revision"),
    pytest.param(lambda s: s.put("k", b"v"), lambda s, _: s.put("k", b"v"), 1,
                 id="a put that rewrites the same value still makes a revision"),
    pytest.param(lambda s: s.put("k", b"v"), lambda s, _: s.delete_range("k"), 1,
                 id="deleting a key that exists makes one revision"),
    pytest.param(lambda s: None, lambda s, _: s.delete_range("k"), 0,
                 id="deleting a key that does not exist makes no revision"),
    pytest.param(lambda s: [s.put(f"p/{i}", b"v") for i in range(3)],
                 lambda s, _: s.delete_range("p/", prefix_end("p/")), 1,
                 id="deleting three keys by prefix makes a single revision"),
    pytest.param(lambda s: s.put("k", b"v"), lambda s, _: s.delete_range("p/", prefix_end("p/")), 0,
                 id="deleting an empty range makes no revision"),
    pytest.param(lambda s: s.put("old", b"v"),
                 lambda s, _: s.txn([], [PutOp("a", b"1"), PutOp("b", b"2"), DeleteOp("old")], []), 1,
                 id="a txn with two puts and a delete makes a single revision"),
    pytest.param(lambda s: s.put("k", b"v"), lambda s, _: s.txn([], [RangeOp("k")], []), 0,
                 id="a txn that only reads makes no revision"),
    pytest.param(lambda s: None, lambda s, _: s.txn([Compare("k", "VERSION", ">", 0)], [PutOp("k", b"v")], []), 0,
                 id="a txn whose compare fails and whose failure branch is empty makes no revision"),
    pytest.param(lambda s: None, lambda s, _: s.txn([], [DeleteOp("missing")], []), 0,
                 id="a txn whose only delete finds nothing makes no revision"),
    pytest.param(lambda s: _lease_with_keys(s, 2), lambda s, lease: s.lease_revoke(lease), 1,
                 id="revoking a lease that holds two keys makes a single revision"),
    pytest.param(lambda s: _lease_with_keys(s, 0), lambda s, lease: s.lease_revoke(lease), 0,
                 id="revoking a lease that holds no key makes no revision"),
    pytest.param(lambda s: s.put("k", b"v"), lambda s, _: s.compact(s.revision), 0,
                 id="compaction makes no revision"),
]


@pytest.mark.parametrize("setup, action, bump", REVISION_BUMPS)
def test_each_write_that_changes_something_makes_exactly_one_revision(store, setup, action, bump):
    made = setup(store)
    before = store.revision
    response = action(store, made)
    assert store.revision == before + bump
    if response is not None:
        assert response.revision == store.revision


VERSION_HISTORIES = [
    pytest.param(["put"], (1, 1, 1), id="a created key has create = mod = its revision and version 1"),
    pytest.param(["put", "put", "put"], (1, 3, 3), id="each put keeps the create revision and adds one to the version"),
    pytest.param(["put", "other", "put"], (1, 3, 2), id="writes to other keys do not change this key's version"),
    pytest.param(["put", "put", "delete", "put"], (4, 4, 1),
                 id="a key created again gets a new create revision and starts again at version 1"),
]


@pytest.mark.parametrize("history, expected", VERSION_HISTORIES)
def test_create_revision_mod_revision_and_version_follow_the_key_history(store, history, expected):
    base = store.revision
    for step in history:
        if step == "put":
            store.put("k", b"v")
        elif step == "delete":
            store.delete_range("k")
        else:
            store.put("other", b"v")
    (kv,) = store.range("k").kvs
    assert (kv.create_revision - base, kv.mod_revision - base, kv.version) == expected


# -- reading at past revisions ---------------------------------------------------------------------------------


def _history(store):
    """a=1 (+1), a=2 (+2), b=1 (+3), delete a (+4), a=3 (+5)."""
    base = store.revision
    store.put("a", b"1")
    store.put("a", b"2")
    store.put("b", b"1")
    store.delete_range("a")
    store.put("a", b"3")
    return base


PAST_READS = [
    pytest.param(0, [], id="before any write there is nothing"),
    pytest.param(1, [("a", b"1")], id="after the first put the key has its first value"),
    pytest.param(2, [("a", b"2")], id="after the second put the key has its second value"),
    pytest.param(3, [("a", b"2"), ("b", b"1")], id="a read sees every key alive at that revision"),
    pytest.param(4, [("b", b"1")], id="a read after a deletion no longer sees the key"),
    pytest.param(5, [("a", b"3"), ("b", b"1")], id="a read after re-creation sees the new value"),
]


@pytest.mark.parametrize("offset, expected", PAST_READS)
def test_a_read_at_a_past_revision_sees_the_store_as_it_was(store, offset, expected):
    base = _history(store)
    response = store.range("", "\0", revision=base + offset)
    assert items_of(response) == expected
    assert response.count == len(expected)
    assert response.revision == store.revision, "the header revision is the store's, not the one read"


def test_a_read_at_a_past_revision_returns_the_versions_of_that_time(store):
    base = _history(store)
    (kv,) = store.range("a", revision=base + 2).kvs
    assert kv == KeyValue("a", b"2", base + 1, base + 2, 2)


def test_revision_zero_reads_the_current_state(store):
    base = _history(store)
    assert store.range("a", revision=0).kvs == store.range("a", revision=base + 5).kvs


def test_a_read_beyond_the_current_revision_raises_future_revision(store):
    store.put("a", b"1")
    with pytest.raises(FutureRevisionError):
        store.range("a", revision=store.revision + 1)


# -- ranges ----------------------------------------------------------------------------------------------------

RANGE_KEYS = ["/c", "/b/2", "/a", "/b/3", "/b/1", "/b"]  # written out of order on purpose

RANGES = [
    pytest.param("/a", None, ["/a"], id="no range end reads the single key"),
    pytest.param("/z", None, [], id="a single missing key reads nothing"),
    pytest.param("/b/", prefix_end("/b/"), ["/b/1", "/b/2", "/b/3"], id="a prefix range reads exactly the keys under it"),
    pytest.param("/b/2", "\0", ["/b/2", "/b/3", "/c"], id="a range end of NUL reads every key from the start key on"),
    pytest.param("/b", "/b/3", ["/b", "/b/1", "/b/2"], id="a range is half-open: it includes its start, not its end"),
    pytest.param("/c", "/a", [], id="a range that ends before it starts is empty"),
    pytest.param("", prefix_end(""), ["/a", "/b", "/b/1", "/b/2", "/b/3", "/c"],
                 id="the prefix end of the empty prefix reads every key, in key order"),
]


@pytest.mark.parametrize("key, range_end, expected", RANGES)
def test_ranges_follow_etcd_range_end_conventions(store, key, range_end, expected):
    for name in RANGE_KEYS:
        store.put(name, name.encode())
    response = store.range(key, range_end)
    assert keys_of(response) == expected
    assert response.count == len(expected)
    assert response.more is False


@pytest.mark.parametrize("key, range_end, expected", RANGES)
def test_ranges_at_a_past_revision_follow_the_same_conventions(store, key, range_end, expected):
    for name in RANGE_KEYS:
        store.put(name, name.encode())
    past = store.revision
    store.put("/b/0", b"later")
    store.delete_range("/a")
    assert keys_of(store.range(key, range_end, revision=past)) == expected


LIMITS = [
    pytest.param(1, ["/b/1"], True, id="a limit of one returns the first key in key order"),
    pytest.param(2, ["/b/1", "/b/2"], True, id="a limit below the count cuts the result and says there is more"),
    pytest.param(3, ["/b/1", "/b/2", "/b/3"], False, id="a limit equal to the count returns everything and no more"),
    pytest.param(10, ["/b/1", "/b/2", "/b/3"], False, id="a limit above the count returns everything"),
    pytest.param(0, ["/b/1", "/b/2", "/b/3"], False, id="a limit of zero means no limit"),
]


@pytest.mark.parametrize("limit, expected, more", LIMITS)
@pytest.mark.parametrize("past", [False, True], ids=["at the current revision", "at a past revision"])
def test_a_limit_cuts_the_keys_but_count_stays_the_total(store, limit, expected, more, past):
    for name in RANGE_KEYS:
        store.put(name, name.encode())
    revision = store.revision
    if past:
        store.put("/b/4", b"later")
    response = store.range("/b/", prefix_end("/b/"), limit=limit, revision=revision)
    assert (keys_of(response), response.count, response.more) == (expected, 3, more)


def test_keys_only_returns_the_keys_and_their_revisions_without_values(store):
    store.put("/k/1", b"one")
    store.put("/k/1", b"two")
    (kv,) = store.range("/k/", prefix_end("/k/"), keys_only=True).kvs
    assert kv.value == b""
    assert (kv.key, kv.version, kv.mod_revision) == ("/k/1", 2, store.revision)


def test_count_only_returns_the_count_and_no_keys(store):
    for name in RANGE_KEYS:
        store.put(name, b"v")
    response = store.range("/b/", prefix_end("/b/"), count_only=True, limit=1)
    assert (response.kvs, response.count, response.more) == ([], 3, False)


# -- put and delete responses ----------------------------------------------------------------------------------


def test_put_returns_the_previous_key_value_when_asked(store):
    first = store.put("k", b"1")
    assert first.prev_kv is None
    second = store.put("k", b"2", prev_kv=True)
    assert second.prev_kv == KeyValue("k", b"1", first.revision, first.revision, 1)
    assert store.put("k", b"3").prev_kv is None, "without prev_kv=True the previous value is not returned"


def test_delete_range_returns_how_many_keys_it_deleted_and_their_last_values(store):
    for name in ["/p/1", "/p/2", "/q"]:
        store.put(name, name.encode())
    response = store.delete_range("/p/", prefix_end("/p/"), prev_kv=True)
    assert (response.revision, response.deleted) == (store.revision, 2)
    assert [(kv.key, kv.value) for kv in response.prev_kvs] == [("/p/1", b"/p/1"), ("/p/2", b"/p/2")]
    assert keys_of(store.range("", "\0")) == ["/q"]


def test_a_delete_that_finds_nothing_reports_the_current_revision(store):
    store.put("k", b"v")
    assert store.delete_range("missing") == DeleteResponse(store.revision, 0, [])


def test_a_deleted_key_still_reads_at_the_revisions_before_its_deletion(store):
    put = store.put("k", b"v")
    store.delete_range("k")
    assert store.range("k").kvs == []
    assert items_of(store.range("k", revision=put.revision)) == [("k", b"v")]
    assert store.range("k", revision=store.revision).count == 0


# -- transactions ----------------------------------------------------------------------------------------------


def _known_key(store):
    """``k`` created at base+1 with b"v1", then rewritten at base+2 with b"v2" under a lease."""
    lease = store.lease_grant(60).id
    base = store.revision
    store.put("k", b"v1")
    store.put("k", b"v2", lease=lease)
    return base, lease


COMPARES = [
    pytest.param("k", "VERSION", "=", lambda base, lease: 2, True, id="version equal to 2 holds after two puts"),
    pytest.param("k", "VERSION", "!=", lambda base, lease: 2, False, id="version not equal to its version fails"),
    pytest.param("k", "VERSION", "<", lambda base, lease: 3, True, id="version less than 3 holds"),
    pytest.param("k", "VERSION", ">", lambda base, lease: 2, False, id="version greater than itself fails"),
    pytest.param("k", "CREATE", "=", lambda base, lease: base + 1, True, id="create revision is the first put"),
    pytest.param("k", "CREATE", ">", lambda base, lease: base + 1, False, id="create revision is not after itself"),
    pytest.param("k", "MOD", "=", lambda base, lease: base + 2, True, id="mod revision is the last put"),
    pytest.param("k", "MOD", "<", lambda base, lease: base + 2, False, id="mod revision is not before itself"),
    pytest.param("k", "VALUE", "=", lambda base, lease: b"v2", True, id="value equal to the current value holds"),
    pytest.param("k", "VALUE", "!=", lambda base, lease: b"v2", False, id="value not equal to the current value fails"),
    pytest.param("k", "VALUE", "<", lambda base, lease: b"v3", True, id="values compare as bytes, less"),
    pytest.param("k", "VALUE", ">", lambda base, lease: b"v1", True, id="values compare as bytes, greater"),
    pytest.param("k", "LEASE", "=", lambda base, lease: lease, True, id="lease equal to the attached lease holds"),
    pytest.param("k", "LEASE", "=", lambda base, lease: 0, False, id="a leased key does not have lease 0"),
    pytest.param("missing", "VERSION", "=", lambda base, lease: 0, True, id="a missing key has version 0"),
    pytest.param("missing", "CREATE", "=", lambda base, lease: 0, True, id="a missing key has create revision 0"),
    pytest.param("missing", "MOD", "<", lambda base, lease: 1, True, id="a missing key has mod revision 0"),
    pytest.param("missing", "LEASE", "=", lambda base, lease: 0, True, id="a missing key has lease 0"),
    pytest.param("missing", "VALUE", "!=", lambda base, lease: b"x", False,
                 id="a value compare on a missing key always fails, even not-equal"),
    pytest.param("missing", "VALUE", "=", lambda base, lease: b"", False,
                 id="a missing key's value is not the empty value"),
]


@pytest.mark.parametrize("key, target, result, value, holds", COMPARES)
def test_a_txn_compare_chooses_the_branch(store, key, target, result, value, holds):
    base, lease = _known_key(store)
    guard = Compare(key, target, result, value(base, lease))
    response = store.txn([guard], [PutOp("ran", b"success")], [PutOp("ran", b"failure")])
    assert response.succeeded is holds
    assert items_of(store.range("ran")) == [("ran", b"success" if holds else b"failure")]


def test_a_txn_succeeds_only_when_every_compare_holds(store):
    base, _ = _known_key(store)
    holds = Compare("k", "VERSION", "=", 2)
    fails = Compare("k", "MOD", "=", base + 1)
    assert store.txn([holds, holds], [], []).succeeded is True
    assert store.txn([holds, fails], [], []).succeeded is False
    assert store.txn([], [], []).succeeded is True, "no compare at all holds"


def test_all_ops_of_a_txn_share_one_revision_and_see_each_other(store, recorder, settle):
    store.put("gone", b"x")
    record = recorder()
    store.watch("", "\0", callback=record)
    base = store.revision
    response = store.txn([], [PutOp("b", b"2"), PutOp("a", b"1", prev_kv=True), DeleteOp("gone"),
                              RangeOp("", "\0")], [])
    settle()
    assert response.revision == store.revision == base + 1
    put_b, put_a, delete, read = response.responses
    assert put_b == PutResponse(base + 1) and put_a == PutResponse(base + 1)
    assert (delete.revision, delete.deleted) == (base + 1, 1)
    assert items_of(read) == [("a", b"1"), ("b", b"2")], "a read in a txn sees the writes made before it"
    assert record.revisions == [base + 1], "one revision, one watch call"
    assert record.summary() == [("PUT", "b", b"2"), ("PUT", "a", b"1"), ("DELETE", "gone", b"")]


def test_a_read_in_a_txn_at_the_revision_before_it_sees_the_old_state(store):
    store.put("a", b"old")
    before = store.revision
    response = store.txn([], [PutOp("a", b"new"), RangeOp("a", revision=before)], [])
    assert items_of(response.responses[1]) == [("a", b"old")]


def test_a_failed_compare_runs_the_failure_branch(store):
    base = store.revision
    response = store.txn([Compare("k", "VERSION", ">", 0)], [PutOp("k", b"success")], [PutOp("k", b"failure")])
    assert (response.succeeded, response.revision) == (False, base + 1)
    assert items_of(store.range("k")) == [("k", b"failure")]


DUPLICATES = [
    pytest.param([PutOp("k", b"1"), PutOp("k", b"2")], [], id="two puts of one key in the success branch"),
    pytest.param([], [PutOp("k", b"1"), PutOp("k", b"2")], id="two puts of one key in the branch that does not run"),
    pytest.param([DeleteOp("a", "z"), PutOp("k", b"1")], [], id="a put inside a delete range of the same branch"),
    pytest.param([PutOp("k", b"1"), DeleteOp("k")], [], id="a put then a delete of the same key"),
]


@pytest.mark.parametrize("success, failure", DUPLICATES)
def test_a_txn_that_writes_one_key_twice_in_a_branch_is_refused(store, success, failure):
    before = store.revision
    with pytest.raises(StoreError, match="duplicate key"):
        store.txn([], success, failure)
    assert store.revision == before


def test_overlapping_deletes_in_one_branch_are_allowed(store):
    store.put("a/1", b"x")
    response = store.txn([], [DeleteOp("a/", prefix_end("a/")), DeleteOp("a/1")], [])
    assert [r.deleted for r in response.responses] == [1, 0]


def test_a_txn_putting_with_an_unknown_lease_writes_nothing(store):
    before = store.revision
    with pytest.raises(LeaseNotFoundError):
        store.txn([], [PutOp("a", b"1"), PutOp("b", b"2", lease=987654)], [])
    assert store.revision == before
    assert store.range("a").kvs == []


@pytest.mark.parametrize("revision, error", [
    pytest.param(lambda s: s.revision + 1, FutureRevisionError, id="a read in a txn beyond the current revision"),
    pytest.param(lambda s: s.compact_revision - 1, CompactedError, id="a read in a txn below the compaction"),
])
def test_a_txn_whose_read_cannot_be_served_writes_nothing(store, revision, error):
    for index in range(3):
        store.put("k", str(index).encode())
    store.compact(store.revision)
    before = store.revision
    with pytest.raises(error):
        store.txn([], [PutOp("a", b"1"), RangeOp("k", revision=revision(store))], [])
    assert store.revision == before


# -- watch -----------------------------------------------------------------------------------------------------


def test_a_watch_from_revision_zero_sees_only_future_events(store, recorder, settle):
    store.put("k", b"before")
    record = recorder()
    store.watch("k", callback=record)
    store.put("k", b"after")
    settle()
    assert record.summary() == [("PUT", "k", b"after")]


WATCH_RANGES = [
    pytest.param("/b/1", None, ["/b/1"], id="a single-key watch sees only that key"),
    pytest.param("/b/", prefix_end("/b/"), ["/b/1", "/b/2", "/b/3"], id="a prefix watch sees every key under it"),
    pytest.param("/b", "/b/3", ["/b", "/b/1", "/b/2"], id="a range watch sees the keys of its half-open range"),
    pytest.param("/b/2", "\0", ["/b/2", "/b/3", "/c"], id="a watch to NUL sees every key from its start on"),
    pytest.param("", prefix_end(""), sorted(RANGE_KEYS), id="a watch on the empty prefix sees every key"),
]


@pytest.mark.parametrize("key, range_end, expected", WATCH_RANGES)
def test_a_watch_sees_the_keys_of_its_range(store, recorder, settle, key, range_end, expected):
    record = recorder()
    store.watch(key, range_end, callback=record)
    for name in sorted(RANGE_KEYS):
        store.put(name, b"v")
    settle()
    assert [event.kv.key for event in record.events] == expected


def test_a_watch_gets_one_call_per_revision_in_revision_order(store, recorder, settle):
    record = recorder()
    store.watch("", "\0", callback=record)
    base = store.revision
    store.put("x", b"1")
    store.txn([], [PutOp("z", b"2"), PutOp("y", b"3")], [])
    store.delete_range("", "\0")
    settle()
    assert record.revisions == [base + 1, base + 2, base + 3]
    assert [[event.kv.key for event in call] for call in record.calls] == [["x"], ["z", "y"], ["x", "y", "z"]], \
        "a txn's events keep the order of its ops; a range delete goes in key order"


def test_a_watch_from_a_past_revision_replays_history_then_follows_live(store, recorder, settle):
    base = store.revision
    for index in range(1, 5):
        store.put("k", str(index).encode())
    record = recorder()
    store.watch("k", start_revision=base + 2, callback=record)
    store.put("k", b"5")
    settle()
    assert record.revisions == [base + 2, base + 3, base + 4, base + 5]
    assert [event.kv.value for event in record.events] == [b"2", b"3", b"4", b"5"]


def test_a_watch_resumed_from_the_next_revision_misses_and_repeats_nothing(store, recorder, settle):
    base = store.revision
    first = recorder()
    handle = store.watch("/r/", prefix_end("/r/"), start_revision=base + 1, callback=first)
    store.put("/r/1", b"a")
    store.put("/r/2", b"b")
    settle()
    handle.cancel()
    store.put("/r/1", b"c")
    store.put("/other", b"x")
    store.delete_range("/r/2")
    resumed = recorder()
    store.watch("/r/", prefix_end("/r/"), start_revision=first.revisions[-1] + 1, callback=resumed)
    store.put("/r/3", b"d")
    settle()
    whole = recorder()
    store.watch("/r/", prefix_end("/r/"), start_revision=base + 1, callback=whole)
    settle()
    assert first.events + resumed.events == whole.events
    assert resumed.summary() == [("PUT", "/r/1", b"c"), ("DELETE", "/r/2", b""), ("PUT", "/r/3", b"d")]


def test_a_watch_from_a_future_revision_waits_for_it(store, recorder, settle):
    record = recorder()
    store.watch("k", start_revision=store.revision + 2, callback=record)
    store.put("k", b"skipped")
    store.put("k", b"seen")
    settle()
    assert record.summary() == [("PUT", "k", b"seen")]


PREV_KVS = [
    pytest.param(True, "update", b"1", id="an update carries the value it replaced"),
    pytest.param(True, "delete", b"1", id="a delete carries the value it removed"),
    pytest.param(True, "create", None, id="a create has no previous value"),
    pytest.param(False, "update", None, id="without prev_kv an update carries no previous value"),
    pytest.param(False, "delete", None, id="without prev_kv a delete carries no previous value"),
]


@pytest.mark.parametrize("replay", [False, True], ids=["live", "replayed"])
@pytest.mark.parametrize("prev_kv, change, previous", PREV_KVS)
def test_prev_kv_is_the_value_before_the_event_when_asked(store, recorder, settle, prev_kv, change, previous,
                                                          replay):
    store.put("k", b"1")
    record = recorder()
    start = store.revision + 1
    if not replay:
        store.watch("", "\0", prev_kv=prev_kv, callback=record)
    if change == "update":
        store.put("k", b"2")
    elif change == "delete":
        store.delete_range("k")
    else:
        store.put("new", b"1")
    if replay:
        store.watch("", "\0", start_revision=start, prev_kv=prev_kv, callback=record)
    settle()
    (event,) = record.events
    assert (event.prev_kv.value if event.prev_kv else None) == previous


def test_a_delete_event_carries_the_key_at_its_deletion_revision_with_no_value(store, recorder, settle):
    store.put("k", b"v")
    record = recorder()
    store.watch("k", callback=record)
    response = store.delete_range("k")
    settle()
    (event,) = record.events
    assert event.type == "DELETE"
    assert event.kv == KeyValue("k", b"", 0, response.revision, 0)


def test_a_cancelled_watch_gets_nothing_more_and_cancelling_twice_is_harmless(store, recorder, settle):
    record = recorder()
    handle = store.watch("k", callback=record)
    store.put("k", b"1")
    settle()
    handle.cancel()
    handle.cancel()
    store.put("k", b"2")
    settle()
    assert record.summary() == [("PUT", "k", b"1")]


def test_watches_get_distinct_ids_and_separate_streams(store, recorder, settle):
    one, two = recorder(), recorder()
    first = store.watch("k", callback=one)
    second = store.watch("k", prev_kv=True, callback=two)
    store.put("k", b"1")
    store.put("k", b"2")
    settle()
    assert first.id != second.id
    assert one.summary() == two.summary() == [("PUT", "k", b"1"), ("PUT", "k", b"2")]
    assert one.events[1].prev_kv is None and two.events[1].prev_kv is not None


# -- compaction ------------------------------------------------------------------------------------------------


def _compacted(store):
    """old=1 (+1, never touched again), k=1 (+2), k=2 (+3), gone (+4), delete gone (+5), k=3 (+6); compact +3."""
    base = store.revision
    store.put("old", b"1")
    store.put("k", b"1")
    store.put("k", b"2")
    store.put("gone", b"1")
    store.delete_range("gone")
    store.put("k", b"3")
    store.compact(base + 3)
    return base


def test_compaction_moves_the_compact_revision_and_not_the_revision(store):
    base = _compacted(store)
    assert (store.compact_revision, store.revision) == (base + 3, base + 6)


def test_a_read_below_the_compaction_raises_compacted(store):
    base = _compacted(store)
    with pytest.raises(CompactedError):
        store.range("k", revision=base + 2)


@pytest.mark.parametrize("offset, expected", [
    pytest.param(3, [("k", b"2"), ("old", b"1")], id="at the compaction point every key keeps its latest version"),
    pytest.param(5, [("k", b"2"), ("old", b"1")], id="after it, a key deleted since is gone"),
    pytest.param(6, [("k", b"3"), ("old", b"1")], id="and later versions are all still there"),
])
def test_reads_from_the_compaction_point_on_still_work(store, offset, expected):
    base = _compacted(store)
    assert items_of(store.range("", "\0", revision=base + offset)) == expected


@pytest.mark.parametrize("target, error", [
    pytest.param(lambda s: s.compact_revision, CompactedError, id="compacting again to the same revision"),
    pytest.param(lambda s: s.compact_revision - 1, CompactedError, id="compacting below the last compaction"),
    pytest.param(lambda s: s.revision + 1, FutureRevisionError, id="compacting beyond the current revision"),
])
def test_a_compaction_that_cannot_move_forward_raises(store, target, error):
    _compacted(store)
    with pytest.raises(error):
        store.compact(target(store))


def test_a_watch_below_the_compaction_raises_compacted(store, recorder):
    base = _compacted(store)
    with pytest.raises(CompactedError):
        store.watch("k", start_revision=base + 2, callback=recorder())


def test_a_watch_from_the_compaction_point_replays_from_there(store, recorder, settle):
    base = _compacted(store)
    record = recorder()
    store.watch("", "\0", start_revision=base + 3, prev_kv=True, callback=record)
    settle()
    assert record.summary() == [("PUT", "k", b"2"), ("PUT", "gone", b"1"), ("DELETE", "gone", b""),
                                ("PUT", "k", b"3")]
    assert record.events[0].prev_kv is None, "etcd reads prev_kv one revision back, which is compacted"
    assert record.events[3].prev_kv.value == b"2"


def test_a_watch_from_the_compaction_point_misses_a_delete_made_at_that_revision(store, recorder, settle):
    store.put("a", b"1")
    deleted = store.delete_range("a").revision
    store.compact(deleted)
    record = recorder()
    store.watch("", "\0", start_revision=deleted, callback=record)
    settle()
    assert record.events == [], "etcd drops the tombstone at the compaction point"


# -- leases ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("asked, granted", [
    pytest.param(30, 30, id="a lease gets the ttl it asks for"),
    pytest.param(1, 2, id="a lease shorter than etcd's minimum of two seconds gets two"),
])
def test_lease_grant_returns_the_granted_ttl(store, asked, granted):
    lease = store.lease_grant(asked)
    assert lease.ttl == granted
    assert store.lease_time_to_live(lease.id).granted_ttl == granted


def test_a_key_expires_with_its_lease(store, advance, recorder, settle):
    lease = store.lease_grant(3).id
    store.put("k", b"v", lease=lease)
    advance(2)
    assert keys_of(store.range("k")) == ["k"]
    advance(2)
    assert store.range("k").kvs == []
    assert store.lease_time_to_live(lease).ttl == -1


def test_an_expiring_lease_deletes_all_its_keys_in_one_revision(store, advance, recorder, settle):
    lease = store.lease_grant(2).id
    for name in ["/l/b", "/l/a", "/l/c"]:
        store.put(name, b"v", lease=lease)
    store.put("/l/free", b"v")
    record = recorder()
    store.watch("/l/", prefix_end("/l/"), callback=record)
    before = store.revision
    advance(3)
    settle()
    assert store.revision == before + 1
    assert record.revisions == [before + 1]
    assert record.summary() == [("DELETE", "/l/a", b""), ("DELETE", "/l/b", b""), ("DELETE", "/l/c", b"")]
    assert keys_of(store.range("/l/", prefix_end("/l/"))) == ["/l/free"]


def test_keep_alive_pushes_expiry_back_by_the_ttl(store, advance):
    lease = store.lease_grant(3).id
    store.put("k", b"v", lease=lease)
    advance(2)
    assert store.lease_keep_alive(lease) == 3
    advance(2)
    assert keys_of(store.range("k")) == ["k"], "without the keep-alive it would have expired at 3 s"
    advance(2)
    assert store.range("k").kvs == []


def test_revoking_a_lease_deletes_its_keys_in_one_revision_and_ends_it(store, recorder, settle):
    lease = store.lease_grant(60).id
    store.put("a", b"1", lease=lease)
    store.put("b", b"2", lease=lease)
    record = recorder()
    store.watch("", "\0", callback=record)
    before = store.revision
    store.lease_revoke(lease)
    settle()
    assert store.revision == before + 1
    assert record.summary() == [("DELETE", "a", b""), ("DELETE", "b", b"")]
    assert store.lease_time_to_live(lease).ttl == -1
    with pytest.raises(LeaseNotFoundError):
        store.lease_keep_alive(lease)


@pytest.mark.parametrize("use", [
    pytest.param(lambda s, lease: s.lease_revoke(lease), id="revoking an unknown lease"),
    pytest.param(lambda s, lease: s.lease_keep_alive(lease), id="keeping an unknown lease alive"),
    pytest.param(lambda s, lease: s.put("k", b"v", lease=lease), id="putting a key with an unknown lease"),
])
def test_an_unknown_lease_raises_lease_not_found(store, use):
    before = store.revision
    with pytest.raises(LeaseNotFoundError):
        use(store, 424242)
    assert store.revision == before


def test_rewriting_a_key_without_its_lease_detaches_it(store):
    lease = store.lease_grant(60).id
    store.put("k", b"1", lease=lease)
    store.put("k", b"2")
    assert store.lease_time_to_live(lease).keys == ()
    store.lease_revoke(lease)
    assert items_of(store.range("k")) == [("k", b"2")]


def test_rewriting_a_key_with_another_lease_moves_it(store):
    first, second = store.lease_grant(60).id, store.lease_grant(60).id
    store.put("k", b"1", lease=first)
    store.put("k", b"2", lease=second)
    assert (store.lease_time_to_live(first).keys, store.lease_time_to_live(second).keys) == ((), ("k",))
    assert store.range("k").kvs[0].lease == second
    store.lease_revoke(first)
    assert keys_of(store.range("k")) == ["k"]
    store.lease_revoke(second)
    assert store.range("k").kvs == []


def test_deleting_a_key_detaches_it_from_its_lease(store):
    lease = store.lease_grant(60).id
    store.put("a", b"1", lease=lease)
    store.put("b", b"1", lease=lease)
    store.delete_range("a")
    assert store.lease_time_to_live(lease).keys == ("b",)


def test_time_to_live_reports_the_seconds_left_and_the_keys_in_order(store, advance):
    lease = store.lease_grant(30).id
    store.put("z", b"v", lease=lease)
    store.put("a", b"v", lease=lease)
    advance(2)
    status = store.lease_time_to_live(lease)
    assert status.ttl == pytest.approx(28, abs=1)
    assert (status.id, status.granted_ttl, status.keys) == (lease, 30, ("a", "z"))


def test_time_to_live_of_an_unknown_lease_is_minus_one(store):
    assert store.lease_time_to_live(515151).ttl == -1


def test_a_lease_that_expires_with_no_keys_makes_no_revision(store, advance):
    store.lease_grant(2)
    before = store.revision
    advance(3)
    assert store.revision == before
