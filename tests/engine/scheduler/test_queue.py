"""The scheduling queue: PrioritySort, backoff 1 s doubling to 10 s, unschedulable pods and cluster events."""

import pytest

from engine.scheduler.queue import SchedulingQueue
from engine.sim.loop import Loop

from scheduler_builders import make_pod


def queue_with(*pods):
    loop = Loop(0)
    queue = SchedulingQueue(loop)
    for pod in pods:
        queue.add(pod)
        loop.run_for(0.001)
    return loop, queue


def test_the_highest_priority_pops_first_then_the_earliest():
    _, queue = queue_with(make_pod("low-1"), make_pod("high", priority=1000), make_pod("low-2"))
    assert [queue.pop().key for _ in range(3)] == ["default/high", "default/low-1", "default/low-2"]
    assert queue.pop() is None


@pytest.mark.parametrize("attempts, backoff", [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)], ids=[
    "after the first attempt a pod backs off one second",
    "the backoff doubles with the second attempt",
    "and again with the third",
    "and again with the fourth",
    "it never exceeds ten seconds",
    "however many attempts it has made",
])
def test_backoff(attempts, backoff):
    _, queue = queue_with(make_pod())
    entry = queue.pop()
    entry.attempts = attempts
    assert queue.backoff_duration(entry) == backoff


def test_an_unschedulable_pod_waits_until_a_node_event_moves_it_back():
    loop, queue = queue_with(make_pod("web"))
    entry = queue.pop()
    queue.add_unschedulable(entry, queue.scheduling_cycle)
    assert queue.pending_pods() == {"active": [], "backoff": [], "unschedulable": ["default/web"]}
    loop.run_for(0.5)
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.pending_pods()["backoff"] == ["default/web"]          # still backing off (1 s)
    loop.run_for(0.6)
    queue.flush_backoff_completed()
    assert queue.pending_pods()["active"] == ["default/web"]


def test_an_event_only_moves_pods_rejected_by_plugins_it_may_help():
    loop, queue = queue_with(make_pod("tainted"), make_pod("full"))
    for plugin in ("TaintToleration", "NodeResourcesFit"):
        entry = queue.pop()
        entry.unschedulable_plugins = {plugin}
        queue.add_unschedulable(entry, queue.scheduling_cycle)
    loop.run_for(2)
    queue.move_all_to_active_or_backoff("AssignedPodDelete", {"NodeResourcesFit"})
    assert queue.pending_pods() == {"active": ["default/full"], "backoff": [], "unschedulable": ["default/tainted"]}


def test_a_move_request_during_the_cycle_sends_the_failed_pod_to_backoff_not_unschedulable():
    _, queue = queue_with(make_pod("web"))
    entry = queue.pop()
    queue.move_all_to_active_or_backoff("NodeAdd")                    # while "web" was being scheduled
    queue.add_unschedulable(entry, queue.scheduling_cycle)
    assert queue.pending_pods()["backoff"] == ["default/web"]


def test_unschedulable_pods_are_flushed_after_five_minutes():
    loop, queue = queue_with(make_pod("web"))
    queue.run()
    queue.add_unschedulable(queue.pop(), queue.scheduling_cycle)
    loop.run_for(299)
    assert queue.pending_pods()["unschedulable"] == ["default/web"]
    loop.run_for(31)
    assert queue.pending_pods()["active"] == ["default/web"]


def test_a_deleted_pod_leaves_every_sub_queue():
    _, queue = queue_with(make_pod("web"))
    queue.add_unschedulable(queue.pop(), queue.scheduling_cycle)
    queue.delete(make_pod("web"))
    assert queue.pending_pods() == {"active": [], "backoff": [], "unschedulable": []} and len(queue) == 0
