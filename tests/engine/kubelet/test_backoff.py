"""flowcontrol.Backoff as the kubelet uses it: CrashLoopBackOff's 10 s doubling to 300 s, forgotten after 10 min."""

from __future__ import annotations

import pytest

from engine.kubelet.backoff import Backoff, backoff_delay


@pytest.mark.parametrize("steps, delay", [(0, 10), (1, 20), (2, 40), (3, 80), (4, 160), (5, 300), (6, 300), (40, 300)],
                         ids=lambda value: str(value))
def test_the_delay_doubles_from_ten_seconds_up_to_five_minutes(steps, delay):
    assert backoff_delay(steps) == delay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_first_crash_restarts_at_once_and_later_ones_wait_longer_each_time():
    clock = Clock()
    backoff = Backoff(clock)
    key = "uid_web"
    finished = 5.0
    clock.now = 5.5
    assert not backoff.is_in_backoff_since(key, finished)      # no history: restart now
    backoff.next(key, finished)
    assert backoff.get(key) == 10
    finished = clock.now = 8.0
    assert backoff.is_in_backoff_since(key, finished)
    assert backoff.retry_at(key, finished) == 18.0
    clock.now = 18.0
    assert not backoff.is_in_backoff_since(key, finished)
    backoff.next(key, finished)
    assert backoff.get(key) == 20


def test_the_history_is_forgotten_when_the_container_ran_for_twice_the_cap():
    clock = Clock()
    backoff = Backoff(clock)
    for _ in range(6):
        backoff.next("k", clock.now)
        clock.now += 1
    assert backoff.get("k") == 300
    clock.now += 601
    assert not backoff.is_in_backoff_since("k", clock.now)
    backoff.next("k", clock.now)
    assert backoff.get("k") == 10


def test_a_lab_can_plug_its_own_delay_function_in():
    clock = Clock()
    backoff = Backoff(clock, delay=lambda steps: 1.0 + steps)
    backoff.next("k", 0.0)
    backoff.next("k", 0.0)
    assert backoff.get("k") == 2.0


def test_the_image_puller_measures_from_the_last_failed_pull():
    clock = Clock()
    backoff = Backoff(clock)
    backoff.next("img", clock.now)
    clock.now = 9.9
    assert backoff.is_in_backoff_since_update("img", clock.now)
    clock.now = 10.0
    assert not backoff.is_in_backoff_since_update("img", clock.now)
    assert backoff.retry_after_update("img") == 10.0


@pytest.mark.parametrize("start", [12.3, 181.815, 0.1])
def test_back_off_ends_exactly_at_the_retry_time_it_names(start):
    """(12.3 + 20) - 12.3 < 20 in floats: a worker woken at retry time must not find itself still backing off
    (a DaemonSet surge pod in ImagePullBackOff once spun forever at one virtual time that way)."""
    clock = Clock()
    backoff = Backoff(clock, delay=lambda steps: 20.0)
    clock.now = start
    backoff.next("img", clock.now)
    backoff.next("crash", clock.now)
    clock.now = backoff.retry_after_update("img")
    assert not backoff.is_in_backoff_since_update("img", clock.now)
    clock.now = backoff.retry_at("crash", start)
    assert not backoff.is_in_backoff_since("crash", start)
