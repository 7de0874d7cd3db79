"""The simulation kernel: virtual time, ordering, determinism, the real-time driver."""

import threading

import pytest

from engine.sim import Loop, RealtimeDriver
from engine.sim import loop as loop_module


def test_timers_fire_in_time_order_and_ties_keep_insertion_order():
    loop = Loop()
    fired = []
    loop.call_at(2.0, fired.append, "b")
    loop.call_at(1.0, fired.append, "a")
    loop.call_at(2.0, fired.append, "c")
    loop.call_soon(fired.append, "now")
    loop.run_until(10)
    assert fired == ["now", "a", "b", "c"]
    assert loop.now == 10


def test_the_clock_stands_at_each_timer_while_it_runs():
    loop = Loop()
    seen = []
    loop.call_later(1.5, lambda: seen.append(loop.now))
    loop.call_later(0.25, lambda: seen.append(loop.now))
    loop.run_for(5)
    assert seen == [0.25, 1.5]


def test_run_until_stops_before_later_timers_and_leaves_them_pending():
    loop = Loop()
    fired = []
    loop.call_at(1, fired.append, 1)
    loop.call_at(3, fired.append, 3)
    loop.run_until(2)
    assert fired == [1] and loop.now == 2 and loop.pending() == 1
    loop.run_until(3)
    assert fired == [1, 3]


def test_a_cancelled_timer_never_fires():
    loop = Loop()
    fired = []
    timer = loop.call_later(1, fired.append, "x")
    timer.cancel()
    loop.run_for(2)
    assert fired == [] and loop.pending() == 0


def test_callbacks_can_schedule_more_work_at_the_same_time():
    loop = Loop()
    fired = []

    def first():
        fired.append("first")
        loop.call_soon(fired.append, "second")

    loop.call_at(1, first)
    loop.call_at(1, fired.append, "already-due")
    loop.run_until(1)
    assert fired == ["first", "already-due", "second"]


def test_step_fires_exactly_one_event():
    loop = Loop()
    fired = []
    loop.call_at(5, fired.append, 1)
    loop.call_at(6, fired.append, 2)
    assert loop.step() and fired == [1] and loop.now == 5
    assert loop.step() and fired == [1, 2]
    assert not loop.step()


@pytest.mark.parametrize("seed", [0, 1, 42], ids=lambda s: f"seed {s} replays the same history")
def test_same_seed_same_history(seed):
    def simulate():
        loop = Loop(seed)
        values = []

        def tick(n):
            values.append((loop.now, loop.random.random()))
            if n:
                loop.call_later(loop.random.expovariate(1.0), tick, n - 1)
        for worker in range(3):
            loop.call_later(worker * 0.1, tick, 20)
        loop.run_for(100)
        return values, loop.history
    assert simulate() == simulate()


def test_different_seeds_give_different_randomness():
    assert Loop(1).random.random() != Loop(2).random.random()


def test_work_from_another_thread_runs_on_the_loop_in_order():
    loop = Loop()
    ran = []
    thread = threading.Thread(target=lambda: [loop.call_soon_threadsafe(ran.append, i) for i in range(3)])
    thread.start()
    thread.join()
    assert ran == []
    loop.run_for(0)
    assert ran == [0, 1, 2]


def test_the_realtime_driver_runs_submitted_work_on_its_thread_and_advances_virtual_time():
    loop = Loop()
    driver = RealtimeDriver(loop, speed=1000.0, tick=0.001)
    driver.start()
    try:
        names = driver.call(lambda: threading.current_thread().name)
        assert names == "engine-realtime"
        first = driver.call(lambda: loop.now)
        # wait for virtual time to move on, by asking the loop (never sleeping in the test)
        later = first
        for _ in range(10_000):
            later = driver.call(lambda: loop.now)
            if later > first:
                break
        assert later > first
    finally:
        driver.stop()
    assert not driver.running


def test_an_exception_in_submitted_work_reaches_the_caller():
    loop = Loop()
    driver = RealtimeDriver(loop, speed=1.0)
    driver.start()
    try:
        with pytest.raises(ZeroDivisionError):
            driver.call(lambda: 1 / 0)
    finally:
        driver.stop()


def test_the_history_keeps_the_newest_events_and_the_count_of_all(monkeypatch):
    monkeypatch.setattr(loop_module, "HISTORY_CAPACITY", 5)
    loop = Loop()
    for index in range(8):
        loop.call_at(float(index), lambda: None, label=f"event {index}")
    loop.run_until(10)
    assert [label for _, _, label in loop.history] == [f"event {index}" for index in range(3, 8)]
    assert loop.fired == 8
