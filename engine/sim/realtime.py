"""The real-time driver: ties the virtual clock to the wall clock.

Demos and the HTTP front need a cluster that lives in real time: a pod asked
for now should be Running a few wall seconds later. The driver owns one
thread that advances the loop so that virtual time follows wall time times
``speed``. Other threads never touch engine state; they ``submit`` a function
and wait for its result, which the loop runs between two timers, so the core
stays single-threaded.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Callable, TypeVar

from engine.sim.loop import Loop

T = TypeVar("T")


class RealtimeDriver:
    """Runs a ``Loop`` in a background thread at ``speed`` virtual seconds per wall second."""

    def __init__(self, loop: Loop, *, speed: float = 1.0, tick: float = 0.02) -> None:
        self.loop = loop
        self.speed = speed
        self.tick = tick
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def on_loop_thread(self) -> bool:
        """True when called from the driver's own thread (where engine state may be touched)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def start(self) -> None:
        """Start the driver thread (idempotent)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="engine-realtime", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the driver thread and wait for it; the loop keeps its state."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` on the loop thread; returns a future for its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # handed to the waiting thread, not lost
                future.set_exception(error)

        self.loop.call_soon_threadsafe(run)
        self._wake.set()
        return future

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Run ``fn(*args)`` on the loop and wait for the result (from another thread)."""
        if not self.running or self.on_loop_thread():
            return fn(*args)     # no other thread runs the loop: the caller may
        return self.submit(fn, *args).result(timeout=timeout)

    def _run(self) -> None:
        wall_start = time.monotonic()
        virtual_start = self.loop.now
        while not self._stop.is_set():
            target = virtual_start + (time.monotonic() - wall_start) * self.speed
            self.loop.run_until(max(target, self.loop.now))
            self._wake.wait(self.tick)
            self._wake.clear()
