"""CrashLoopBackOff and ImagePullBackOff: client-go's ``flowcontrol.Backoff``, keyed per container or image.

The kubelet restarts a crashed container at once the first time; after that
it waits 10 s, then 20 s, 40 s ... up to 300 s between restarts, and forgets
the whole history once a container has run for twice the cap (10 minutes)
without crashing. The same machinery spaces image pulls that keep failing.

Upstream (``kuberuntime_manager.go: doBackOff`` over ``flowcontrol.Backoff``):
    is_in_backoff_since(key, finished_at): the entry exists, has not expired,
        and ``now - finished_at < backoff``: too early to restart;
    next(key, event_time): the entry is new or expired -> the initial delay,
        otherwise the delay grows; ``last_update`` becomes now;
    an entry expires when ``event_time - last_update > 2 * max``.

The growth itself is a pure function, ``backoff_delay(steps)``: the delay
after ``steps`` consecutive back-offs (0 -> 10 s, 1 -> 20 s, ... capped at
300 s). It is the seam a lab replaces (``ComponentContext.options
["restart_backoff"]``). This module never sleeps and never restarts
anything: it only answers "how long", and the pod worker asks again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine import flags

DelayFunction = Callable[[int], float]


def backoff_delay(steps: int, initial: float = flags.container_backoff_initial,
                  maximum: float = flags.container_backoff_max) -> float:
    """The delay after ``steps`` consecutive back-offs: ``initial * 2**steps``, capped at ``maximum``."""
    delay = initial
    for _ in range(steps):
        delay *= 2
        if delay >= maximum:
            return maximum
    return min(delay, maximum)


@dataclass
class _Entry:
    steps: int
    backoff: float
    last_update: float


class Backoff:
    """Per-key exponential back-off on the virtual clock (``flowcontrol.Backoff``)."""

    def __init__(self, now: Callable[[], float], delay: DelayFunction = backoff_delay,
                 maximum: float = flags.container_backoff_max) -> None:
        self._now = now
        self._delay = delay
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        """The current delay for ``key`` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        """Record a restart (or a failed pull): grow the delay, or start over if the entry expired."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            entry = _Entry(0, self._delay(0), 0.0)
            self._entries[key] = entry
        else:
            entry.steps += 1
            entry.backoff = self._delay(entry.steps)
        entry.last_update = self._now()

    def is_in_backoff_since(self, key: str, event_time: float) -> bool:
        """True while ``now - event_time`` is shorter than the key's delay (and the entry has not expired)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self._now() < event_time + entry.backoff     # the same sum as retry_at: see _expired's note

    def is_in_backoff_since_update(self, key: str, event_time: float) -> bool:
        """The image puller's test: too soon since the last failed pull."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return event_time < entry.last_update + entry.backoff   # the same sum as retry_after_update

    def retry_at(self, key: str, event_time: float) -> float:
        """When ``is_in_backoff_since(key, event_time)`` turns False."""
        entry = self._entries.get(key)
        return event_time + entry.backoff if entry else self._now()

    def retry_after_update(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.last_update + entry.backoff if entry else self._now()

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drop every key of one pod (its keys start with the pod's uid)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    # Upstream compares durations (``now.Sub(eventTime) < backoff``) in integer nanoseconds. In floats,
    # ``(t + b) - t < b`` can hold at the very time ``t + b`` that retry_at names, which would put a caller
    # waiting for retry_at back in back-off with nothing left to wait (a worker spinning at one virtual time).
    # So the tests compare against the same sum retry_at returns: in back-off exactly until that time.

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.maximum
