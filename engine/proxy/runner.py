"""BoundedFrequencyRunner (``pkg/util/async``): how often kube-proxy may rewrite the rules.

kube-proxy never programs on every event. ``run()`` asks for a sync; the
runner runs the function at once if its token bucket allows (a burst of 2,
refilled one token per ``min_interval``: ``--iptables-min-sync-period``,
1 s), otherwise as soon as a token is due, so a storm of endpoint changes
costs one sync per second. It also runs at least every ``max_interval``
and ``retry_after`` schedules a retry after a failed sync. All on the
virtual clock; ``stop()`` cancels what is scheduled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from engine.sim.loop import Loop, Timer


class BoundedFrequencyRunner:
    def __init__(self, name: str, function: Callable[[], None], loop: "Loop", min_interval: float,
                 max_interval: float, burst: int = 2) -> None:
        self.name = name
        self.function = function
        self.loop = loop
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = loop.now
        self._pending: "Timer | None" = None
        self._periodic: "Timer | None" = None
        self.runs = 0
        self.running = False

    def start(self) -> None:
        self.running = True
        self._schedule_periodic()

    def stop(self) -> None:
        self.running = False
        for timer in (self._pending, self._periodic):
            if timer is not None:
                timer.cancel()
        self._pending = self._periodic = None

    def run(self) -> None:
        """Ask for a run: now if the bucket allows, else when the next token is due (never twice queued)."""
        if not self.running or self._pending is not None:
            return
        self._refill()
        delay = 0.0 if self._tokens >= 1 or self.min_interval <= 0 else (1 - self._tokens) * self.min_interval
        self._pending = self.loop.call_later(delay, self._fire, label=f"{self.name}")

    def retry_after(self, seconds: float) -> None:
        if self.running and self._pending is None:
            self._pending = self.loop.call_later(seconds, self._fire, label=f"{self.name} retry")

    def _refill(self) -> None:
        if self.min_interval > 0:
            elapsed = self.loop.now - self._stamp
            self._tokens = min(float(self.burst), self._tokens + elapsed / self.min_interval)
        self._stamp = self.loop.now

    def _fire(self) -> None:
        self._pending = None
        if not self.running:
            return
        self._refill()
        self._tokens = max(0.0, self._tokens - 1)
        self.runs += 1
        self._schedule_periodic()
        self.function()

    def _schedule_periodic(self) -> None:
        if self._periodic is not None:
            self._periodic.cancel()
        if self.running and self.max_interval > 0:
            self._periodic = self.loop.call_later(self.max_interval, self.run, label=f"{self.name} periodic")
