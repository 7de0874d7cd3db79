"""The in-memory store against an obviously correct model of etcd, under random programs of operations.

The model keeps a full copy of the key space for every revision and the list of events that made it, and
answers every question by a linear scan. Hypothesis writes programs of puts, deletes, transactions,
compactions, reads at past revisions, leases (granted, kept alive, revoked, expired by moving the clock) and
watches; the store and the model run each step and must give the same answer or raise the same error. At the
end every kept revision must read the same, the leases must agree, and every watcher must have received
exactly the model's events, one call per revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import given, settings, strategies as st

from engine.sim import Loop
from engine.store import (
    CompactedError, Compare, DeleteOp, DeleteResponse, Event, FutureRevisionError, KeyValue, LeaseGrant,
    LeaseNotFoundError, LeaseStatus, MemoryStore, PutOp, PutResponse, RangeOp, RangeResponse, StoreError,
    TxnResponse, WatchHandle, prefix_end,
)

KEYS = ["a", "a/1", "a/2", "b", "b/1", "c"]
VALUES = [b"", b"x", b"y"]
UNKNOWN_LEASE = 99                       # ids are granted 1, 2, 3...; a program never reaches this one


def in_range(key: str, start: str, end: str | None) -> bool:
    if end is None:
        return key == start
    return key >= start and (end == "\0" or key < end)


def without_prev(event: Event) -> Event:
    return Event(event.type, event.kv)


@dataclass
class ModelLease:
    ttl: int
    expiry: float
    keys: set[str] = field(default_factory=set)


@dataclass(eq=False)                      # two watches alike are still two watches
class ModelWatch:
    key: str
    end: str | None
    prev_kv: bool
    next_revision: int
    expected: list[list[Event]] = field(default_factory=list)

    def offer(self, events: list[Event]) -> None:
        mine = [event if self.prev_kv else without_prev(event) for event in events
                if in_range(event.kv.key, self.key, self.end)]
        if mine:
            self.expected.append(mine)


class Model:
    """etcd by brute force: a snapshot per revision, linear scans, no indexes."""

    def __init__(self) -> None:
        self.revision = 1
        self.compacted = 0
        self.states: dict[int, dict[str, KeyValue]] = {1: {}}
        self.changes: dict[int, list[Event]] = {}
        self.leases: dict[int, ModelLease] = {}
        self.granted: list[int] = []
        self.watches: list[ModelWatch] = []

    # -- reads
    def check_revision(self, revision: int, current: int) -> int:
        if revision > current:
            raise FutureRevisionError(revision, current)
        revision = revision if revision > 0 else current
        if revision < self.compacted:
            raise CompactedError(revision, self.compacted)
        return revision

    @staticmethod
    def read(state: dict[str, KeyValue], key: str, end: str | None, limit: int, keys_only: bool,
             count_only: bool, header: int) -> RangeResponse:
        kvs = [state[name] for name in sorted(state) if in_range(name, key, end)]
        count = len(kvs)
        if keys_only:
            kvs = [KeyValue(kv.key, b"", kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in kvs]
        if count_only:
            return RangeResponse(header, [], count, False)
        if limit > 0:
            return RangeResponse(header, kvs[:limit], count, count > limit)
        return RangeResponse(header, kvs, count, False)

    def range(self, key, end, revision, limit, keys_only, count_only) -> RangeResponse:
        revision = self.check_revision(revision, self.revision)
        return self.read(self.states[revision], key, end, limit, keys_only, count_only, self.revision)

    # -- writes work on a copy of the current state, committed only when something changed
    def commit(self, state: dict[str, KeyValue], events: list[Event]) -> None:
        if not events:
            return
        self.revision += 1
        self.states[self.revision] = state
        self.changes[self.revision] = events
        for watch in self.watches:
            if self.revision >= watch.next_revision:
                watch.offer(events)
                watch.next_revision = self.revision + 1

    def do_put(self, state, events, key, value, lease) -> KeyValue | None:
        previous = state.get(key)
        revision = self.revision + 1
        if previous is None:
            kv = KeyValue(key, value, revision, revision, 1, lease)
        else:
            kv = KeyValue(key, value, previous.create_revision, revision, previous.version + 1, lease)
            if previous.lease in self.leases:
                self.leases[previous.lease].keys.discard(key)
        if lease:
            self.leases[lease].keys.add(key)
        state[key] = kv
        events.append(Event("PUT", kv, previous))
        return previous

    def do_delete(self, state, events, key, end) -> list[KeyValue]:
        deleted = []
        for name in sorted(state):
            if in_range(name, key, end):
                previous = state.pop(name)
                if previous.lease in self.leases:
                    self.leases[previous.lease].keys.discard(name)
                events.append(Event("DELETE", KeyValue(name, b"", 0, self.revision + 1, 0, 0), previous))
                deleted.append(previous)
        return deleted

    def put(self, key, value, lease, prev_kv) -> PutResponse:
        if lease and lease not in self.leases:
            raise LeaseNotFoundError(lease)
        state, events = dict(self.states[self.revision]), []
        previous = self.do_put(state, events, key, value, lease)
        self.commit(state, events)
        return PutResponse(self.revision, previous if prev_kv else None)

    def delete_range(self, key, end, prev_kv) -> DeleteResponse:
        state, events = dict(self.states[self.revision]), []
        deleted = self.do_delete(state, events, key, end)
        self.commit(state, events)
        return DeleteResponse(self.revision, len(deleted), deleted if prev_kv else [])

    def holds(self, guard: Compare) -> bool:
        kv = self.states[self.revision].get(guard.key)
        if guard.target == "VALUE":
            if kv is None:
                return False
            actual: Any = kv.value
        else:
            actual = 0 if kv is None else {"VERSION": kv.version, "CREATE": kv.create_revision,
                                           "MOD": kv.mod_revision, "LEASE": kv.lease}[guard.target]
        return {"=": actual == guard.value, "!=": actual != guard.value, "<": actual < guard.value,
                ">": actual > guard.value}[guard.result]

    def txn(self, compare, success, failure) -> TxnResponse:
        for ops in (success, failure):
            puts = [op.key for op in ops if isinstance(op, PutOp)]
            deletes = [op for op in ops if isinstance(op, DeleteOp)]
            if len(set(puts)) < len(puts) or any(in_range(k, d.key, d.range_end) for k in puts for d in deletes):
                raise StoreError("etcdserver: duplicate key given in txn request")
        succeeded = all(self.holds(guard) for guard in compare)
        ops = success if succeeded else failure
        for op in ops:
            if isinstance(op, PutOp) and op.lease and op.lease not in self.leases:
                raise LeaseNotFoundError(op.lease)
            if isinstance(op, RangeOp):
                self.check_revision(op.revision, self.revision)
        begin = self.revision
        state, events, responses = dict(self.states[begin]), [], []
        for op in ops:
            seen = begin + 1 if events else begin
            if isinstance(op, RangeOp):
                source = state if op.revision in (0, seen) else self.states[op.revision]
                responses.append(self.read(source, op.key, op.range_end, op.limit, False, False, seen))
            elif isinstance(op, PutOp):
                previous = self.do_put(state, events, op.key, op.value, op.lease)
                responses.append(PutResponse(begin + 1, previous if op.prev_kv else None))
            else:
                deleted = self.do_delete(state, events, op.key, op.range_end)
                responses.append(DeleteResponse(begin + 1 if events else begin, len(deleted),
                                                deleted if op.prev_kv else []))
        self.commit(state, events)
        return TxnResponse(self.revision, succeeded, responses)

    def compact(self, revision) -> None:
        if revision <= self.compacted:
            raise CompactedError(revision, self.compacted)
        if revision > self.revision:
            raise FutureRevisionError(revision, self.revision)
        self.compacted = revision

    # -- leases
    def lease_grant(self, ttl, now) -> LeaseGrant:
        lease_id = len(self.granted) + 1
        ttl = max(ttl, 2)
        self.leases[lease_id] = ModelLease(ttl, now + ttl)
        self.granted.append(lease_id)
        return LeaseGrant(lease_id, ttl)

    def lease_keep_alive(self, lease_id, now) -> int:
        if lease_id not in self.leases:
            raise LeaseNotFoundError(lease_id)
        lease = self.leases[lease_id]
        lease.expiry = now + lease.ttl
        return lease.ttl

    def lease_revoke(self, lease_id) -> None:
        if lease_id not in self.leases:
            raise LeaseNotFoundError(lease_id)
        lease = self.leases.pop(lease_id)
        state, events = dict(self.states[self.revision]), []
        for key in sorted(lease.keys):
            self.do_delete(state, events, key, None)
        self.commit(state, events)

    def advance_to(self, when: float) -> None:
        """Expire, one revision each, every lease due by ``when``: earliest first, then lowest id."""
        while due := sorted((lease.expiry, lease_id) for lease_id, lease in self.leases.items()
                            if lease.expiry <= when):
            self.lease_revoke(due[0][1])

    def lease_status(self, lease_id: int, now: float) -> LeaseStatus:
        lease = self.leases.get(lease_id)
        if lease is None:
            return LeaseStatus(lease_id, -1, 0)
        return LeaseStatus(lease_id, max(0.0, lease.expiry - now), lease.ttl, tuple(sorted(lease.keys)))

    # -- watches
    def watch(self, key, end, start, prev_kv) -> ModelWatch:
        watch = self.replay(key, end, start, prev_kv)
        self.watches.append(watch)
        return watch

    def replay(self, key, end, start, prev_kv) -> ModelWatch:
        """A watch from ``start`` with the history it is owed, not yet following live events."""
        if 0 < start < self.compacted:
            raise CompactedError(start, self.compacted)
        watch = ModelWatch(key, end, prev_kv, start if start > 0 else self.revision + 1)
        for revision in range(watch.next_revision, self.revision + 1):
            events = self.changes.get(revision, [])
            if revision == self.compacted:      # etcd keeps no tombstone at the compaction point...
                events = [event for event in events if event.type == "PUT"]
            if revision <= self.compacted:      # ...and cannot read a prev_kv below it
                events = [without_prev(event) for event in events]
            watch.offer(events)
        watch.next_revision = max(watch.next_revision, self.revision + 1)
        return watch


# -- programs ----------------------------------------------------------------------------------------------------
# Steps refer to revisions and leases relatively ("two revisions back", "the second lease granted"), so that any
# program is meaningful whatever ran before it, and shrinking keeps it meaningful.

keys = st.sampled_from(KEYS)
range_ends = st.sampled_from([None, None, "PREFIX", "\0", "b", "a/2"])
leases = st.sampled_from(["none"] * 4 + [1, 1, 2, 3, "unknown"])    # n: the n-th most recent lease granted
revisions_back = st.one_of(st.just("current"), st.just("compacted"), st.integers(-1, 6))


def resolve(key: str, end: str | None) -> str | None:
    return prefix_end(key) if end == "PREFIX" else end


put_ops = st.builds(lambda key, value, lease, prev: ("put", key, value, lease, prev),
                    keys, st.sampled_from(VALUES), leases, st.booleans())
delete_ops = st.builds(lambda key, end, prev: ("delete", key, end, prev), keys, range_ends, st.booleans())
range_ops = st.builds(lambda key, end, back, limit: ("range", key, end, back, limit),
                      keys, range_ends, revisions_back, st.integers(0, 3))
compares = st.one_of(
    st.builds(Compare, keys, st.sampled_from(["VERSION", "CREATE", "MOD", "LEASE"]),
              st.sampled_from(["=", "!=", "<", ">"]), st.integers(0, 8)),
    st.builds(Compare, keys, st.just("VALUE"), st.sampled_from(["=", "!=", "<", ">"]), st.sampled_from(VALUES)),
)
branch = st.lists(st.one_of(put_ops, delete_ops, range_ops), max_size=3)

step_kinds = {
    "put": put_ops,
    "delete": delete_ops,
    "txn": st.builds(lambda compare, success, failure: ("txn", compare, success, failure),
                     st.lists(compares, max_size=2), branch, branch),
    "compact": st.builds(lambda back: ("compact", back),   # mostly right after a write, the trickiest point
                         st.one_of(st.sampled_from(["current", "current", 1]), revisions_back)),
    "read": st.builds(lambda key, end, back, limit, keys_only, count_only: ("read", key, end, back, limit,
                                                                           keys_only, count_only),
                      st.sampled_from(KEYS + [""]), range_ends, revisions_back, st.integers(0, 3), st.booleans(),
                      st.booleans()),
    "grant": st.builds(lambda ttl: ("grant", ttl), st.integers(1, 9)),
    "keep_alive": st.builds(lambda lease, seconds: ("keep_alive", lease, seconds),   # some time on: it matters
                            leases, st.sampled_from([0.5, 1.0, 2.0])),
    "revoke": st.builds(lambda lease: ("revoke", lease), leases),
    "advance": st.builds(lambda seconds: ("advance", seconds), st.sampled_from([0.5, 1.0, 3.0, 6.0])),
    "watch": st.builds(lambda key, end, back, prev: ("watch", key, end, back, prev),
                       st.sampled_from(KEYS + [""]), range_ends, st.one_of(st.just("none"), revisions_back),
                       st.booleans()),
    "cancel": st.builds(lambda index: ("cancel", index), st.integers(0, 5)),
}
WEIGHTS = {"put": 8, "delete": 3, "txn": 3, "compact": 1, "read": 2, "grant": 2, "keep_alive": 2, "revoke": 1,
           "advance": 2, "watch": 3, "cancel": 1}
steps = st.sampled_from([kind for kind, weight in WEIGHTS.items() for _ in range(weight)]).flatmap(
    step_kinds.__getitem__)


def outcome(call: Callable[[], Any]) -> Any:
    """A result, or the type of the store error raised: store and model must agree on either."""
    try:
        return call()
    except StoreError as error:
        return type(error)


class Run:
    """One program run on both sides; every step must give the same outcome."""

    def __init__(self) -> None:
        self.loop = Loop(seed=0)
        self.store = MemoryStore(self.loop)
        self.model = Model()
        self.watches: list[tuple[ModelWatch, list[list[Event]], WatchHandle]] = []

    def revision(self, back: str | int) -> int:
        if back == "current":
            return 0
        if back == "compacted":
            return self.model.compacted
        return max(1, self.model.revision - back)      # -1 is one revision into the future

    def lease(self, ref: str | int) -> int:
        if ref == "none":
            return 0
        if ref == "unknown" or ref > len(self.model.granted):
            return UNKNOWN_LEASE
        return self.model.granted[-ref]

    def op(self, step: tuple) -> PutOp | DeleteOp | RangeOp:
        if step[0] == "put":
            return PutOp(step[1], step[2], self.lease(step[3]), step[4])
        if step[0] == "delete":
            return DeleteOp(step[1], resolve(step[1], step[2]), step[3])
        return RangeOp(step[1], resolve(step[1], step[2]), self.revision(step[3]), step[4])

    def both(self, on_model: Callable[[], Any], on_store: Callable[[], Any]) -> None:
        expected = outcome(on_model)
        assert outcome(on_store) == expected

    def step(self, step: tuple) -> None:
        kind, store, model = step[0], self.store, self.model
        if kind in ("put", "delete"):
            op = self.op(step)
            if kind == "put":
                self.both(lambda: model.put(op.key, op.value, op.lease, op.prev_kv),
                          lambda: store.put(op.key, op.value, lease=op.lease, prev_kv=op.prev_kv))
            else:
                self.both(lambda: model.delete_range(op.key, op.range_end, op.prev_kv),
                          lambda: store.delete_range(op.key, op.range_end, prev_kv=op.prev_kv))
        elif kind == "txn":
            success, failure = [self.op(s) for s in step[2]], [self.op(s) for s in step[3]]
            self.both(lambda: model.txn(step[1], success, failure), lambda: store.txn(step[1], success, failure))
        elif kind == "compact":
            revision = self.revision(step[1]) or model.revision
            self.both(lambda: model.compact(revision), lambda: store.compact(revision))
        elif kind == "read":
            _, key, end, back, limit, keys_only, count_only = step
            end, revision = resolve(key, end), self.revision(back)
            self.both(lambda: model.range(key, end, revision, limit, keys_only, count_only),
                      lambda: store.range(key, end, revision=revision, limit=limit, keys_only=keys_only,
                                          count_only=count_only))
        elif kind == "grant":
            assert store.lease_grant(step[1]) == model.lease_grant(step[1], self.loop.now)
        elif kind == "keep_alive":
            self.step(("advance", step[2]))
            lease = self.lease(step[1])
            self.both(lambda: model.lease_keep_alive(lease, self.loop.now), lambda: store.lease_keep_alive(lease))
        elif kind == "revoke":
            lease = self.lease(step[1])
            self.both(lambda: model.lease_revoke(lease), lambda: store.lease_revoke(lease))
        elif kind == "advance":
            model.advance_to(self.loop.now + step[1])
            self.loop.run_for(step[1])
        elif kind == "watch":
            self.watch(step)
        else:
            live = [entry for entry in self.watches if entry[0] in model.watches]
            if live:
                watch, _, handle = live[step[1] % len(live)]
                model.watches.remove(watch)
                handle.cancel()
        assert (store.revision, store.compact_revision) == (model.revision, model.compacted)

    def watch(self, step: tuple) -> None:
        _, key, end, back, prev_kv = step
        end = resolve(key, end)
        if back == "none":
            start = 0
        elif back == "current":
            start = self.model.revision
        elif back == "compacted":
            start = max(1, self.model.compacted)
        else:
            start = max(1, self.model.revision + 1 - back)      # -1: a revision not made yet
        received: list[list[Event]] = []
        expected = outcome(lambda: self.model.watch(key, end, start, prev_kv))
        handle = outcome(lambda: self.store.watch(key, end, start_revision=start, prev_kv=prev_kv,
                                                  callback=received.append))
        if expected is CompactedError or handle is CompactedError:
            assert expected is handle is CompactedError
        else:
            self.watches.append((expected, received, handle))

    def check(self) -> None:
        store, model = self.store, self.model
        for revision in range(max(1, model.compacted), model.revision + 1):
            for key, end in [("", "\0"), ("a", prefix_end("a")), ("a/1", "b/1"), ("b", None)]:
                for limit in (0, 1, 2):
                    assert (store.range(key, end, revision=revision, limit=limit)
                            == model.range(key, end, revision, limit, False, False))
        start = max(1, model.compacted)
        for prev_kv in (False, True):
            replayed: list[list[Event]] = []
            store.watch("", "\0", start_revision=start, prev_kv=prev_kv, callback=replayed.append).cancel()
            assert replayed == model.replay("", "\0", start, prev_kv).expected
        for lease_id in model.granted + [UNKNOWN_LEASE]:
            assert store.lease_time_to_live(lease_id) == model.lease_status(lease_id, self.loop.now)
        for watch, received, _ in self.watches:
            assert received == watch.expected
            assert all(len({event.kv.mod_revision for event in call}) == 1 for call in received)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(program=st.lists(steps, min_size=15, max_size=60))
def test_the_store_never_diverges_from_the_model(program):
    run = Run()
    run.step(("grant", 10))             # so that the first leased puts have a lease to use
    for step in program:
        run.step(step)
    run.check()
