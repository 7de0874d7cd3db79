"""The work queue: de-duplication, the processing invariant, delays, rate limiters and the worker loop."""

from __future__ import annotations

import pytest

from engine.client.cache import DeletedFinalStateUnknown
from engine.client.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    TokenBucket,
    WorkQueue,
    default_controller_rate_limiter,
    run_workers,
)
from engine.sim.loop import Loop


@pytest.fixture
def loop() -> Loop:
    return Loop(seed=0)


def drain(queue: WorkQueue) -> list:
    """Take every ready key, marking each done at once."""
    taken = []
    while (key := queue.get()) is not None:
        taken.append(key)
        queue.done(key)
    return taken


# -- the basic queue ------------------------------------------------------------

@pytest.mark.parametrize("steps, expected_order", [
    pytest.param(["add a", "add b", "add c"], ["a", "b", "c"],
                 id="keys come out in the order they went in"),
    pytest.param(["add a", "add b", "add a", "add a"], ["a", "b"],
                 id="a key added while it is already queued is queued once, in its first place"),
    pytest.param(["add a", "get a", "add a", "add b"], ["b"],
                 id="a key added while it is being processed is not handed to a second worker"),
    pytest.param(["add a", "get a", "add a", "done a"], ["a"],
                 id="a key added while it is being processed is queued again once when done is called"),
    pytest.param(["add a", "get a", "add a", "add a", "done a"], ["a"],
                 id="however often a key is added during processing it comes back only once"),
    pytest.param(["add a", "get a", "done a"], [],
                 id="a key processed and not added again is gone"),
    pytest.param(["add a", "shutdown", "add b"], ["a"],
                 id="after shut_down new keys are refused but queued keys can still be taken"),
])
def test_the_queue_deduplicates_and_never_hands_one_key_to_two_workers(loop, steps, expected_order):
    queue = WorkQueue(loop, name="test")
    for step in steps:
        verb, _, key = step.partition(" ")
        if verb == "add":
            queue.add(key)
        elif verb == "get":
            assert queue.get() == key
        elif verb == "done":
            queue.done(key)
        elif verb == "shutdown":
            queue.shut_down()
    assert drain(queue) == expected_order


def test_get_on_an_empty_queue_returns_none_instead_of_blocking(loop):
    queue = WorkQueue(loop)
    assert queue.get() is None
    assert len(queue) == 0


def test_len_counts_only_keys_ready_for_a_worker(loop):
    queue = WorkQueue(loop)
    queue.add("a")
    queue.add("b")
    queue.add_after("c", 1.0)
    assert queue.get() == "a"
    assert len(queue) == 1 and queue.len() == 1
    assert queue.is_processing("a")


def test_add_key_puts_the_namespace_name_key_of_objects_and_tombstones(loop):
    queue = WorkQueue(loop)
    queue.add_key({"metadata": {"namespace": "default", "name": "web"}})
    queue.add_key({"metadata": {"name": "node-1"}})
    queue.add_key(DeletedFinalStateUnknown("default/gone", {"metadata": {"namespace": "default", "name": "gone"}}))
    assert queue.keys() == ["default/web", "node-1", "default/gone"]


def test_a_long_run_of_adds_and_gets_keeps_fifo_order(loop):
    queue = WorkQueue(loop)
    taken = []
    for round_ in range(3000):
        queue.add(round_)
        if round_ % 2:
            taken.append(queue.get())
            queue.done(taken[-1])
    taken.extend(drain(queue))
    assert taken == list(range(3000))


# -- delaying -----------------------------------------------------------------------

@pytest.mark.parametrize("adds, ready_at", [
    pytest.param([("a", 1.0)], 1.0, id="a delayed key becomes ready after its delay and not before"),
    pytest.param([("a", 5.0), ("a", 2.0)], 2.0, id="adding a waiting key again with a shorter delay brings it forward"),
    pytest.param([("a", 2.0), ("a", 5.0)], 2.0, id="adding a waiting key again with a longer delay keeps the earlier time"),
    pytest.param([("a", 0.0)], 0.0, id="a zero delay adds the key at once"),
])
def test_add_after_waits_on_virtual_time(loop, adds, ready_at):
    queue = WorkQueue(loop)
    for key, delay in adds:
        queue.add_after(key, delay)
    if ready_at > 0:
        loop.run_for(ready_at - 0.001)
        assert queue.get() is None
        loop.run_for(0.001)
    assert drain(queue) == ["a"]
    loop.run_for(10.0)
    assert drain(queue) == []


def test_shut_down_drops_keys_still_waiting_out_a_delay(loop):
    queue = WorkQueue(loop)
    queue.add_after("a", 1.0)
    queue.shut_down()
    loop.run_for(2.0)
    assert queue.get() is None and queue.waiting() == 0


# -- rate limiters ------------------------------------------------------------------

@pytest.mark.parametrize("failures, expected_delay", [
    pytest.param(0, 0.005, id="the first retry waits the 5 ms base delay"),
    pytest.param(1, 0.010, id="each further failure doubles the delay"),
    pytest.param(10, 0.005 * 1024, id="after ten failures the delay is 5 ms times 2 to the 10th"),
    pytest.param(17, 655.36, id="seventeen failures wait 655 seconds"),
    pytest.param(18, 1000.0, id="the delay is capped at 1000 seconds"),
    pytest.param(5000, 1000.0, id="the cap holds even where 2 to the n would overflow"),
])
def test_item_exponential_backoff_is_base_times_two_to_the_failures(failures, expected_delay):
    limiter = ItemExponentialFailureRateLimiter()
    limiter.failures["key"] = failures
    assert limiter.when("key") == pytest.approx(expected_delay)
    assert limiter.num_requeues("key") == failures + 1


def test_forget_resets_a_keys_backoff_and_leaves_other_keys_alone():
    limiter = ItemExponentialFailureRateLimiter()
    for _ in range(3):
        limiter.when("a")
    limiter.when("b")
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0 and limiter.when("a") == pytest.approx(0.005)
    assert limiter.num_requeues("b") == 1


@pytest.mark.parametrize("takes, elapsed, expected_delay", [
    pytest.param(100, 0.0, 0.0, id="the bucket starts full: a burst of 100 waits nothing"),
    pytest.param(101, 0.0, 0.1, id="the 101st token at once waits a tenth of a second at 10 qps"),
    pytest.param(105, 0.0, 0.5, id="debt accumulates: the 105th token waits half a second"),
    pytest.param(101, 0.1, 0.0, id="a tenth of a second refills one token"),
    pytest.param(100, 1000.0, 0.0, id="the bucket never holds more than the burst"),
])
def test_the_token_bucket_refills_at_qps_on_virtual_time(loop, takes, elapsed, expected_delay):
    limiter = BucketRateLimiter(loop, qps=10, burst=100)
    for _ in range(takes - 1):
        limiter.when("any")
    loop.run_for(elapsed)
    assert limiter.when("any") == pytest.approx(expected_delay)
    assert limiter.num_requeues("any") == 0


def test_try_accept_takes_a_token_only_when_one_is_there(loop):
    bucket = TokenBucket(loop, qps=1 / 300, burst=2)
    assert [bucket.try_accept() for _ in range(3)] == [True, True, False]
    loop.run_for(299.0)
    assert not bucket.try_accept()
    loop.run_for(1.0)
    assert bucket.try_accept()


def test_the_default_controller_rate_limiter_is_the_max_of_backoff_and_bucket(loop):
    limiter = default_controller_rate_limiter(loop)
    assert isinstance(limiter, MaxOfRateLimiter)
    delays = [limiter.when(f"key-{i}") for i in range(101)]
    assert delays[:100] == [pytest.approx(0.005)] * 100      # per-key backoff wins while the bucket has tokens
    assert delays[100] == pytest.approx(0.1)                  # then the overall bucket does
    assert [limiter.when("key-0") for _ in range(2)] == [pytest.approx(0.2), pytest.approx(0.3)]
    assert limiter.num_requeues("key-0") == 3


def test_add_rate_limited_backs_off_and_forget_starts_over(loop):
    queue = WorkQueue(loop, rate_limiter=ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=100.0))
    seen = []
    for _ in range(3):
        queue.add_rate_limited("a")
        start = loop.now
        while queue.get() is None:
            loop.step()
        seen.append(loop.now - start)
        queue.done("a")
    assert seen == [1.0, 2.0, 4.0] and queue.num_requeues("a") == 3
    queue.forget("a")
    assert queue.num_requeues("a") == 0


# -- the worker loop ------------------------------------------------------------------

def test_workers_sync_each_key_once_and_pick_up_keys_that_arrive_later(loop):
    queue = WorkQueue(loop, name="demo")
    synced = []
    run_workers(queue, synced.append, workers=2)
    for key in ("a", "b", "a"):
        queue.add(key)
    assert synced == []                        # nothing happens until the loop runs
    loop.run_for(0)
    assert synced == ["a", "b"]
    queue.add("c")
    loop.run_for(0)
    assert synced == ["a", "b", "c"]


def test_a_failing_sync_is_retried_with_backoff_and_forgotten_after_success(loop):
    queue = WorkQueue(loop, rate_limiter=ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=60.0))
    attempts: list[float] = []

    def sync(key: str) -> None:
        attempts.append(loop.now)
        if len(attempts) < 4:
            raise RuntimeError("the API server said no")

    workers = run_workers(queue, sync)
    queue.add("default/web")
    loop.run_for(60)
    assert attempts == [0.0, 1.0, 3.0, 7.0]
    assert queue.num_requeues("default/web") == 0
    assert workers.errors == 3 and isinstance(workers.last_error, RuntimeError)


def test_max_retries_drops_a_key_that_keeps_failing(loop):
    queue = WorkQueue(loop, rate_limiter=ItemExponentialFailureRateLimiter(base_delay=1.0))
    attempts = []

    def sync(key: str) -> None:
        attempts.append(key)
        raise RuntimeError("always")

    run_workers(queue, sync, max_retries=2)
    queue.add("k")
    loop.run_for(100)
    assert len(attempts) == 3 and queue.num_requeues("k") == 0


def test_a_key_added_during_its_own_sync_is_synced_again_afterwards(loop):
    queue = WorkQueue(loop)
    synced = []

    def sync(key: str) -> None:
        synced.append(key)
        if len(synced) == 1:
            queue.add(key)                     # an event arrived while we were working
            assert queue.get() is None         # ... but no second worker may take it now

    run_workers(queue, sync, workers=3)
    queue.add("a")
    loop.run_for(0)
    assert synced == ["a", "a"]


def test_stopped_workers_take_no_more_keys(loop):
    queue = WorkQueue(loop)
    synced = []
    workers = run_workers(queue, synced.append)
    queue.add("a")
    loop.run_for(0)
    workers.stop()
    queue.add("b")
    loop.run_for(1)
    assert synced == ["a"] and len(queue) == 1
