"""etcd in memory: the default backend of ``engine.store``, a miniature of etcd's ``mvcc`` and ``lease`` packages.

``MemoryStore(loop)`` implements the ``Store`` interface of ``engine.store.types`` as etcd v3 does:

- One global revision, 1 on a fresh store. Every write that changes something (a put, a delete_range that
  deletes, a txn whose executed branch writes, a lease revoke or expiry that deletes keys) makes exactly one
  new revision; a write that changes nothing makes none.
- Per key: create_revision, mod_revision and version (1 on create, +1 per put, 1 again once re-created).
- Reads at any revision from ``compact_revision`` to the current one.
- Watch callbacks run synchronously: inside the write for live events, inside ``watch()`` for replayed history.
  Each call carries the events of one revision; a watcher sees revisions in order, never misses or repeats one,
  even when a callback writes, watches, or cancels itself or another watcher. A callback that raises does not
  starve the other watchers: its error is re-raised to the caller of the write once every watcher is served.
- Leases expire on the loop's virtual clock. A revoke or an expiry deletes the lease's keys in one revision,
  in key order; leases expiring at the same instant go in lease id order.

etcd quirks it keeps on purpose, so that code tested here behaves the same against a real etcd:

- A txn branch that puts one key twice, or puts a key its own delete covers, is refused (``duplicate key``).
- A VALUE compare on a missing key is false whatever the operator.
- A lease lives at least ``MIN_LEASE_TTL`` seconds (etcd's minimum under its default flags).
- ``compact(r)`` keeps each key's latest version at or before ``r`` but drops tombstones, so a watch from ``r``
  replays the puts of revision ``r`` and not its deletes; replayed events of revision ``r`` carry no prev_kv,
  because etcd reads prev_kv at ``r - 1``, which is gone.

How it scales to 150,000 pods: the current state is a key index (``_live``, an ``engine.store.keyindex``: a
dict, sorted on demand), so a write or a read of one key costs one dict operation, and a range read
O(log n + k) once the keys written since the last one are sorted in; every key keeps its own kept versions
(``_history``), so a read in the past costs one binary search per key in the range; one entry per revision in
``_log`` serves watch replay; watchers are indexed by exact key and by prefix, so an event looks up its watchers
instead of testing them all. Compaction touches only the keys written since the previous compaction.

What it keeps per write is cheap for CPython's cyclic garbage collector, which walks every container object
that lives long: a key's history is its one KeyValue while it has one kept version (a list once it has more),
and a revision's entry in ``_log`` is a plain tuple of its revision and keys, which the collector stops
tracking. Replayed events are rebuilt from the histories: equal to the ones delivered live.

What it never does: read the wall clock, copy a whole collection on a write, print or log to stderr.
"""

from __future__ import annotations

import heapq
import operator
from bisect import bisect_left, bisect_right
from collections import deque
from typing import Callable, Iterator, Union

from engine.sim.loop import Loop, Timer
from engine.store.keyindex import KeyIndex
from engine.store.types import (
    CompactedError, Compare, DeleteOp, DeleteResponse, Event, FutureRevisionError, KeyValue, LeaseGrant,
    LeaseNotFoundError, LeaseStatus, Op, PutOp, PutResponse, RangeOp, RangeResponse, StoreError, TxnResponse,
    WatchCallback, WatchHandle, prefix_end,
)

MIN_LEASE_TTL = 2
"""etcd's shortest lease, in seconds: 1.5 election timeouts (default --election-timeout=1000 ms), rounded up."""

_COMPARE_OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}

_DIRECTORIES_KEPT = 4096
"""How many key directories ``_watchers_of`` remembers the prefix watchers of (forgotten all at once beyond)."""

_COMPARED_FIELDS = {"VERSION": "version", "CREATE": "create_revision", "MOD": "mod_revision", "LEASE": "lease"}


History = Union[KeyValue, list[Union[KeyValue, int]]]
"""The kept versions of one key, oldest first: its KeyValue alone, or a list in which an int is the revision
that deleted it."""

LogEntry = tuple
"""One revision in ``_log``: ``(revision, key, key...)``, its keys in the order it wrote them."""


def _kept_revision(version: KeyValue | int) -> int:
    return version if type(version) is int else version.mod_revision


def _at(history: History, revision: int) -> KeyValue | None:
    """The key's version at ``revision``: None if it did not exist then."""
    if type(history) is list:
        index = bisect_right(history, revision, key=_kept_revision) - 1
        if index < 0:
            return None
        version = history[index]
        return None if type(version) is int else version
    return history if history.mod_revision <= revision else None


def _compacted(history: History, revision: int) -> History | None:
    """``history`` without what nobody can read at ``revision`` or later; None when nothing is left."""
    if type(history) is not list:
        return history                  # one put: the latest version at or before any revision after it
    index = bisect_right(history, revision, key=_kept_revision) - 1
    if index >= 0 and type(history[index]) is int:
        index += 1                      # a tombstone at or before the compaction point goes too
    if index > 0:
        del history[:index]
    if not history:
        return None
    return history[0] if len(history) == 1 and type(history[0]) is not int else history


class _Changes:
    """The events of one revision being delivered, in the order they were made, each with its prev_kv."""

    __slots__ = ("revision", "events", "_plain")

    def __init__(self, revision: int, events: list[Event]) -> None:
        self.revision = revision
        self.events = events
        self._plain: list[Event] | None = None

    def plain(self) -> list[Event]:
        """The same events without prev_kv, for watchers that did not ask for it (built once, on demand)."""
        if self._plain is None:
            self._plain = [event if event.prev_kv is None else Event(event.type, event.kv)
                           for event in self.events]
        return self._plain


_revision_of = operator.itemgetter(0)
"""The revision of a ``_log`` entry."""


def _id_of(watcher: _Watcher) -> int:
    return watcher.id


def _in_range(key: str, start: str, range_end: str | None) -> bool:
    if range_end is None:
        return key == start
    return key >= start and (range_end == "\0" or key < range_end)


class _Watcher:
    """One watch: its range, and the next revision it is owed (everything before it has been delivered)."""

    __slots__ = ("id", "key", "range_end", "prev_kv", "callback", "next_revision", "cancelled", "_store")

    def __init__(self, store: MemoryStore, watch_id: int, key: str, range_end: str | None, prev_kv: bool,
                 callback: WatchCallback, next_revision: int) -> None:
        self.id = watch_id
        self.key = key
        self.range_end = range_end
        self.prev_kv = prev_kv
        self.callback = callback
        self.next_revision = next_revision
        self.cancelled = False
        self._store = store

    def cancel(self) -> None:
        """Stop the watch; safe from inside any callback, and harmless twice."""
        self._store._remove_watcher(self)

    def __repr__(self) -> str:
        return f"<watch {self.id} {self.key!r}..{self.range_end!r} next={self.next_revision}>"


class _Lease:
    __slots__ = ("id", "ttl", "expiry", "scheduled", "keys")

    def __init__(self, lease_id: int, ttl: int, expiry: float) -> None:
        self.id = lease_id
        self.ttl = ttl
        self.expiry = expiry
        self.scheduled = expiry         # the expiry of this lease's one entry in the expiry heap
        self.keys: set[str] = set()


class MemoryStore:
    """An etcd v3 store kept in memory, with leases that expire on ``loop``'s virtual clock."""

    def __init__(self, loop: Loop, *, min_lease_ttl: int = MIN_LEASE_TTL) -> None:
        self._loop = loop
        self._min_lease_ttl = min_lease_ttl
        self._revision = 1
        self._compact_revision = 0
        self._live = KeyIndex()                      # key -> current KeyValue
        self._history = KeyIndex()                   # key -> History, for every key with a kept revision
        self._log: list[LogEntry] = []               # one entry per revision since the compaction point
        # Watchers, indexed three ways; ids grow, so sorting by id is sorting by age.
        self._next_watch_id = 1
        self._watch_count = 0
        self._key_watchers: dict[str, dict[int, _Watcher]] = {}
        self._prefix_watchers: dict[str, dict[int, _Watcher]] = {}
        self._prefix_lengths: list[int] = []          # distinct lengths of the watched prefixes, ascending
        self._dir_groups: dict[str, tuple[dict[int, _Watcher], ...]] = {}   # see _watchers_of
        self._partial_prefixes: dict[str, list[str]] = {}   # prefixes not ending in "/", by their directory
        self._range_watchers: dict[int, _Watcher] = {}
        self._pending: deque[_Changes] = deque()     # revisions written but not yet delivered
        self._delivering = False
        self._errors: list[Exception] = []            # raised by callbacks, re-raised once delivery is done
        # Leases: one heap entry per lease, one loop timer for the earliest entry.
        self._leases: dict[int, _Lease] = {}
        self._next_lease_id = 1
        self._expiries: list[tuple[float, int]] = []
        self._expiry_timer: Timer | None = None

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compact_revision(self) -> int:
        return self._compact_revision

    # -- KV -------------------------------------------------------------------
    def range(self, key: str, range_end: str | None = None, *, revision: int = 0, limit: int = 0,
              keys_only: bool = False, count_only: bool = False) -> RangeResponse:
        """Read ``key`` (or ``[key, range_end)``) at ``revision`` (0: now), in key order."""
        return self._range(key, range_end, revision, limit, keys_only, count_only, self._revision)

    def put(self, key: str, value: bytes, *, lease: int = 0, prev_kv: bool = False) -> PutResponse:
        """Write ``key`` in a new revision, attached to ``lease`` (0: to none)."""
        self._check_put(key, value, lease)
        revision = self._revision + 1
        events: list[Event] = []
        previous = self._put_key(key, value, lease, revision, events)
        self._commit(revision, events)
        self._drain()
        return PutResponse(revision, previous if prev_kv else None)

    def delete_range(self, key: str, range_end: str | None = None, *, prev_kv: bool = False) -> DeleteResponse:
        """Delete ``key`` (or ``[key, range_end)``) in one new revision; no revision when nothing matched."""
        revision = self._revision + 1
        events: list[Event] = []
        deleted = self._delete_keys(key, range_end, revision, events)
        if not events:
            return DeleteResponse(self._revision, 0)
        self._commit(revision, events)
        self._drain()
        return DeleteResponse(revision, len(deleted), deleted if prev_kv else [])

    def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResponse:
        """If every compare holds run ``success``, else ``failure``; all its writes make one revision."""
        if len(success) > 1:
            _check_no_duplicate_keys(success)
        if len(failure) > 1:
            _check_no_duplicate_keys(failure)
        succeeded = True
        for guard in compare:
            if not self._holds(guard):
                succeeded = False
                break
        ops = success if succeeded else failure
        begin = self._revision
        self._check_ops(ops, begin)         # refuse the whole branch before it changes anything
        revision = begin + 1
        events: list[Event] = []
        responses: list[RangeResponse | PutResponse | DeleteResponse] = []
        for op in ops:
            if isinstance(op, PutOp):
                previous = self._put_key(op.key, op.value, op.lease, revision, events)
                responses.append(PutResponse(revision, previous if op.prev_kv else None))
            elif isinstance(op, RangeOp):   # sees the writes made earlier in this branch, as etcd's do
                seen = revision if events else begin
                responses.append(self._range(op.key, op.range_end, op.revision, op.limit, False, False, seen))
            else:
                deleted = self._delete_keys(op.key, op.range_end, revision, events)
                responses.append(DeleteResponse(revision if events else begin, len(deleted),
                                                deleted if op.prev_kv else []))
        if events:
            self._commit(revision, events)
            self._drain()
        return TxnResponse(revision if events else begin, succeeded, responses)

    def compact(self, revision: int) -> None:
        """Forget every version superseded at ``revision``: reads and watches below it fail from now on."""
        if revision <= self._compact_revision:
            raise CompactedError(revision, self._compact_revision)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        cut = bisect_left(self._log, revision, key=_revision_of)
        touched: dict[str, None] = {}           # the only keys that can hold superseded versions
        for index in range(cut):
            for key in self._log[index][1:]:
                touched[key] = None
        del self._log[:cut]
        histories = self._history
        if self._log and self._log[0][0] == revision:
            head = self._log[0]
            puts = tuple(key for key in head[1:] if _at(histories[key], revision) is not None)
            if len(puts) < len(head) - 1:       # etcd drops the tombstones at the compaction point itself
                touched.update(dict.fromkeys(head[1:]))
                self._log[0] = (revision, *puts)
        for key in touched:
            history = histories.get(key)
            if history is None:
                continue
            kept = _compacted(history, revision)
            if kept is None:
                del histories[key]
            elif kept is not history:
                histories.data[key] = kept
        self._compact_revision = revision

    # -- Watch ----------------------------------------------------------------
    def watch(self, key: str, range_end: str | None = None, *, start_revision: int = 0,
              prev_kv: bool = False, callback: WatchCallback) -> WatchHandle:
        """Call ``callback`` with the events in range: history from ``start_revision`` (0: none), then live."""
        if 0 < start_revision < self._compact_revision:
            raise CompactedError(start_revision, self._compact_revision)
        next_revision = start_revision if start_revision > 0 else self._revision + 1
        watcher = _Watcher(self, self._next_watch_id, key, range_end, prev_kv, callback, next_revision)
        self._next_watch_id += 1
        self._add_watcher(watcher)
        if next_revision > self._revision:
            return watcher
        outermost = not self._delivering
        self._delivering = True             # writes made by the callback wait until the replay is over
        errors_before = len(self._errors)
        try:
            self._replay(watcher)
        finally:
            self._delivering = not outermost
        failed = self._errors[errors_before:]
        del self._errors[errors_before:]
        if failed:                          # the caller never gets the handle, so nobody could cancel it
            self._remove_watcher(watcher)
        try:
            self._drain()
        finally:
            if failed:
                raise failed[0]
        return watcher

    # -- Lease ----------------------------------------------------------------
    def lease_grant(self, ttl: int, lease_id: int = 0) -> LeaseGrant:
        """Create a lease of ``ttl`` seconds (at least ``MIN_LEASE_TTL``); ids are 1, 2, 3... unless given."""
        if lease_id == 0:
            while self._next_lease_id in self._leases:
                self._next_lease_id += 1
            lease_id = self._next_lease_id
            self._next_lease_id += 1
        elif lease_id in self._leases:
            raise StoreError(f"etcdserver: lease already exists ({lease_id}); revoke it or grant another id")
        ttl = max(ttl, self._min_lease_ttl)
        lease = _Lease(lease_id, ttl, self._loop.now + ttl)
        self._leases[lease_id] = lease
        heapq.heappush(self._expiries, (lease.expiry, lease_id))
        self._arm_expiry_timer()
        return LeaseGrant(lease_id, ttl)

    def lease_revoke(self, lease_id: int) -> None:
        """End the lease now, deleting its keys in one revision."""
        lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFoundError(lease_id)
        self._revoke(lease)
        self._drain()

    def lease_keep_alive(self, lease_id: int) -> int:
        """Push the lease's expiry to now + its TTL, and return the TTL."""
        lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFoundError(lease_id)
        if lease.expiry <= self._loop.now:  # expired, its timer not fired yet: etcd refuses to renew
            self._revoke(lease)
            self._drain()
            raise LeaseNotFoundError(lease_id)
        lease.expiry = self._loop.now + lease.ttl   # its heap entry catches up when it comes due
        return lease.ttl

    def lease_time_to_live(self, lease_id: int) -> LeaseStatus:
        """Seconds left, granted TTL and attached keys; ``ttl == -1`` for a lease that is gone."""
        lease = self._leases.get(lease_id)
        if lease is None:
            return LeaseStatus(lease_id, -1, 0)
        return LeaseStatus(lease_id, max(0.0, lease.expiry - self._loop.now), lease.ttl,
                           tuple(sorted(lease.keys)))

    # -- reading --------------------------------------------------------------
    def _range(self, key: str, range_end: str | None, revision: int, limit: int, keys_only: bool,
               count_only: bool, current: int) -> RangeResponse:
        if revision > current:
            raise FutureRevisionError(revision, current)
        if revision <= 0:
            revision = current
        if revision < self._compact_revision:
            raise CompactedError(revision, self._compact_revision)
        if revision == current:
            kvs, count = self._read_live(key, range_end, limit, count_only)
        else:
            kvs, count = self._read_past(key, range_end, revision, limit, count_only)
        if keys_only:
            kvs = [KeyValue(kv.key, b"", kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in kvs]
        return RangeResponse(current, kvs, count, not count_only and 0 < limit < count)

    def _read_live(self, key: str, range_end: str | None, limit: int,
                   count_only: bool) -> tuple[list[KeyValue], int]:
        live = self._live
        if range_end is None:
            kv = live.get(key)
            return ([] if kv is None or count_only else [kv]), (0 if kv is None else 1)
        start = live.bisect_left(key)
        stop = len(live) if range_end == "\0" else live.bisect_left(range_end)
        count = max(0, stop - start)
        if count_only or count == 0:
            return [], count
        return live.values_between(start, start + (min(count, limit) if limit > 0 else count)), count

    def _read_past(self, key: str, range_end: str | None, revision: int, limit: int,
                   count_only: bool) -> tuple[list[KeyValue], int]:
        history = self._history
        if range_end is None:
            keys: Iterator[str] | list[str] = [key] if key in history else []
        elif range_end != "\0" and range_end <= key:
            keys = []
        else:
            keys = history.irange(key, None if range_end == "\0" else range_end)
        kvs: list[KeyValue] = []
        count = 0
        for name in keys:
            kv = _at(history[name], revision)
            if kv is None:
                continue
            count += 1
            if not count_only and (limit <= 0 or len(kvs) < limit):
                kvs.append(kv)
        return kvs, count

    def _holds(self, guard: Compare) -> bool:
        target = guard.target
        if guard.result == "=" and type(guard.value) is int and target in _COMPARED_FIELDS:
            kv = self._live.data.get(guard.key)    # the usual guard: a revision, a version or a lease equals
            return (0 if kv is None else getattr(kv, _COMPARED_FIELDS[target])) == guard.value
        compare = _COMPARE_OPERATORS.get(guard.result)
        if compare is None:
            raise ValueError(f"compare result {guard.result!r} is not one of =, !=, <, >")
        kv = self._live.get(guard.key)
        if guard.target == "VALUE":
            if not isinstance(guard.value, bytes):
                raise TypeError(f"a VALUE compare needs bytes, got {guard.value!r}")
            return kv is not None and compare(kv.value, guard.value)
        if guard.target not in ("VERSION", "CREATE", "MOD", "LEASE"):
            raise ValueError(f"compare target {guard.target!r} is not VERSION, CREATE, MOD, VALUE or LEASE")
        if isinstance(guard.value, bytes):
            raise TypeError(f"a {guard.target} compare needs an int, got {guard.value!r}")
        if kv is None:
            return compare(0, guard.value)
        return compare(getattr(kv, _COMPARED_FIELDS[guard.target]), guard.value)

    # -- writing --------------------------------------------------------------
    def _check_put(self, key: str, value: bytes, lease: int) -> None:
        if not key:
            raise StoreError("etcdserver: key is not provided; every key needs at least one character")
        if not isinstance(value, bytes):
            raise TypeError(f"values are bytes (encode JSON first), got {type(value).__name__}")
        if lease and lease not in self._leases:
            raise LeaseNotFoundError(lease)

    def _check_ops(self, ops: list[Op], begin: int) -> None:
        for op in ops:
            if isinstance(op, PutOp):
                lease = op.lease
                if not op.key or type(op.value) is not bytes or (lease and lease not in self._leases):
                    self._check_put(op.key, op.value, lease)     # says which, unless a bytes subclass
            elif isinstance(op, RangeOp):
                if op.revision > begin:
                    raise FutureRevisionError(op.revision, begin)
                if 0 < op.revision < self._compact_revision:
                    raise CompactedError(op.revision, self._compact_revision)
            elif not isinstance(op, DeleteOp):
                raise TypeError(f"a txn op is a RangeOp, PutOp or DeleteOp, not {type(op).__name__}")

    def _put_key(self, key: str, value: bytes, lease: int, revision: int, events: list[Event]) -> KeyValue | None:
        live = self._live
        previous = live.data.get(key)
        if previous is None:
            kv = KeyValue(key, value, revision, revision, 1, lease)
            live[key] = kv
        else:
            kv = KeyValue(key, value, previous.create_revision, revision, previous.version + 1, lease)
            live.data[key] = kv             # a key already indexed: only its value changes
            if previous.lease != lease:
                self._detach(previous)
        if lease and (previous is None or previous.lease != lease):
            self._leases[lease].keys.add(key)
        histories = self._history
        history = histories.data.get(key)
        if history is None:
            histories[key] = kv
        elif type(history) is list:
            history.append(kv)
        else:
            histories.data[key] = [history, kv]
        events.append(Event("PUT", kv, previous))
        return previous

    def _delete_keys(self, key: str, range_end: str | None, revision: int, events: list[Event]) -> list[KeyValue]:
        if range_end is None:
            keys = [key] if key in self._live else []
        else:
            start = self._live.bisect_left(key)
            stop = len(self._live) if range_end == "\0" else self._live.bisect_left(range_end)
            keys = self._live.keys_between(start, stop) if stop > start else []
        return [self._delete_key(name, revision, events) for name in keys]

    def _delete_key(self, key: str, revision: int, events: list[Event]) -> KeyValue:
        previous = self._live.pop(key)
        self._detach(previous)
        history = self._history.data[key]
        if type(history) is list:
            history.append(revision)
        else:
            self._history.data[key] = [history, revision]
        events.append(Event("DELETE", KeyValue(key, b"", 0, revision, 0, 0), previous))
        return previous

    def _detach(self, kv: KeyValue) -> None:
        lease = self._leases.get(kv.lease) if kv.lease else None
        if lease is not None:
            lease.keys.discard(kv.key)

    def _commit(self, revision: int, events: list[Event]) -> None:
        self._revision = revision
        if len(events) == 1:
            self._log.append((revision, events[0].kv.key))
        else:
            self._log.append((revision, *[event.kv.key for event in events]))
        if self._watch_count:
            self._pending.append(_Changes(revision, events))

    # -- delivering -----------------------------------------------------------
    def _drain(self) -> None:
        """Deliver the pending revisions in order; a nested call (from a callback) leaves it to the outer one."""
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._pending:
                self._deliver(self._pending.popleft())
        finally:
            self._delivering = False
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise error

    def _deliver(self, changes: _Changes) -> None:
        """Hand one revision to every watcher it concerns, oldest watcher first."""
        revision = changes.revision
        if len(changes.events) == 1:        # the common case: one put or delete, each watcher matches once
            watchers = self._watchers_of(changes.events[0].kv.key)
            if len(watchers) > 1:
                watchers.sort(key=_id_of)
            for watcher in watchers:
                if watcher.cancelled or revision < watcher.next_revision:
                    continue                # cancelled meanwhile, or already served by its replay
                watcher.next_revision = revision + 1
                try:
                    watcher.callback(list(changes.events if watcher.prev_kv else changes.plain()))
                except Exception as error:  # as ``_call``: one broken watcher must not starve the others
                    self._errors.append(error)
            return
        by_id: dict[int, _Watcher] = {}
        matched: dict[int, list[int]] = {}
        for index, event in enumerate(changes.events):
            for watcher in self._watchers_of(event.kv.key):
                indexes = matched.get(watcher.id)
                if indexes is None:
                    by_id[watcher.id] = watcher
                    matched[watcher.id] = [index]
                else:
                    indexes.append(index)
        for watch_id in sorted(matched):
            watcher = by_id[watch_id]
            if watcher.cancelled or revision < watcher.next_revision:
                continue
            watcher.next_revision = revision + 1
            source = changes.events if watcher.prev_kv else changes.plain()
            self._call(watcher, [source[index] for index in matched[watch_id]])

    def _replay(self, watcher: _Watcher) -> None:
        while not watcher.cancelled:
            index = bisect_left(self._log, watcher.next_revision, key=_revision_of)
            if index == len(self._log):
                break
            entry = self._log[index]
            revision = entry[0]
            watcher.next_revision = revision + 1
            with_prev = watcher.prev_kv and revision > self._compact_revision
            events = [self._event_at(key, revision, with_prev) for key in entry[1:]
                      if _in_range(key, watcher.key, watcher.range_end)]
            if events:
                self._call(watcher, events)

    def _event_at(self, key: str, revision: int, with_prev: bool) -> Event:
        """The event that wrote ``key`` at ``revision``, as it was delivered live (prev_kv only if asked)."""
        history = self._history[key]
        kv = _at(history, revision)
        previous = _at(history, revision - 1) if with_prev else None
        if kv is None:
            return Event("DELETE", KeyValue(key, b"", 0, revision, 0, 0), previous)
        return Event("PUT", kv, previous)

    def _call(self, watcher: _Watcher, events: list[Event]) -> None:
        try:
            watcher.callback(events)
        except Exception as error:          # one broken watcher must not starve the others
            self._errors.append(error)

    def _watchers_of(self, key: str) -> list[_Watcher]:
        """The watchers whose range holds ``key``: one dict lookup per distinct watched prefix length."""
        found: list[_Watcher] = []
        group = self._key_watchers.get(key)
        if group:
            found.extend(group.values())
        if self._prefix_lengths:
            # A watched prefix no longer than the key's directory (up to its last "/") is a prefix of the key
            # exactly when it is one of the directory: those groups are remembered per directory. A longer one
            # ends inside the key's last segment, so it has the same directory and does not end in "/".
            directory = key[:key.rfind("/") + 1]
            groups = self._dir_groups.get(directory)
            if groups is None:
                groups = self._groups_of_directory(directory)
            for group in groups:
                found.extend(group.values())
            partial = self._partial_prefixes.get(directory)
            if partial:
                for prefix in partial:
                    if len(prefix) > len(directory) and key.startswith(prefix):
                        found.extend(self._prefix_watchers[prefix].values())
        for watcher in self._range_watchers.values():
            if _in_range(key, watcher.key, watcher.range_end):
                found.append(watcher)
        return found

    def _groups_of_directory(self, directory: str) -> tuple[dict[int, _Watcher], ...]:
        prefixes, size = self._prefix_watchers, len(directory)
        groups = []
        for length in self._prefix_lengths:
            if length > size:
                break
            group = prefixes.get(directory[:length])
            if group is not None:
                groups.append(group)
        if len(self._dir_groups) >= _DIRECTORIES_KEPT:
            self._dir_groups.clear()
        found = self._dir_groups[directory] = tuple(groups)
        return found

    def _prefixes_changed(self) -> None:
        """A watched prefix came or went: what ``_watchers_of`` derives from the set of prefixes is redone."""
        self._prefix_lengths = sorted({len(prefix) for prefix in self._prefix_watchers})
        self._dir_groups.clear()
        self._partial_prefixes.clear()
        for prefix in self._prefix_watchers:
            if not prefix.endswith("/"):
                self._partial_prefixes.setdefault(prefix[:prefix.rfind("/") + 1], []).append(prefix)

    def _index_of(self, watcher: _Watcher) -> dict[int, _Watcher]:
        if watcher.range_end is None:
            return self._key_watchers.setdefault(watcher.key, {})
        if watcher.range_end == prefix_end(watcher.key):
            group = self._prefix_watchers.get(watcher.key)
            if group is None:
                group = self._prefix_watchers[watcher.key] = {}
                self._prefixes_changed()
            return group
        return self._range_watchers

    def _add_watcher(self, watcher: _Watcher) -> None:
        self._index_of(watcher)[watcher.id] = watcher
        self._watch_count += 1

    def _remove_watcher(self, watcher: _Watcher) -> None:
        if watcher.cancelled:
            return
        watcher.cancelled = True
        self._watch_count -= 1
        group = self._index_of(watcher)
        del group[watcher.id]
        if not group and group is not self._range_watchers:
            if watcher.range_end is None:
                del self._key_watchers[watcher.key]
            else:
                del self._prefix_watchers[watcher.key]
                self._prefixes_changed()

    # -- expiring leases ------------------------------------------------------
    def _revoke(self, lease: _Lease) -> None:
        del self._leases[lease.id]
        if not lease.keys:
            return
        revision = self._revision + 1
        events: list[Event] = []
        for key in sorted(lease.keys):      # etcd sorts them so every member deletes in the same order
            self._delete_key(key, revision, events)
        self._commit(revision, events)

    def _arm_expiry_timer(self) -> None:
        """Keep the one loop timer set at the earliest entry of the expiry heap."""
        if not self._expiries:
            return
        when = self._expiries[0][0]
        timer = self._expiry_timer
        if timer is not None and not timer.cancelled and timer.when <= when:
            return
        if timer is not None:
            timer.cancel()
        self._expiry_timer = self._loop.call_at(when, self._expire_leases, label="etcd.lease.expire")

    def _expire_leases(self) -> None:
        self._expiry_timer = None
        now = self._loop.now
        heap = self._expiries
        try:
            while heap and heap[0][0] <= now:
                scheduled, lease_id = heapq.heappop(heap)
                lease = self._leases.get(lease_id)
                if lease is None or lease.scheduled != scheduled:
                    continue                # revoked, or a stale entry of a re-granted id
                if lease.expiry > now:      # kept alive since: move its entry to the new expiry
                    lease.scheduled = lease.expiry
                    heapq.heappush(heap, (lease.expiry, lease_id))
                    continue
                self._revoke(lease)
                self._drain()
        finally:
            self._arm_expiry_timer()


def _check_no_duplicate_keys(ops: list[Op]) -> None:
    """etcd refuses a branch that writes one key twice: two puts, or a put inside one of its deletes."""
    deletes = [(op.key, op.range_end) for op in ops if isinstance(op, DeleteOp)]
    puts: set[str] = set()
    for op in ops:
        if isinstance(op, PutOp):
            if op.key in puts or any(_in_range(op.key, start, end) for start, end in deletes):
                raise StoreError(f"etcdserver: duplicate key given in txn request ({op.key!r}); "
                                 f"write each key at most once per branch")
            puts.add(op.key)
