"""BoundedFrequencyRunner: a burst, then at most one run per min interval; a periodic run; stop."""

from __future__ import annotations

from engine.proxy.runner import BoundedFrequencyRunner
from engine.sim.loop import Loop


def test_two_runs_at_once_then_one_a_second_and_requests_in_between_coalesce() -> None:
    loop = Loop()
    times: list[float] = []
    runner = BoundedFrequencyRunner("sync", lambda: times.append(round(loop.now, 3)), loop, 1.0, 3600.0, burst=2)
    runner.start()
    for _ in range(2):
        runner.run()
        loop.run_for(0.001)
    for _ in range(5):
        runner.run()
    loop.run_for(3)
    assert times == [0.0, 0.001, 1.0]


def test_the_max_interval_runs_it_anyway_and_stop_cancels() -> None:
    loop = Loop()
    runs: list[float] = []
    runner = BoundedFrequencyRunner("sync", lambda: runs.append(loop.now), loop, 1.0, 30.0)
    runner.start()
    loop.run_for(61)
    assert runs == [30.0, 60.0]
    runner.stop()
    runner.run()
    loop.run_for(60)
    assert runs == [30.0, 60.0]
