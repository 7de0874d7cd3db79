"""The watch cache (k8s.io/apiserver/pkg/storage/cacher): one per kind, fanning out to watchers.

A real API server does not open an etcd watch per client. For each resource
it keeps one etcd watch, decodes each change once, keeps the current objects
and a window of recent events in memory, and fans every event out to all of
its watchers, filtered by namespace, label and field selectors. This module is
that cache.

Promises:
- ``objects`` is exactly the store's state at ``revision`` (the in-memory store
  calls back inside the write, so the cache is never behind it).
- Each watcher receives events in revision order, each exactly once, after
  the watcher's ``delay`` of virtual time (informers see the world a little
  late, which is how stale caches and races can be shown).
- A watch from a resourceVersion whose events have left the window gets a
  single ``ERROR`` event carrying a 410 ``Expired`` Status, as from the real
  server ("too old resource version"), and ends.
- An object that stops matching a watcher's selector is delivered to it as
  ``DELETED``; one that starts matching, as ``ADDED``.
- Objects handed out are frozen and shared: no per-watcher copies.
- An object written while no watcher's prefix holds its key (most Events) is kept as its stored bytes and
  decoded when first read: what any reader gets is what decoding at write time would have given.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Callable

from engine.api.errors import too_old_resource_version
from engine.api.frozen import FrozenDict, freeze, loads_frozen, thaw
from engine.api.kinds import Kind
from engine.sim.loop import Loop, Timer
from engine.store.keyindex import KeyIndex
from engine.store.types import Event, KeyValue, Store, prefix_end

Matcher = Callable[[dict], bool]
Handler = Callable[[dict], None]

DEFAULT_CAPACITY = 10_000
BOOKMARK_FREQUENCY = 60.0
"""Seconds between bookmarks to a watcher that allows them (the cacher's bookmarkFrequency)."""


def decode(kv: KeyValue, revision: int | None = None) -> dict:
    """The stored JSON of ``kv`` as a frozen object whose resourceVersion is its revision."""
    return _decoded(kv.value, str(revision if revision is not None else kv.mod_revision))


def _decoded(value: bytes, version: str) -> dict:
    obj = loads_frozen(value)
    metadata = obj.get("metadata")
    # The stored bytes never hold a resourceVersion (it is the revision), so setting it is the one
    # write a frozen object gets, before anyone else can see it.
    if metadata is None:
        dict.__setitem__(obj, "metadata", FrozenDict(resourceVersion=version))
    else:
        dict.__setitem__(metadata, "resourceVersion", version)
    return obj


class _Encoded:
    """An object the cache holds as its stored bytes: nobody watched its key when it was written, so it is
    decoded when first read (``Cacher.get``, ``Cacher.list``, a watch replaying the window), once: every read
    gets the same frozen object, the one eager decoding would have given."""

    __slots__ = ("value", "version", "decoded")

    def __init__(self, value: bytes, version: str) -> None:
        self.value = value
        self.version = version
        self.decoded: dict | None = None

    def object(self) -> dict:
        if self.decoded is None:
            self.decoded = _decoded(self.value, self.version)
        return self.decoded


@dataclass(slots=True)
class CacheEvent:
    """One change as the cache keeps it: the new object and the one it replaced."""

    type: str                    # ADDED, MODIFIED, DELETED
    key: str
    object: dict | _Encoded      # _Encoded: decoded by the first watcher it is offered to
    prev: dict | _Encoded | None
    revision: int


def _revision_of(event: CacheEvent) -> int:
    return event.revision


class CacheWatcher:
    """One client's watch: a filter, a queue of due events, a handler run on the loop."""

    def __init__(self, cacher: "Cacher", prefix: str, matcher: Matcher | None, handler: Handler,
                 *, delay: float, bookmarks: bool, observer: Handler | None = None) -> None:
        self.cacher = cacher
        self.prefix = prefix
        self.matcher = matcher
        self.handler = handler
        self.observer = observer
        self.delay = delay
        self.bookmarks = bookmarks
        self.stopped = False
        self._pending: deque[tuple[float, dict]] = deque()
        self._timer: Timer | None = None
        self._next_bookmark = cacher.loop.now + BOOKMARK_FREQUENCY
        self._label = f"watch {cacher.kind.plural}"

    def stop(self) -> None:
        """End the watch; nothing is delivered after this returns."""
        if self.stopped:
            return
        self.stopped = True
        self._pending.clear()
        if self._timer is not None:
            self._timer.cancel()
        self.cacher._remove(self)

    def offer(self, event: CacheEvent) -> None:
        """Queue ``event`` as this watcher sees it through its selectors."""
        if not event.key.startswith(self.prefix):
            return
        obj, prev = event.object, event.prev
        if type(obj) is _Encoded:
            obj = obj.object()
        if type(prev) is _Encoded:
            prev = prev.object()
        matcher = self.matcher
        if matcher is None:
            self._queue(event.type, obj)
            return
        type_ = event.type
        now_matches = type_ != "DELETED" and matcher(obj)
        was_matching = type_ != "ADDED" and prev is not None and matcher(prev)
        if type_ == "DELETED":
            if was_matching:
                self._queue("DELETED", obj)
        elif now_matches and was_matching:
            self._queue("MODIFIED", obj)
        elif now_matches:
            self._queue("ADDED", obj)
        elif was_matching:
            gone = thaw(prev)
            gone["metadata"]["resourceVersion"] = str(event.revision)
            self._queue("DELETED", freeze(gone))

    def _queue(self, type_: str, obj: dict) -> None:
        if self.stopped:
            return
        loop = self.cacher.loop
        due = loop.now + self.delay
        self._pending.append((due, {"type": type_, "object": obj}))
        if self._timer is None:
            self._timer = loop.call_at(due, self._flush, label=self._label)

    def _flush(self) -> None:
        self._timer = None
        loop = self.cacher.loop
        pending = self._pending
        try:
            while pending and pending[0][0] <= loop.now and not self.stopped:
                _, event = pending.popleft()
                if self.observer is not None:
                    self.observer(event)
                self.handler(event)
        finally:
            # A handler that raises must not strand the events queued behind it.
            if pending and not self.stopped and self._timer is None:
                self._timer = loop.call_at(pending[0][0], self._flush, label=self._label)

    def error(self, status: dict) -> None:
        """Deliver a final ERROR event (e.g. 410 Expired) and end the watch."""
        self._queue("ERROR", freeze(status))
        self.cacher._remove(self)

    def maybe_bookmark(self, revision: int) -> None:
        if self.bookmarks and not self.stopped and self.cacher.loop.now >= self._next_bookmark:
            self._next_bookmark = self.cacher.loop.now + BOOKMARK_FREQUENCY
            kind = self.cacher.kind
            self._queue("BOOKMARK", freeze({"kind": kind.kind, "apiVersion": kind.api_version,
                                            "metadata": {"resourceVersion": str(revision)}}))


class Cacher:
    """The watch cache of one kind: current objects, a window of events, and the watchers."""

    def __init__(self, kind: Kind, store: Store, loop: Loop, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.kind = kind
        self.store = store
        self.loop = loop
        self.objects = KeyIndex()
        self.events: deque[CacheEvent] = deque()
        self.capacity = capacity
        self.watchers: list[CacheWatcher] = []
        self._bookmark_timer: Timer | None = None
        self._expected: tuple[bytes, dict] | None = None
        prefix = kind.prefix
        snapshot = store.range(prefix, prefix_end(prefix))
        for kv in snapshot.kvs:
            self.objects[kv.key] = decode(kv)
        self.revision = snapshot.revision
        self.changed_revision = snapshot.revision
        """The revision of the latest change to an object of this kind. ``revision`` also moves on with the
        store at every new watch and bookmark, so only this one tells whether the objects changed."""
        self.oldest_revision = snapshot.revision
        """A watch can start from any resourceVersion >= this: every later event is in the window."""
        self._watch = store.watch(prefix, prefix_end(prefix), start_revision=snapshot.revision + 1,
                                  prev_kv=True, callback=self._on_events)

    def expect(self, value: bytes | None, obj: dict | None) -> None:
        """The next write of exactly ``value`` (the same bytes object) decodes to ``obj``: frozen, without its
        resourceVersion, never shown to anyone yet. Storage says so for a write it encoded from such an object;
        a store that hands back other bytes (a real etcd) gets them decoded as usual."""
        self._expected = (value, obj) if value is not None else None

    # -- following the store ----------------------------------------------------
    def _on_events(self, events: list[Event]) -> None:
        for event in events:
            key = event.kv.key
            revision = event.kv.mod_revision
            if event.type == "PUT":
                expected = self._expected
                if expected is not None and expected[0] is event.kv.value:
                    obj = expected[1]           # what decoding these very bytes gives (``expect``)
                    dict.__setitem__(obj["metadata"], "resourceVersion", str(revision))
                elif self.watched(key):
                    obj = decode(event.kv)
                else:
                    obj = _Encoded(event.kv.value, str(revision))
                objects = self.objects
                prev = objects.data.get(key)
                if prev is None:
                    objects[key] = obj
                else:
                    objects.data[key] = obj     # a key already indexed: only its object changes
                kind = "ADDED" if event.kv.create_revision == revision else "MODIFIED"
                cache_event = CacheEvent(kind, key, obj, prev, revision)
            else:
                prev = self.objects.pop(key, None)
                prev_kv = event.prev_kv
                if prev_kv is not None and not self.watched(key):
                    # What thawing prev, setting its resourceVersion and freezing would give: its bytes
                    # decoded at this revision (prev_kv holds the bytes prev was decoded from).
                    if prev is None:
                        prev = _Encoded(prev_kv.value, str(prev_kv.mod_revision))
                    cache_event = CacheEvent("DELETED", key, _Encoded(prev_kv.value, str(revision)), prev, revision)
                else:
                    if prev is None and prev_kv is not None:
                        prev = decode(prev_kv)
                    if prev is None:
                        continue
                    if type(prev) is _Encoded:
                        prev = prev.object()
                    gone = thaw(prev)
                    gone["metadata"]["resourceVersion"] = str(revision)
                    cache_event = CacheEvent("DELETED", key, freeze(gone), prev, revision)
            window = self.events                # the window of recent events (evicting the oldest beyond ``capacity``)
            window.append(cache_event)
            if len(window) > self.capacity:
                self.oldest_revision = window.popleft().revision
            self.revision = self.changed_revision = revision
            for watcher in tuple(self.watchers):
                watcher.offer(cache_event)

    def resync_revision(self) -> None:
        """Catch up the cache revision with the store (writes to other kinds move it too)."""
        self.revision = max(self.revision, self.store.revision)

    def watched(self, key: str) -> bool:
        """Whether some watcher's prefix holds ``key``: a change of it would be offered to that watcher now."""
        for watcher in self.watchers:
            if key.startswith(watcher.prefix):
                return True
        return False

    # -- reading ----------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        obj = self.objects.data.get(key)
        if type(obj) is _Encoded:
            obj = self.objects.data[key] = obj.object()
        return obj

    def list(self, prefix: str, matcher: Matcher | None = None) -> list[dict]:
        """Current objects under ``prefix`` in key order, filtered by ``matcher``."""
        objects = self.objects
        if not objects:
            return []
        start = objects.bisect_left(prefix)
        stop = objects.bisect_left(prefix_end(prefix))
        if start >= stop:
            return []
        found = [obj.object() if type(obj) is _Encoded else obj for obj in objects.values_between(start, stop)]
        if matcher is None:
            return found
        return [obj for obj in found if matcher(obj)]

    # -- watching ---------------------------------------------------------------
    def watch(self, prefix: str, matcher: Matcher | None, handler: Handler, *, resource_version: str | None,
              delay: float, bookmarks: bool, observer: Handler | None = None) -> CacheWatcher:
        """Start a watch. ``resource_version`` None or "0": current state as ADDED, then changes.

        A number: every change after that revision. Too old: one ERROR (410) event.
        """
        self.resync_revision()
        watcher = CacheWatcher(self, prefix, matcher, handler, delay=delay, bookmarks=bookmarks, observer=observer)
        if resource_version in (None, "", "0"):
            for obj in self.list(prefix, matcher):
                watcher._queue("ADDED", obj)
        else:
            since = int(resource_version)
            if since < self.oldest_revision:
                watcher.error(too_old_resource_version(since, self.oldest_revision + 1).status)
                return watcher
            window = self.events
            # The window is in revision order: start at the first event after ``since`` (the cacher's
            # binary search), so an informer's re-watch every 5-10 minutes costs what it replays, not the window.
            newer = len(window) - bisect_right(window, since, key=_revision_of)
            for event in reversed(list(islice(reversed(window), newer))):
                watcher.offer(event)
        self.watchers.append(watcher)
        if bookmarks:
            self._ensure_bookmarks(watcher._next_bookmark)
        return watcher

    def _remove(self, watcher: CacheWatcher) -> None:
        if watcher in self.watchers:
            self.watchers.remove(watcher)

    def _ensure_bookmarks(self, when: float) -> None:
        """Fire at ``when`` at the latest: each watcher gets its bookmark on its own schedule."""
        timer = self._bookmark_timer
        if timer is not None and not timer.cancelled and timer.when <= when:
            return
        if timer is not None:
            timer.cancel()
        self._bookmark_timer = self.loop.call_at(when, self._bookmarks, label=f"bookmarks {self.kind.plural}")

    def _bookmarks(self) -> None:
        self._bookmark_timer = None
        self.resync_revision()
        wanting = [watcher for watcher in self.watchers if watcher.bookmarks]
        for watcher in wanting:
            watcher.maybe_bookmark(self.revision)
        if wanting:
            self._ensure_bookmarks(min(watcher._next_bookmark for watcher in wanting))

    def compacted(self, revision: int) -> None:
        """Forget events at or below ``revision`` (the store compacted them)."""
        while self.events and self.events[0].revision <= revision:
            self.oldest_revision = self.events.popleft().revision
        self.oldest_revision = max(self.oldest_revision, revision)

    def stop(self) -> None:
        self._watch.cancel()
        for watcher in tuple(self.watchers):
            watcher.stop()
        if self._bookmark_timer is not None:
            self._bookmark_timer.cancel()

