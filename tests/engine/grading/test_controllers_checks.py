"""The controllers lab's checks: answers written like the engine's pass, typical mistakes are named, and the
learner's decisions really run inside a cluster's controllers."""

from __future__ import annotations

import math

import pytest

from engine.controllers.deployment.rolling import rolling_update_step
from engine.grading import GradingFailure
from engine.grading.controllers import (ReplicaPlan, check_fenceposts, check_in_cluster,
                                        check_manage_replicas, check_node_failure, check_rolling_step,
                                        controllers_cluster, deletion_order)


def manage_replicas(replicas, pods, related_pods, now, burst_replicas=500):
    diff = len(pods) - replicas
    if diff < 0:
        return ReplicaPlan(create=min(-diff, burst_replicas))
    if diff > 0:
        return ReplicaPlan(delete=tuple(deletion_order(pods, related_pods, now)[:min(diff, burst_replicas)]))
    return ReplicaPlan()


def fenceposts(surge, unavailable, replicas, *, rounding=None):
    def scaled(value, up):
        if isinstance(value, int):
            return value
        exact = int(value[:-1]) * replicas / 100
        return rounding(exact) if rounding else (math.ceil(exact) if up else math.floor(exact))
    surge, unavailable = scaled(surge, True), scaled(unavailable, False)
    return (surge, 1) if surge == 0 and unavailable == 0 else (surge, unavailable)


def greedy_step(desired, max_surge, max_unavailable, new, old):
    """Ignores both bounds: the new set straight to desired, the old sets straight to 0."""
    if new.replicas != desired:
        return [(new.name, desired)]
    return [(rs.name, 0) for rs in old if rs.replicas]


def test_answers_written_like_the_engine_pass_every_pure_check():
    check_manage_replicas(manage_replicas, seed=1)
    check_fenceposts(fenceposts, seed=2)


def test_rounding_both_percentages_the_same_way_is_named():
    with pytest.raises(GradingFailure, match="maxSurge percentages round up, maxUnavailable percentages round down"):
        check_fenceposts(lambda s, u, r: fenceposts(s, u, r, rounding=round), seed=3)


def test_deleting_the_first_listed_pods_is_told_to_use_deletion_order():
    def first_listed(replicas, pods, related_pods, now, burst_replicas=500):
        diff = len(pods) - replicas
        return ReplicaPlan(create=min(-diff, burst_replicas)) if diff < 0 else ReplicaPlan(delete=tuple(pods[:diff]))
    with pytest.raises(GradingFailure, match="deletion_order"):
        check_manage_replicas(first_listed, seed=4)


def test_a_step_ignoring_the_bounds_fails_and_delegating_gets_no_marks():
    with pytest.raises(GradingFailure, match="rolling_update_step disagrees"):
        check_rolling_step(greedy_step, seed=5)
    with pytest.raises(GradingFailure, match="hands the work to the engine"):
        check_rolling_step(rolling_update_step, seed=5)


def test_the_learners_decisions_run_as_the_clusters_controllers():
    calls = []

    def counted(*args):
        calls.append(args)
        return manage_replicas(*args)

    cluster = controllers_cluster(2, seed=0, manage_replicas=counted)
    cluster.apply({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "frontend"},
                   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "frontend"}},
                            "template": {"metadata": {"labels": {"app": "frontend"}},
                                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
    cluster.run(5)
    assert calls and len(cluster.list("pods", selector="app=frontend")) == 3
    assert all(name == "manage_replicas" for name, *_ in cluster.decisions.calls)


def test_a_learners_exception_inside_a_controller_is_reported_not_a_crash():
    def broken(*_args):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(GradingFailure, match="ZeroDivisionError"):
        check_in_cluster(broken, greedy_step, seed=6)


def test_a_step_ignoring_the_bounds_changes_the_cluster_and_the_message_says_where():
    with pytest.raises(GradingFailure, match="the cluster differs after: rollout|decisions differed"):
        check_in_cluster(manage_replicas, greedy_step, seed=7)


def test_a_right_replicaset_decision_survives_a_node_failure():
    check_node_failure(manage_replicas, seed=54)


def test_a_decision_that_creates_one_pod_per_sync_is_caught_through_the_node_failure():
    def one_at_a_time(replicas, pods, related_pods, now, burst_replicas=500):
        if len(pods) < replicas:
            return ReplicaPlan(create=1)
        return manage_replicas(replicas, pods, related_pods, now, burst_replicas)

    with pytest.raises(GradingFailure, match=r"your manage_replicas\(replicas=\d.*answered \(1, \(\)\), the engine \([2-9]"):
        check_node_failure(one_at_a_time, seed=54)


def test_a_decision_that_creates_too_many_is_named():
    def doubled(replicas, pods, related_pods, now, burst_replicas=500):
        return ReplicaPlan(create=2 * (replicas - len(pods))) if len(pods) < replicas else ReplicaPlan()

    with pytest.raises(GradingFailure, match="replicas made 8 pods|more than it wants"):
        check_node_failure(doubled, seed=54)

