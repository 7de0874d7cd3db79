"""The scheduling queue (pkg/scheduler/backend/queue: PriorityQueue): activeQ, backoffQ, unschedulablePods.

Interface: ``add(pod)``, ``update(old, new)``, ``delete(pod)``, ``pop()`` (the
next pod to schedule, or None), ``done(key)``, ``add_unschedulable(entry,
cycle, error=False)`` for a pod that failed, ``move_all_to_active_or_backoff(event,
plugins)`` on a cluster event, and ``run()`` / ``stop()`` for the periodic flushes.

Promises, with the real defaults:
- activeQ pops the highest ``spec.priority`` first, then the earliest arrival
  (PrioritySort);
- a pod that failed waits out its backoff in backoffQ: 1 s after its first
  attempt, doubling per attempt, at most 10 s (podInitialBackoffSeconds,
  podMaxBackoffSeconds); backoffQ is flushed to activeQ every second;
- a pod found unschedulable waits in unschedulablePods until an event that
  could make it fit (a node added or changed, an assigned pod deleted ...)
  moves it back, to backoffQ while its backoff lasts, else to activeQ; if a
  move request came while the pod was being scheduled, it goes straight to
  backoffQ instead, so the event is not lost; a pod that failed for an error
  (not a plugin verdict) always goes to backoffQ;
- every 30 s, pods that have sat in unschedulablePods for 5 minutes are moved
  back anyway (podMaxInUnschedulablePodsDuration).
A pod is in at most one of the three. The queue never schedules: the
scheduler calls ``pop``.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from engine.scheduler.cache import pod_key

if TYPE_CHECKING:
    from engine.sim.loop import Loop, Timer

POD_INITIAL_BACKOFF = 1.0
POD_MAX_BACKOFF = 10.0
POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0
FLUSH_BACKOFF_PERIOD = 1.0
FLUSH_UNSCHEDULABLE_PERIOD = 30.0


@dataclass(eq=False)
class QueuedPodInfo:
    """A pod waiting to be scheduled, with what the queue needs to order it and to back it off."""

    pod: dict
    key: str
    timestamp: float                  # when it (re)entered the queue
    initial_attempt_timestamp: float | None = None
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    seq: int = 0

    @property
    def priority(self) -> int:
        return (self.pod.get("spec") or {}).get("priority") or 0


class SchedulingQueue:
    """PriorityQueue: three sub-queues, one pod in at most one of them."""

    def __init__(self, loop: "Loop", *, on_active: Callable[[], None] | None = None,
                 initial_backoff: float = POD_INITIAL_BACKOFF, max_backoff: float = POD_MAX_BACKOFF) -> None:
        self.loop = loop
        self.on_active = on_active
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self._active: list[tuple[int, float, int, QueuedPodInfo]] = []
        self._backoff: list[tuple[float, int, QueuedPodInfo]] = []
        self.where: dict[str, str] = {}                  # key -> "active" | "backoff" | "unschedulable" | "in-flight"
        self.entries: dict[str, QueuedPodInfo] = {}
        self.unschedulable: dict[str, QueuedPodInfo] = {}
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._seq = itertools.count()
        self._timers: list["Timer"] = []

    # -- running ---------------------------------------------------------------------
    def run(self) -> None:
        self._timers = [self.loop.call_later(FLUSH_BACKOFF_PERIOD, self._flush_backoff_tick, label="scheduler backoffQ"),
                        self.loop.call_later(FLUSH_UNSCHEDULABLE_PERIOD, self._flush_unschedulable_tick,
                                             label="scheduler unschedulablePods")]

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def _flush_backoff_tick(self) -> None:
        self._timers[0] = self.loop.call_later(FLUSH_BACKOFF_PERIOD, self._flush_backoff_tick,
                                               label="scheduler backoffQ")
        self.flush_backoff_completed()

    def _flush_unschedulable_tick(self) -> None:
        self._timers[1] = self.loop.call_later(FLUSH_UNSCHEDULABLE_PERIOD, self._flush_unschedulable_tick,
                                               label="scheduler unschedulablePods")
        self.flush_unschedulable_leftover()

    # -- sub-queues --------------------------------------------------------------------
    def _push_active(self, entry: QueuedPodInfo) -> None:
        entry.seq = next(self._seq)
        self.where[entry.key] = "active"
        self.entries[entry.key] = entry
        heapq.heappush(self._active, (-entry.priority, entry.timestamp, entry.seq, entry))
        if self.on_active is not None:
            self.on_active()

    def _push_backoff(self, entry: QueuedPodInfo) -> None:
        entry.seq = next(self._seq)
        self.where[entry.key] = "backoff"
        self.entries[entry.key] = entry
        heapq.heappush(self._backoff, (self.backoff_expiry(entry), entry.seq, entry))

    def _current(self, entry: QueuedPodInfo, queue: str) -> bool:
        return self.entries.get(entry.key) is entry and self.where.get(entry.key) == queue

    def backoff_duration(self, entry: QueuedPodInfo) -> float:
        duration = self.initial_backoff
        for _ in range(1, entry.attempts):
            duration *= 2
            if duration > self.max_backoff:
                return self.max_backoff
        return duration

    def backoff_expiry(self, entry: QueuedPodInfo) -> float:
        return entry.timestamp + self.backoff_duration(entry)

    def is_backing_off(self, entry: QueuedPodInfo) -> bool:
        return self.backoff_expiry(entry) > self.loop.now

    # -- what informers call -------------------------------------------------------------
    def add(self, pod: dict) -> None:
        key = pod_key(pod)
        if key in self.where:
            self.update(None, pod)
            return
        now = self.loop.now
        self._push_active(QueuedPodInfo(pod, key, now, initial_attempt_timestamp=None))

    def update(self, old: dict | None, pod: dict) -> None:
        key = pod_key(pod)
        where = self.where.get(key)
        if where is None:
            self.add(pod)
            return
        entry = self.entries[key]
        entry.pod = pod
        if where == "active" and old is not None and (old.get("spec") or {}).get("priority") != entry.priority:
            self._push_active(entry)
        elif where == "unschedulable" and old is not None and old.get("spec") != pod.get("spec"):
            # The pod itself changed: it may fit now.
            del self.unschedulable[key]
            if self.is_backing_off(entry):
                self._push_backoff(entry)
            else:
                self._push_active(entry)

    def delete(self, pod: dict) -> None:
        key = pod_key(pod)
        self.where.pop(key, None)
        self.entries.pop(key, None)
        self.unschedulable.pop(key, None)

    # -- what the scheduler calls ----------------------------------------------------------
    def pop(self) -> QueuedPodInfo | None:
        while self._active:
            _, _, _, entry = heapq.heappop(self._active)
            if not self._current(entry, "active"):
                continue
            self.where[entry.key] = "in-flight"
            entry.attempts += 1
            if entry.initial_attempt_timestamp is None:
                entry.initial_attempt_timestamp = self.loop.now
            self.scheduling_cycle += 1
            return entry
        return None

    def has_active(self) -> bool:
        return any(self._current(item[3], "active") for item in self._active)

    def done(self, key: str) -> None:
        """The pod was scheduled (or deleted): forget it."""
        if self.where.get(key) == "in-flight":
            del self.where[key]
            self.entries.pop(key, None)

    def add_unschedulable(self, entry: QueuedPodInfo, pod_scheduling_cycle: int, *, error: bool = False) -> None:
        """AddUnschedulableIfNotPresent: back to backoffQ or unschedulablePods after a failed attempt."""
        if self.where.get(entry.key) != "in-flight" or self.entries.get(entry.key) is not entry:
            return                          # deleted, or re-added, meanwhile
        entry.timestamp = self.loop.now
        if error or self.move_request_cycle >= pod_scheduling_cycle:
            self._push_backoff(entry)
        else:
            self.where[entry.key] = "unschedulable"
            self.unschedulable[entry.key] = entry

    def move_all_to_active_or_backoff(self, event: str, plugins: set[str] | None = None) -> int:
        """A cluster event that may help: move the pods it may help (those rejected by ``plugins``)."""
        moved = 0
        for key, entry in list(self.unschedulable.items()):
            if plugins is not None and entry.unschedulable_plugins and not (entry.unschedulable_plugins & plugins):
                continue
            del self.unschedulable[key]
            if self.is_backing_off(entry):
                self._push_backoff(entry)
            else:
                self._push_active(entry)
            moved += 1
        self.move_request_cycle = self.scheduling_cycle
        return moved

    def flush_backoff_completed(self) -> None:
        now = self.loop.now
        while self._backoff:
            expiry, _, entry = self._backoff[0]
            if not self._current(entry, "backoff"):
                heapq.heappop(self._backoff)
                continue
            if expiry > now:
                break
            heapq.heappop(self._backoff)
            self._push_active(entry)

    def flush_unschedulable_leftover(self) -> None:
        now = self.loop.now
        for key, entry in list(self.unschedulable.items()):
            if now - entry.timestamp > POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION:
                del self.unschedulable[key]
                if self.is_backing_off(entry):
                    self._push_backoff(entry)
                else:
                    self._push_active(entry)

    # -- views -------------------------------------------------------------------------------
    def pending_pods(self) -> dict[str, list[str]]:
        """Keys per sub-queue (activeQ in pop order), for views and tests."""
        active = [item[3].key for item in sorted(self._active) if self._current(item[3], "active")]
        backoff = [item[2].key for item in sorted(self._backoff, key=lambda i: (i[0], i[1]))
                   if self._current(item[2], "backoff")]
        return {"active": active, "backoff": backoff, "unschedulable": sorted(self.unschedulable)}

    def __len__(self) -> int:
        return len(self.where)
