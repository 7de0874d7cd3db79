"""The one etcd watch stream behind an ``EtcdStore``: a reader thread that queues each revision's events.

etcd's own gRPC proxy and the API server's watch cache both open one watch on a whole key range and fan it
out locally. ``WatchFeed`` is that one watch for ``EtcdStore``: it watches every key under ``prefix`` from a
revision on, with prev_kv and progress notifications, and its daemon thread only decodes and queues:

    feed = WatchFeed(endpoint, prefix, start_revision, on_arrival=callback)
    feed.wait_for(revision, timeout)    # block until every revision up to ``revision`` is queued (or proven empty)
    feed.pop()                          # the next queued (revision, events), oldest first, or None
    feed.close()

Promises: revisions are queued in order, each once, with its events in the order etcd made them (keys with
``prefix`` stripped); ``seen`` only grows, from events or from a progress notification (which etcd sends a
synced watcher after every event before it, so it proves nothing older is still coming). When the stream
breaks (a restarted server) the thread reopens it from ``seen + 1`` until closed; a stream cancelled by a
compaction cannot resume and makes ``wait_for`` raise. ``on_arrival`` is called from the reader thread
(``EtcdStore`` passes ``loop.call_soon_threadsafe``); nothing else here touches the caller's state.

``server_history`` reads past events a feed started too late to see, from a second, short-lived stream.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from engine.store.etcd_client import EtcdUnavailable, WatchStream, decode_kv, encode_key, header_revision
from engine.store.types import CompactedError, Event, KeyValue, StoreError, prefix_end

RECONNECT_DELAY = 0.2
"""Seconds between attempts to reopen a broken stream."""


def decode_event(raw: dict, prefix: str) -> Event:
    """An ``mvccpb.Event`` from its JSON, keys relative to ``prefix``."""
    def relative(data: dict) -> KeyValue:
        kv = decode_kv(data)
        return KeyValue(kv.key[len(prefix):], kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)

    previous = raw.get("prev_kv")
    return Event("DELETE" if raw.get("type") == "DELETE" else "PUT", relative(raw.get("kv", {})),
                 relative(previous) if previous else None)


def _key_space(prefix: str) -> tuple[str, str]:
    return (prefix, prefix_end(prefix)) if prefix else ("\0", "\0")


class WatchFeed:
    """One watch on every key under ``prefix`` from ``start_revision``, read by a daemon thread."""

    def __init__(self, endpoint: str, prefix: str, start_revision: int, *, timeout: float = 10.0,
                 on_arrival: Callable[[], None] | None = None) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        self.timeout = timeout
        self._on_arrival = on_arrival
        self._cond = threading.Condition()
        self._arrived: deque[tuple[int, list[Event]]] = deque()
        self.seen = start_revision - 1   # every revision up to this one is queued (or had no event here)
        self.failure: StoreError | None = None
        self._closed = False
        self._stream = self._open(start_revision)
        self._reader = threading.Thread(target=self._read, name=f"etcd-watch {endpoint}{prefix}", daemon=True)
        self._reader.start()

    def wait_for(self, revision: int, timeout: float) -> bool:
        """Block until ``seen >= revision``; False when ``timeout`` runs out. Raises once the stream is dead."""
        with self._cond:
            reached = self._cond.wait_for(lambda: self.seen >= revision or self.failure is not None, timeout)
            failure = self.failure
        if failure is not None:
            raise StoreError(f"the watch stream of {self.endpoint} ended: {failure}") from failure
        return bool(reached)

    def pop(self) -> tuple[int, list[Event]] | None:
        with self._cond:
            return self._arrived.popleft() if self._arrived else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._stream.close()
        self._reader.join(timeout=5)

    # -- the reader thread ---------------------------------------------------------
    def _open(self, start: int) -> WatchStream:
        key, end = _key_space(self.prefix)
        return WatchStream(self.endpoint, {"key": encode_key(key), "range_end": encode_key(end),
                                           "start_revision": start, "prev_kv": True, "progress_notify": True},
                           timeout=self.timeout)

    def _read(self) -> None:
        stream = self._stream
        while True:
            try:
                for message in stream.read():
                    if message.get("canceled"):
                        raise CompactedError(self.seen + 1, int(message.get("compact_revision", 0)))
                    self._queue(message)
            except CompactedError as error:
                stream.close()
                with self._cond:
                    self.failure = error
                    self._cond.notify_all()
                return
            except StoreError:
                pass                     # a broken stream: reopen it below
            stream.close()
            while True:
                with self._cond:
                    if not self._closed:
                        self._cond.wait(RECONNECT_DELAY)
                    if self._closed:
                        return
                    resume = self.seen + 1
                try:
                    stream = self._stream = self._open(resume)
                    break
                except StoreError:
                    continue

    def _queue(self, message: dict) -> None:
        batches: dict[int, list[Event]] = {}
        for raw in message.get("events", []):
            event = decode_event(raw, self.prefix)
            batches.setdefault(event.kv.mod_revision, []).append(event)
        with self._cond:
            for revision in sorted(batches):
                if revision > self.seen:
                    self._arrived.append((revision, batches[revision]))
                    self.seen = revision
            if not batches and not message.get("created"):      # a progress notification
                self.seen = max(self.seen, header_revision(message))
            self._cond.notify_all()
        if batches and self._on_arrival is not None:
            self._on_arrival()


def server_history(endpoint: str, prefix: str, key: str, range_end: str | None, start: int, stop: int, *,
                   timeout: float = 10.0) -> list[tuple[int, list[Event]]]:
    """The events of ``[key, range_end)`` (under ``prefix``) at revisions ``start`` to ``stop``, from the server.

    Every revision after the first writes something somewhere, so a watch of the whole key space from
    ``start`` reaches ``stop`` with an event, or, past the end of history, with a progress notification.
    """
    if stop <= 1 or start > stop:
        return []
    stream = WatchStream(endpoint, {"key": encode_key("\0"), "range_end": encode_key("\0"), "start_revision": start,
                                    "prev_kv": True, "progress_notify": True}, timeout=timeout, idle_timeout=timeout)
    found: dict[int, list[Event]] = {}
    deadline = time.monotonic() + timeout
    late = EtcdUnavailable(f"{endpoint}: history up to revision {stop} did not arrive within {timeout} s")
    try:
        for message in stream.read():
            if message.get("compact_revision"):
                raise CompactedError(start, int(message["compact_revision"]))
            raws = message.get("events", [])
            for raw in raws:
                if not decode_kv(raw.get("kv", {})).key.startswith(prefix):
                    continue
                event = decode_event(raw, prefix)
                if event.kv.mod_revision <= stop and _in_range(event.kv.key, key, range_end):
                    found.setdefault(event.kv.mod_revision, []).append(event)
            last = int(raws[-1]["kv"].get("mod_revision", 0)) if raws else header_revision(message)
            if (raws or not message.get("created")) and last >= stop:
                break
            if time.monotonic() > deadline:
                raise late
        else:
            raise late
    finally:
        stream.close()
    return sorted(found.items())


def _in_range(key: str, start: str, range_end: str | None) -> bool:
    if range_end is None:
        return key == start
    return key >= start and (range_end == "\0" or key < range_end)
