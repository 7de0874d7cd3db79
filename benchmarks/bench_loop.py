"""The simulation kernel (engine/sim/loop.py): how fast the event loop fires timers.

Two workloads:

* one-shot timers: 100,000 callbacks at distinct random virtual times, fired
  by one `run_until`; the loop's raw events per second of wall time.
* periodic timers: 10,000 timers that re-arm themselves every 10 s (the
  kubelet's node-status-update-frequency, so think of 10,000 kubelets' status
  loops), run for 100 virtual seconds; how many virtual seconds the loop gets
  through per wall second, and the events per wall second that costs.

Each figure is the median of three runs.
"""

from __future__ import annotations

import statistics
import time

from engine.sim import Loop

ONE_SHOT_TIMERS = 100_000
PERIODIC_TIMERS = 10_000
PERIOD = 10.0
PERIODIC_VIRTUAL_SECONDS = 100.0
REPEATS = 3


def _one_shot() -> float:
    loop = Loop(seed=0)
    fired = 0

    def callback() -> None:
        nonlocal fired
        fired += 1

    for _ in range(ONE_SHOT_TIMERS):
        loop.call_at(loop.random.uniform(0.0, 1000.0), callback)
    started = time.perf_counter()
    loop.run_until(1000.0)
    elapsed = time.perf_counter() - started
    assert fired == ONE_SHOT_TIMERS, f"fired {fired} of {ONE_SHOT_TIMERS} timers"
    return fired / elapsed


def _periodic() -> tuple[float, float]:
    loop = Loop(seed=0)
    fired = 0

    def tick() -> None:
        nonlocal fired
        fired += 1
        loop.call_later(PERIOD, tick)

    for _ in range(PERIODIC_TIMERS):
        loop.call_later(loop.random.uniform(0.0, PERIOD), tick)
    started = time.perf_counter()
    loop.run_for(PERIODIC_VIRTUAL_SECONDS)
    elapsed = time.perf_counter() - started
    expected = PERIODIC_TIMERS * PERIODIC_VIRTUAL_SECONDS / PERIOD
    assert abs(fired - expected) <= PERIODIC_TIMERS, f"fired {fired}, expected about {expected:.0f}"
    return PERIODIC_VIRTUAL_SECONDS / elapsed, fired / elapsed


def run() -> list[tuple[str, float, str]]:
    one_shot = statistics.median(_one_shot() for _ in range(REPEATS))
    periodic = [_periodic() for _ in range(REPEATS)]
    virtual_per_wall = statistics.median(speed for speed, _ in periodic)
    events_per_wall = statistics.median(rate for _, rate in periodic)
    return [
        (f"{ONE_SHOT_TIMERS:,} one-shot timers: events fired", one_shot, "events/s"),
        (f"{PERIODIC_TIMERS:,} periodic timers (every {PERIOD:g} s): virtual time", virtual_per_wall, "virtual s / wall s"),
        (f"{PERIODIC_TIMERS:,} periodic timers (every {PERIOD:g} s): events fired", events_per_wall, "events/s"),
    ]
