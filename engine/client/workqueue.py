"""The work queue (client-go util/workqueue): where controllers keep the keys they still have to sync.

A controller's event handlers never do work themselves: they put the object's
``namespace/name`` key on a queue, and workers take keys off it and call
``sync(key)``. Three layers, as in client-go, all in one ``WorkQueue``:

- the basic queue: a FIFO of keys that de-duplicates. Its invariant, from
  client-go's ``Type``: a key is in ``dirty`` if it needs processing; it is in
  ``queue`` only if it is dirty and not being processed; it is in
  ``processing`` from ``get`` until ``done``. So a key added while queued is
  queued once, and a key added while it is being processed is queued again
  only when ``done(key)`` is called: no two workers ever hold the same key;
- the delaying queue: ``add_after(key, delay)`` adds the key after ``delay``
  virtual seconds; a key already waiting keeps the earlier of its two times;
- the rate-limited queue: ``add_rate_limited(key)`` waits as long as the rate
  limiter says (``DefaultControllerRateLimiter``: the larger of a per-key
  exponential backoff from 5 ms to 1000 s and an overall token bucket of
  10 qps with a burst of 100), ``forget(key)`` clears the key's failures and
  ``num_requeues(key)`` counts them.

``run_workers(queue, sync)`` is the controller loop around it: a key that
becomes available wakes an idle worker (``call_soon``), the worker calls
``sync(key)``; on success the key is forgotten, on an exception it is logged
at debug level and re-added rate-limited. Everything runs on the simulation
loop; ``get`` never blocks (it returns ``None`` when nothing is ready).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Protocol

from engine import flags
from engine.client.cache import deletion_handling_key
from engine.sim.loop import Loop, Timer

log = logging.getLogger(__name__)

Key = Hashable


# -- rate limiters (client-go util/workqueue/default_rate_limiters.go) ------------

class RateLimiter(Protocol):
    """How long a key should wait before it is retried."""

    def when(self, key: Key) -> float: ...          # the delay for this retry (and count it)
    def forget(self, key: Key) -> None: ...         # the key succeeded: start over next time
    def num_requeues(self, key: Key) -> int: ...    # failures counted so far


class ItemExponentialFailureRateLimiter:
    """Per-key backoff: ``base * 2**failures``, capped at ``max_delay``."""

    def __init__(self, base_delay: float = flags.workqueue_base_delay,
                 max_delay: float = flags.workqueue_max_delay) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.failures: dict[Key, int] = {}

    def when(self, key: Key) -> float:
        exponent = self.failures.get(key, 0)
        self.failures[key] = exponent + 1
        if exponent >= 1024:              # 2**exponent would overflow a float; Go caps the same way
            return self.max_delay
        return min(self.base_delay * math.pow(2, exponent), self.max_delay)

    def forget(self, key: Key) -> None:
        self.failures.pop(key, None)

    def num_requeues(self, key: Key) -> int:
        return self.failures.get(key, 0)


def refilled(tokens: float, last: float, now: float, qps: float, burst: int) -> tuple[float, float]:
    """A token bucket's ``(tokens, last)`` at ``now``: ``qps`` tokens a second added since ``last``, at most
    ``burst`` (for a bucket kept as its bare state, as the event correlator keeps its spam buckets)."""
    if now > last:
        return min(float(burst), tokens + (now - last) * qps), now
    return tokens, last


class TokenBucket:
    """golang.org/x/time/rate's Limiter on virtual time: ``qps`` tokens a second, at most ``burst``.

    The bucket starts full. ``reserve`` always takes a token, going into debt
    if need be, and says how long the caller must wait for it; ``try_accept``
    takes one only if one is there.
    """

    def __init__(self, loop: Loop, qps: float, burst: int) -> None:
        self.loop = loop
        self.qps = qps
        self.burst = burst
        self.tokens = float(burst)
        self.last = loop.now

    def _advance(self) -> None:
        self.tokens, self.last = refilled(self.tokens, self.last, self.loop.now, self.qps, self.burst)

    def reserve(self) -> float:
        self._advance()
        self.tokens -= 1.0
        return -self.tokens / self.qps if self.tokens < 0 else 0.0

    def try_accept(self) -> bool:
        self._advance()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class BucketRateLimiter:
    """An overall token bucket, the same for every key (it does not count per-key failures)."""

    def __init__(self, loop: Loop, qps: float = flags.workqueue_qps, burst: int = flags.workqueue_burst) -> None:
        self.bucket = TokenBucket(loop, qps, burst)

    def when(self, key: Key) -> float:
        return self.bucket.reserve()

    def forget(self, key: Key) -> None:
        pass

    def num_requeues(self, key: Key) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay any of its limiters asks for (every limiter is consulted, so each counts)."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, key: Key) -> float:
        return max(limiter.when(key) for limiter in self.limiters)

    def forget(self, key: Key) -> None:
        for limiter in self.limiters:
            limiter.forget(key)

    def num_requeues(self, key: Key) -> int:
        return max(limiter.num_requeues(key) for limiter in self.limiters)


def default_controller_rate_limiter(loop: Loop) -> MaxOfRateLimiter:
    """client-go's DefaultControllerRateLimiter: per-key 5 ms..1000 s backoff, overall 10 qps burst 100."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(), BucketRateLimiter(loop))


# -- the queue ---------------------------------------------------------------------

@dataclass
class QueueMetrics:
    """client-go's workqueue metrics that a learner can read: how much went through, how often retried."""

    adds: int = 0
    retries: int = 0
    gets: int = 0


@dataclass
class _Waiting:
    ready_at: float
    timer: Timer


class WorkQueue:
    """A de-duplicating, delaying, rate-limited FIFO of keys, on one simulation loop."""

    def __init__(self, loop: Loop, *, name: str = "", rate_limiter: RateLimiter | None = None) -> None:
        self.loop = loop
        self.name = name
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter(loop)
        self.metrics = QueueMetrics()
        # client-go's fields, in dicts (ordered sets) so iteration is deterministic.
        self._queue: list[Key] = []            # keys ready for a worker, in order; each also in _dirty
        self._head = 0                         # _queue[_head:] is the live part (amortised O(1) pops)
        self._dirty: dict[Key, None] = {}      # keys that need processing
        self._processing: dict[Key, None] = {} # keys a worker holds (between get and done)
        self._waiting: dict[Key, _Waiting] = {}  # keys added with a delay, not yet added
        self._shutting_down = False
        self._on_ready: list[Callable[[], None]] = []

    # -- the basic queue -----------------------------------------------------------
    def add(self, key: Key) -> None:
        """Mark ``key`` as needing processing; queue it unless it is queued or being processed."""
        if self._shutting_down or key in self._dirty:
            return
        self.metrics.adds += 1
        self._dirty[key] = None
        if key in self._processing:
            return                            # done(key) will queue it again
        self._push(key)

    def add_key(self, obj: dict) -> None:
        """Add the ``namespace/name`` key of an object (or of a delete tombstone): an event handler."""
        self.add(deletion_handling_key(obj))

    def get(self) -> Key | None:
        """The next key to process, now held by the caller until ``done(key)``; None if none is ready."""
        if self._head >= len(self._queue):
            return None
        key = self._queue[self._head]
        self._head += 1
        if self._head > 1024 and self._head * 2 > len(self._queue):
            del self._queue[:self._head]
            self._head = 0
        self.metrics.gets += 1
        self._processing[key] = None
        del self._dirty[key]
        return key

    def done(self, key: Key) -> None:
        """The caller has finished with ``key``; if it was added meanwhile, it is queued again now."""
        self._processing.pop(key, None)
        if key in self._dirty:
            self._push(key)

    def __len__(self) -> int:
        """Keys ready for a worker (not those being processed or still waiting out a delay)."""
        return len(self._queue) - self._head

    def len(self) -> int:
        return len(self)

    def shut_down(self) -> None:
        """Accept no more keys. Keys already queued can still be taken; delayed keys are dropped."""
        self._shutting_down = True
        for waiting in self._waiting.values():
            waiting.timer.cancel()
        self._waiting.clear()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def is_processing(self, key: Key) -> bool:
        return key in self._processing

    def keys(self) -> list[Key]:
        """The keys ready for a worker, in the order they will be handed out."""
        return self._queue[self._head:]

    def _push(self, key: Key) -> None:
        self._queue.append(key)
        for wake in tuple(self._on_ready):
            wake()

    # -- delaying --------------------------------------------------------------------
    def add_after(self, key: Key, delay: float) -> None:
        """Add ``key`` after ``delay`` virtual seconds (at once if ``delay <= 0``)."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready_at = self.loop.now + delay
        waiting = self._waiting.get(key)
        if waiting is not None:
            if waiting.ready_at <= ready_at:
                return                         # already due sooner: keep the earlier time
            waiting.timer.cancel()
        label = f"workqueue {self.name}" if self.name else "workqueue"
        timer = self.loop.call_at(ready_at, self._ready, key, label=label)
        self._waiting[key] = _Waiting(ready_at, timer)

    def _ready(self, key: Key) -> None:
        self._waiting.pop(key, None)
        self.add(key)

    def waiting(self) -> int:
        """Keys added with a delay that has not yet passed."""
        return len(self._waiting)

    # -- rate limiting ---------------------------------------------------------------
    def add_rate_limited(self, key: Key) -> None:
        """Add ``key`` once the rate limiter allows: after a failure, back off."""
        self.metrics.retries += 1
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: Key) -> None:
        """The key succeeded: its next failure starts from the base delay again."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: Key) -> int:
        return self.rate_limiter.num_requeues(key)

    def __repr__(self) -> str:
        return (f"WorkQueue({self.name!r}, ready={len(self)}, processing={len(self._processing)}, "
                f"waiting={len(self._waiting)})")


# -- the controller loop ------------------------------------------------------------

@dataclass
class Workers:
    """``workers`` loop-driven workers taking keys from ``queue`` and calling ``sync(key)``."""

    queue: WorkQueue
    sync: Callable[[str], Any]
    workers: int = 1
    max_retries: int | None = None
    """None (sample-controller): retry forever. A number: drop a key after that many failures."""
    idle: int = field(init=False)
    stopped: bool = field(init=False, default=False)
    errors: int = field(init=False, default=0)
    last_error: Exception | None = field(init=False, default=None)
    """The most recent exception a sync raised, for a notebook to show (it is also logged at debug)."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        self.idle = self.workers
        self._label = f"worker {self.queue.name}" if self.queue.name else "worker"
        self.queue._on_ready.append(self._wake)
        for _ in range(min(self.workers, len(self.queue))):
            self._wake()

    def _wake(self) -> None:
        if self.idle and not self.stopped:
            self.idle -= 1
            self.queue.loop.call_soon(self._work, label=self._label)

    def _work(self) -> None:
        key = None if self.stopped else self.queue.get()
        if key is None:
            self.idle += 1
            return
        try:
            self._process(key)
        finally:
            self.queue.done(key)
        self.queue.loop.call_soon(self._work, label=self._label)

    def _process(self, key: Key) -> None:
        try:
            self.sync(key)  # type: ignore[arg-type]
        except Exception as error:  # a sync error is a retry, as processNextWorkItem's handleErr
            self.errors += 1
            self.last_error = error
            if self.max_retries is not None and self.queue.num_requeues(key) >= self.max_retries:
                log.debug("%s: dropping %r out of the queue after %d retries: %s", self.queue.name, key,
                          self.queue.num_requeues(key), error)
                self.queue.forget(key)
                return
            log.debug("%s: error syncing %r, requeuing: %s", self.queue.name, key, error, exc_info=True)
            self.queue.add_rate_limited(key)
            return
        self.queue.forget(key)

    def stop(self) -> None:
        """Stop taking keys (a key being processed finishes; the queue itself is left as it is)."""
        self.stopped = True
        if self._wake in self.queue._on_ready:
            self.queue._on_ready.remove(self._wake)


def run_workers(queue: WorkQueue, sync: Callable[[str], Any], workers: int = 1, *,
                max_retries: int | None = None) -> Workers:
    """Start ``workers`` workers on ``queue`` (client-go: ``go wait.Until(c.runWorker, time.Second)``)."""
    return Workers(queue, sync, workers, max_retries)
