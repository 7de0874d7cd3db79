"""Shared informers (client-go tools/cache: Reflector + sharedIndexInformer + SharedInformerFactory).

An informer keeps a local, read-only copy of one kind of object and tells
its handlers about every change, so that controllers never poll the API
server. Its parts, as in client-go:

- the ``Reflector`` lists the kind (``shared=True``: frozen objects, no copy),
  then watches from the list's resourceVersion with bookmarks. A watch ends
  every 5 to 10 virtual minutes (client-go's randomised watch timeout) and is
  re-opened from the last resourceVersion seen, without a relist. When the
  server answers a watch with ``410 Gone`` (the resourceVersion has left the
  watch cache's window or was compacted), the reflector backs off (0.8 s,
  doubling, jittered, at most 30 s) and relists;
- the ``Indexer`` (``engine.client.cache``) holds the objects, keyed
  ``namespace/name``, with a ``namespace`` index built in;
- handlers: ``on_add(obj)``, ``on_update(old, new)``, ``on_delete(obj)``.

Promises a handler may rely on:
- when a handler runs, the cache already holds the new state;
- events reach each handler in order; a handler registered after objects are
  cached gets a synthetic ``on_add`` for each of them first (on the next loop
  turn, as client-go delivers them asynchronously);
- a relist compares the fresh list with the cache: new objects are
  ``on_add``, every object still there is ``on_update(old, new)`` (even if
  unchanged, as client-go does: compare resourceVersions to skip), and an
  object gone from the list is ``on_delete(DeletedFinalStateUnknown(key,
  last_known))`` because its final state was never seen;
- a resync (``resync_period`` > 0) calls ``on_update(obj, obj)`` for every
  cached object, so level-triggered controllers re-check everything;
- ``has_synced`` is True once the first list has been delivered.

``on_change(callback)`` is the sample-controller shape: ``callback(obj)`` for
every add, update (the new object) and delete (the object or its tombstone).
It is meant for ``WorkQueue.add_key``, which turns either into its key.

An exception raised by a handler still lets every other handler see the
event, and is then re-raised (in client-go a panicking handler crashes the
component; here it stops ``loop.run`` with the traceback).

What an informer never does: write to the API server, hand out mutable
objects, or skip an event because its handler is slow (there is no slow).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from engine import flags
from engine.api.errors import ApiError
from engine.api.meta import object_key
from engine.client.cache import DeletedFinalStateUnknown, IndexFunc, Indexer
from engine.client.lister import Lister
from engine.sim.loop import Timer

if TYPE_CHECKING:
    from engine.api.kinds import Kind
    from engine.apiserver.watchcache import CacheWatcher
    from engine.client.client import Client

log = logging.getLogger(__name__)

MIN_WATCH_TIMEOUT = 300.0
"""The reflector's minWatchTimeout: each watch lasts between this and twice this (randomised)."""

BACKOFF_INITIAL = 0.8
BACKOFF_MAX = 30.0
BACKOFF_RESET = 120.0
"""The reflector's backoff manager: 800 ms doubling to 30 s, jitter 1.0, reset after 2 quiet minutes."""

AddHandler = Callable[[dict], Any]
UpdateHandler = Callable[[dict, dict], Any]
DeleteHandler = Callable[[Any], Any]


@dataclass(eq=False)
class HandlerRegistration:
    """One registered set of handlers (client-go's processorListener) with its pending notifications."""

    on_add: AddHandler | None = None
    on_update: UpdateHandler | None = None
    on_delete: DeleteHandler | None = None
    pending: deque[tuple[str, Any, Any]] = field(default_factory=deque)
    removed: bool = False

    def _deliver(self, kind: str, old: Any, new: Any) -> None:
        if kind == "add":
            if self.on_add is not None:
                self.on_add(new)
        elif kind == "update":
            if self.on_update is not None:
                self.on_update(old, new)
        elif self.on_delete is not None:
            self.on_delete(old)


class _Backoff:
    """client-go's exponential backoff manager on virtual time, jittered from the loop's random source."""

    def __init__(self, informer: "SharedInformer") -> None:
        self.informer = informer
        self.duration = BACKOFF_INITIAL
        self.last_start = float("-inf")

    def next(self) -> float:
        loop = self.informer.loop
        if loop.now - self.last_start > BACKOFF_RESET:
            self.duration = BACKOFF_INITIAL
        self.last_start = loop.now
        delay = self.duration
        self.duration = min(self.duration * 2.0, BACKOFF_MAX)
        return delay + loop.random.random() * delay


class Reflector:
    """Lists, then watches, one kind for an informer; relists after a 410 or any other failure."""

    def __init__(self, informer: "SharedInformer") -> None:
        self.informer = informer
        self.last_sync_resource_version = ""
        self.watcher: "CacheWatcher | None" = None
        self.lists = 0
        self.watches = 0
        self.last_error: ApiError | None = None
        """What the API server last refused (a 403 on list, a 410 on watch...), for a notebook to show."""
        self._timer: Timer | None = None
        self._backoff = _Backoff(informer)
        self._stopped = False

    # -- list and watch -------------------------------------------------------
    def list_and_watch(self) -> None:
        """List, deliver the list to the informer, then watch from the list's resourceVersion."""
        self._timer = None
        if self._stopped:
            return
        informer = self.informer
        try:
            listing = informer.client.list(informer.resource, informer.namespace,
                                           label_selector=informer.label_selector,
                                           field_selector=informer.field_selector, shared=True)
        except ApiError as error:
            self.last_error = error
            log.debug("%s: failed to list %s: %s", informer.name, informer.resource, error)
            self._retry_later()
            return
        self.lists += 1
        resource_version = listing["metadata"]["resourceVersion"]
        self.last_sync_resource_version = resource_version
        informer._replace(listing["items"], resource_version)
        self._watch()

    def _watch(self) -> None:
        self._timer = None
        if self._stopped:
            return
        informer = self.informer
        try:
            self.watcher = informer.client.watch(
                informer.resource, self._on_event, informer.namespace, label_selector=informer.label_selector,
                field_selector=informer.field_selector, resource_version=self.last_sync_resource_version,
                allow_bookmarks=True, delay=informer.delay)
        except ApiError as error:
            self.last_error = error
            log.debug("%s: failed to watch %s: %s", informer.name, informer.resource, error)
            self._retry_later()
            return
        self.watches += 1
        timeout = MIN_WATCH_TIMEOUT * (1.0 + informer.loop.random.random())
        self._timer = informer.loop.call_later(timeout, self._watch_timed_out, label=f"reflector {informer.name}")

    def _on_event(self, event: dict) -> None:
        type_, obj = event["type"], event["object"]
        if type_ == "ERROR":
            self._end_watch()
            self.last_error = ApiError.from_status(obj)
            log.debug("%s: watch of %s ended with: %s", self.informer.name, self.informer.resource,
                      obj.get("message"))
            self._retry_later()               # 410 Expired or not: back off, then relist
            return
        self.last_sync_resource_version = obj["metadata"]["resourceVersion"]
        if type_ != "BOOKMARK":
            self.informer._apply(type_, obj)

    def _watch_timed_out(self) -> None:
        """The server closed the watch at its timeout: watch again from where we were, no relist."""
        self._timer = None
        self._end_watch()
        self._watch()

    def _retry_later(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = self.informer.loop
        self._timer = loop.call_later(self._backoff.next(), self.list_and_watch,
                                      label=f"reflector {self.informer.name}")

    def _end_watch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # -- control --------------------------------------------------------------
    def disconnect(self, seconds: float = 0.0) -> None:
        """Fault injection: the watch connection drops; re-watch from the last resourceVersion after ``seconds``.

        Events that happen meanwhile are fetched on reconnection, unless they have
        left the server's window (or were compacted): then the server answers 410
        and the reflector relists, which is how an informer survives a partition.
        """
        self._end_watch()
        if not self._stopped:
            self._timer = self.informer.loop.call_later(seconds, self._watch,
                                                        label=f"reflector {self.informer.name}")

    def stop(self) -> None:
        self._stopped = True
        self._end_watch()


class SharedInformer:
    """A list-watch cache of one kind (optionally one namespace and selectors) and its handlers."""

    def __init__(self, client: "Client", resource: str, *, namespace: str | None = None,
                 label_selector: str | None = None, field_selector: str | None = None,
                 resync_period: float = flags.informer_resync_period, delay: float | None = None,
                 indexers: dict[str, IndexFunc] | None = None) -> None:
        self.client = client
        self.loop = client.loop
        self.kind: "Kind" = client.kind(resource)
        self.resource = self.kind.group_resource
        self.namespace = namespace if self.kind.namespaced else None
        self.label_selector = label_selector or None
        self.field_selector = field_selector or None
        self.resync_period = resync_period
        self.delay = delay
        self.name = self.kind.plural + (f"@{self.namespace}" if self.namespace else "")
        self.indexer = Indexer(indexers)
        self.lister = Lister(self.indexer)
        """A lister over this informer's cache (client-go: ``informer.Lister()``)."""
        self.reflector = Reflector(self)
        self.has_synced = False
        self.started = False
        self.stopped = False
        self._handlers: list[HandlerRegistration] = []
        self._resync_timer: Timer | None = None

    # -- handlers -------------------------------------------------------------
    def add_event_handler(self, on_add: AddHandler | None = None, on_update: UpdateHandler | None = None,
                          on_delete: DeleteHandler | None = None) -> HandlerRegistration:
        """Register handlers; objects already cached are delivered to ``on_add`` first, on the next loop turn."""
        registration = HandlerRegistration(on_add, on_update, on_delete)
        self._handlers.append(registration)
        if len(self.indexer):
            registration.pending.extend(("add", None, obj) for obj in self.indexer.list())
            self.loop.call_soon(self._drain, registration, label=f"informer {self.name}")
        return registration

    def on_change(self, callback: Callable[[Any], Any]) -> HandlerRegistration:
        """``callback(obj)`` on any add, update (the new object) or delete (object or tombstone)."""
        return self.add_event_handler(on_add=callback, on_update=lambda _old, new: callback(new),
                                      on_delete=callback)

    def remove_event_handler(self, registration: HandlerRegistration) -> None:
        registration.removed = True
        registration.pending.clear()
        if registration in self._handlers:
            self._handlers.remove(registration)

    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        self.indexer.add_indexers(indexers)

    def _drain(self, registration: HandlerRegistration) -> None:
        pending = registration.pending
        while pending and not registration.removed:
            kind, old, new = pending.popleft()
            try:
                registration._deliver(kind, old, new)
            except Exception:
                if pending:
                    self.loop.call_soon(self._drain, registration, label=f"informer {self.name}")
                raise

    def _distribute(self, kind: str, old: Any, new: Any) -> None:
        failure: Exception | None = None
        for registration in tuple(self._handlers):
            if registration.pending:          # still catching up: keep the order
                registration.pending.append((kind, old, new))
                continue
            try:
                registration._deliver(kind, old, new)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    # -- applying what the reflector saw --------------------------------------------
    def _apply(self, type_: str, obj: dict) -> None:
        """One watch event: update the cache, then tell the handlers (sharedIndexInformer.HandleDeltas)."""
        key = object_key(obj)
        if type_ == "DELETED":
            self.indexer.delete_key(key)
            self._distribute("delete", obj, None)
        else:
            old = self.indexer.put(key, obj)
            if old is not None:
                self._distribute("update", old, obj)
            else:
                self._distribute("add", None, obj)

    def _replace(self, items: list[dict], resource_version: str) -> None:
        """A (re)list: make the cache match ``items``, telling handlers what changed (DeltaFIFO.Replace)."""
        failure: Exception | None = None
        listed: set[str] = set()
        for obj in items:
            key = object_key(obj)
            listed.add(key)
            old = self.indexer.get_by_key(key)
            self.indexer.update(obj)
            try:
                if old is not None:
                    self._distribute("update", old, obj)
                else:
                    self._distribute("add", None, obj)
            except Exception as error:
                failure = failure or error
        for key in self.indexer.list_keys():
            if key in listed:
                continue
            last_known = self.indexer.get_by_key(key)
            self.indexer.delete_key(key)
            try:
                self._distribute("delete", DeletedFinalStateUnknown(key, last_known), None)
            except Exception as error:
                failure = failure or error
        self.indexer.resource_version = resource_version
        self.has_synced = True
        if failure is not None:
            raise failure

    def _resync(self) -> None:
        self._resync_timer = self.loop.call_later(self.resync_period, self._resync, label=f"resync {self.name}")
        for obj in self.indexer.list():
            self._distribute("update", obj, obj)

    # -- running ----------------------------------------------------------------
    def run(self) -> None:
        """Start listing and watching on the next loop turn (client-go: ``go informer.Run(stopCh)``)."""
        if self.started:
            return
        self.started = True
        self.loop.call_soon(self.reflector.list_and_watch, label=f"reflector {self.name}")
        if self.resync_period > 0:
            self._resync_timer = self.loop.call_later(self.resync_period, self._resync,
                                                      label=f"resync {self.name}")

    start = run

    def stop(self) -> None:
        """Stop watching; the cache keeps its last state and handlers hear nothing more."""
        self.stopped = True
        self.reflector.stop()
        if self._resync_timer is not None:
            self._resync_timer.cancel()

    @property
    def last_sync_resource_version(self) -> str:
        """The resourceVersion of the last list, watch event or bookmark applied."""
        return self.reflector.last_sync_resource_version

    def __repr__(self) -> str:
        return (f"SharedInformer({self.name!r}, objects={len(self.indexer)}, synced={self.has_synced}, "
                f"rv={self.last_sync_resource_version!r})")


class SharedInformerFactory:
    """One informer per (kind, namespace, selectors), shared by every part of a component.

    ``factory.informer("pods")`` or ``factory.pods`` returns the shared informer;
    ``factory.start()`` starts every informer asked for so far (call it again
    after asking for more, as in client-go); ``factory.synced`` is True when
    every informer asked for has delivered its first list. Waiting for that
    is the caller's business: run the loop (``Cluster.run``), never block.
    """

    def __init__(self, client: "Client", *, namespace: str | None = None,
                 resync_period: float = flags.informer_resync_period, delay: float | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self.resync_period = resync_period
        self.delay = delay
        self.informers: dict[tuple[str, str | None, str | None, str | None], SharedInformer] = {}

    def informer(self, resource: str, *, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None) -> SharedInformer:
        """The shared informer for ``resource`` (any name kubectl accepts), created on first use."""
        kind = self.client.kind(resource)
        namespace = (namespace or self.namespace) if kind.namespaced else None
        key = (kind.group_resource, namespace, label_selector or None, field_selector or None)
        informer = self.informers.get(key)
        if informer is None:
            informer = SharedInformer(self.client, resource, namespace=namespace, label_selector=label_selector,
                                      field_selector=field_selector, resync_period=self.resync_period,
                                      delay=self.delay)
            self.informers[key] = informer
        return informer

    def __getattr__(self, name: str) -> SharedInformer:
        if name.startswith("_"):
            raise AttributeError(name)
        kind = self.client.server.registry.find(name)
        if kind is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} and no resource is named so")
        return self.informer(name)

    def lister(self, resource: str) -> Lister:
        return self.informer(resource).lister

    def start(self) -> None:
        """Start every informer not yet started."""
        for informer in list(self.informers.values()):
            if not informer.started:
                informer.run()

    def stop(self) -> None:
        for informer in self.informers.values():
            informer.stop()

    @property
    def synced(self) -> bool:
        """True when every informer asked for so far has been started and has delivered its first list."""
        return all(informer.has_synced for informer in self.informers.values())

    def __repr__(self) -> str:
        return f"SharedInformerFactory({', '.join(i.name for i in self.informers.values())})"
