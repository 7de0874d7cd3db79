"""The simulation kernel: one virtual clock and one deterministic event loop.

Every component of the engine runs on this loop. Work is scheduled as timers
(``call_at`` / ``call_later`` / ``call_soon``) and the loop fires them in order
of (virtual time, sequence number); the ever-growing sequence number breaks
ties, so the same inputs always give the same history, event for event.

Interface:
    loop.now                      virtual time in seconds (float)
    loop.random                   the cluster's one seeded ``random.Random``
    loop.call_at(t, fn, *args)    run ``fn(*args)`` at virtual time ``t``
    loop.call_later(d, fn, *args) run it ``d`` seconds from now
    loop.call_soon(fn, *args)     run it now, after what is already due
    loop.call_soon_threadsafe()   the only entry point for other threads
    loop.run_until(t)             fire everything due up to ``t``; now == t after
    loop.run_for(seconds)         run_until(now + seconds)
    loop.step()                   fire exactly one event; False if none
    loop.history                  (time, seq, label) of the newest HISTORY_CAPACITY fired events, oldest first
    loop.fired                    how many events have fired, kept in the history or not

What it never does: run two callbacks at once, read the wall clock, or iterate
an unordered collection. Threads (the real-time driver, the HTTP front) hand
their work in through ``call_soon_threadsafe`` and the loop runs it in order.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable


HISTORY_CAPACITY = 100_000
"""How many fired events ``history`` keeps (the newest), as the audit log keeps its newest entries: a 100-node
cluster fires about 13,000 timers a virtual minute, so an hour's live demo would otherwise keep 800,000."""


@dataclass(eq=False, slots=True)
class Timer:
    """One scheduled callback. The heap orders timers by (when, seq), so the order is deterministic."""

    when: float
    seq: int
    callback: Callable[..., Any]
    args: tuple = ()
    label: str = ""
    cancelled: bool = False

    def cancel(self) -> None:
        """Stop this timer from firing; cancelling twice or after firing is harmless."""
        self.cancelled = True


def _label_of(callback: Callable[..., Any]) -> str:
    owner = getattr(callback, "__self__", None)
    name = getattr(callback, "__qualname__", None) or repr(callback)
    if owner is not None and not isinstance(owner, type):
        return f"{type(owner).__name__}.{getattr(callback, '__name__', name)}"
    return name


class Loop:
    """A virtual clock plus a heap of timers, fired one at a time in order."""

    def __init__(self, seed: int = 0, *, keep_history: bool = True) -> None:
        self.now: float = 0.0
        self.random = random.Random(seed)
        self.seed = seed
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._incoming: deque[tuple[Callable[..., Any], tuple]] = deque()
        self._incoming_lock = threading.Lock()
        self.keep_history = keep_history
        self.history: deque[tuple[float, int, str]] = deque(maxlen=HISTORY_CAPACITY)
        self.fired = 0

    # -- scheduling ---------------------------------------------------------
    def call_at(self, when: float, callback: Callable[..., Any], *args: Any, label: str = "") -> Timer:
        """Schedule ``callback(*args)`` at virtual time ``when`` (never in the past)."""
        timer = Timer(max(when, self.now), next(self._seq), callback, args, label)
        heapq.heappush(self._heap, (timer.when, timer.seq, timer))
        return timer

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any, label: str = "") -> Timer:
        """Schedule ``callback(*args)`` ``delay`` virtual seconds from now."""
        return self.call_at(self.now + max(0.0, delay), callback, *args, label=label)

    def call_soon(self, callback: Callable[..., Any], *args: Any, label: str = "") -> Timer:
        """Schedule ``callback(*args)`` at the current time, after everything already due."""
        return self.call_at(self.now, callback, *args, label=label)

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        """Hand work to the loop from another thread; it runs at the next step."""
        with self._incoming_lock:
            self._incoming.append((callback, args))

    # -- running ------------------------------------------------------------
    def _drain_incoming(self) -> None:
        if not self._incoming:
            return
        with self._incoming_lock:
            batch = list(self._incoming)
            self._incoming.clear()
        for callback, args in batch:
            self.call_soon(callback, *args)

    def next_time(self) -> float | None:
        """Virtual time of the next live timer, or None when nothing is scheduled."""
        self._drain_incoming()
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Fire the single next timer, advancing the clock to it. False if idle."""
        when = self.next_time()
        if when is None:
            return False
        timer = heapq.heappop(self._heap)[2]
        self.now = timer.when
        self._fire(timer)
        return True

    def _fire(self, timer: Timer) -> None:
        self.fired += 1
        if self.keep_history:
            self.history.append((timer.when, timer.seq, timer.label or _label_of(timer.callback)))
        timer.callback(*timer.args)

    def run_until(self, when: float) -> None:
        """Fire every timer due at or before ``when``, then set the clock to ``when``."""
        heap = self._heap
        while True:
            self._drain_incoming()
            if not heap:
                break
            timer = heap[0][2]
            if timer.cancelled:
                heapq.heappop(heap)
                continue
            if timer.when > when:
                break
            heapq.heappop(heap)
            self.now = timer.when
            self._fire(timer)
        if when > self.now:
            self.now = when

    def run_for(self, seconds: float) -> None:
        """Advance virtual time by ``seconds``, firing everything due on the way."""
        self.run_until(self.now + seconds)

    def pending(self) -> int:
        """How many live timers are waiting."""
        return sum(1 for _, _, timer in self._heap if not timer.cancelled) + len(self._incoming)
