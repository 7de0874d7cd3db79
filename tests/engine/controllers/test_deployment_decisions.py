"""The Deployment controller's pure parts: fenceposts, the rolling-update step, proportions, annotations, progress."""

import pytest

from engine.api.meta import timestamp
from engine.controllers.deployment import util
from engine.controllers.deployment.progress import rollout_status
from engine.controllers.deployment.rolling import ReplicaSetState, rolling_update_step


def deployment(replicas=10, surge="25%", unavailable="25%", strategy="RollingUpdate", **spec):
    strategy_spec = {"type": strategy}
    if strategy == "RollingUpdate":
        strategy_spec["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "namespace": "default", "generation": 1, "uid": "d-uid"},
            "spec": {"replicas": replicas, "strategy": strategy_spec, "progressDeadlineSeconds": 600,
                     "revisionHistoryLimit": 10, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, **spec},
            "status": {}}


@pytest.mark.parametrize("surge, unavailable, desired, expected", [
    ("25%", "25%", 10, (3, 2)),       # surge rounds up, unavailable rounds down
    ("25%", "25%", 1, (1, 0)),
    (0, "10%", 5, (0, 1)),            # both resolve to 0: unavailable becomes 1
    (1, 0, 3, (1, 0)),
    ("50%", 2, 7, (4, 2)),
])
def test_fenceposts(surge, unavailable, desired, expected):
    assert util.resolve_fenceposts(surge, unavailable, desired) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate():
    assert util.max_unavailable(deployment(2, surge=0, unavailable=5)) == 2
    assert util.max_unavailable(deployment(3, strategy="Recreate")) == 0
    assert util.max_surge(deployment(3, strategy="Recreate")) == 0


def simulate(desired, surge, unavailable, old_size):
    """Run steps to completion with every pod turning available at once; check the bounds at every step."""
    new = ReplicaSetState("new", 0, 0)
    old = ReplicaSetState("old", old_size, old_size)
    history = []
    for _ in range(100):
        steps = rolling_update_step(desired, surge, unavailable, new, [old] if old.replicas else [])
        if not steps:
            break
        for name, size in steps:
            if name == "new":
                new = ReplicaSetState("new", size, new.available)
            else:
                old = ReplicaSetState("old", size, min(old.available, size))
        total = new.replicas + old.replicas
        assert total <= desired + surge
        assert new.available + old.available >= desired - unavailable
        history.append((new.replicas, old.replicas))
        new = ReplicaSetState("new", new.replicas, new.replicas)      # the new pods become available
    return new, old, history


@pytest.mark.parametrize("desired, surge, unavailable", [(10, 3, 2), (4, 1, 1), (3, 0, 1), (5, 5, 0), (1, 1, 0)])
def test_a_rollout_converges_within_its_bounds(desired, surge, unavailable):
    new, old, history = simulate(desired, surge, unavailable, desired)
    assert (new.replicas, old.replicas) == (desired, 0)


def test_the_first_steps_of_the_default_strategy_on_ten_replicas():
    new, old = ReplicaSetState("new", 0, 0), ReplicaSetState("old", 10, 10)
    assert rolling_update_step(10, 3, 2, new, [old]) == [("new", 3)]
    new = ReplicaSetState("new", 3, 0)
    # 13 pods, 3 new unavailable: 13 - 8 - 3 = 2 old may go
    assert rolling_update_step(10, 3, 2, new, [old]) == [("old", 8)]


def test_unhealthy_old_replicas_are_cleaned_up_first_oldest_set_first():
    new = ReplicaSetState("new", 2, 2)
    older = ReplicaSetState("older", 3, 1)            # 2 unavailable
    old = ReplicaSetState("old", 5, 5)
    steps = rolling_update_step(10, 0, 2, new, [older, old])
    # max scaled down = 10 - 8 - 0 = 2: both unhealthy replicas of "older" go; available 8 = minAvailable
    assert steps == [("older", 1)]


def test_broken_new_pods_never_let_old_ones_go():
    new = ReplicaSetState("new", 3, 0)
    old = ReplicaSetState("old", 10, 10)
    assert rolling_update_step(10, 3, 2, new, [old]) == [("old", 8)]
    old = ReplicaSetState("old", 8, 8)
    assert rolling_update_step(10, 3, 2, new, [old]) == [("new", 5)]      # surge room again
    stuck = ReplicaSetState("new", 5, 0)
    assert rolling_update_step(10, 3, 2, stuck, [old]) == []            # 13 - 8 - 5 = 0 may go


def rs(name, replicas, max_replicas, created=0):
    return {"metadata": {"name": name, "creationTimestamp": timestamp(created),
                         "annotations": {util.MAX_REPLICAS: str(max_replicas)}},
            "spec": {"replicas": replicas}, "status": {}}


def test_proportions_when_a_deployment_scales_mid_rollout():
    d = deployment(15, surge=3, unavailable=2)          # was 10 (max 13), now 15 (max 18): 5 to add
    old, new = rs("old", 8, 13), rs("new", 5, 13, created=10)
    assert util.replica_set_fraction(old, d) == 3      # round(8 * 18 / 13) - 8 = 11 - 8
    assert util.replica_set_fraction(new, d) == 2      # round(5 * 18 / 13) - 5 = 7 - 5
    assert util.proportion(old, d, 5, 0) == 3
    assert util.proportion(new, d, 5, 3) == 2
    assert util.proportion(new, d, 5, 5) == 0


def test_new_replica_set_annotations_and_revision_history():
    d = deployment(3)
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "v2", util.REVISION: "1",
                                    util.LAST_APPLIED: "{}"}
    new = {"metadata": {"name": "web-x"}, "spec": {"replicas": 0}}
    assert util.set_new_replica_set_annotations(d, new, "2", False)
    assert new["metadata"]["annotations"] == {"kubernetes.io/change-cause": "v2", util.REVISION: "2",
                                              util.DESIRED_REPLICAS: "3", util.MAX_REPLICAS: "4"}
    assert util.set_new_replica_set_annotations(d, new, "5", True)           # rolled back to: history kept
    assert new["metadata"]["annotations"][util.REVISION_HISTORY] == "2"
    assert not util.set_new_replica_set_annotations(d, new, "3", True)       # never lowered


def test_last_revision_and_new_set_finding():
    d = deployment(3)
    same = {"metadata": {"name": "a", "uid": "a", "creationTimestamp": timestamp(5),
                         "annotations": {util.REVISION: "2"}},
            "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
                                  "spec": d["spec"]["template"]["spec"]}}}
    other = {"metadata": {"name": "b", "uid": "b", "creationTimestamp": timestamp(1),
                          "annotations": {util.REVISION: "1"}},
             "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}}}
    assert util.find_new_replica_set(d, [other, same]) is same
    assert util.last_revision([other, same]) == 1 and util.max_revision([other, same]) == 2


def test_progressing_condition_times_out_after_the_deadline_without_progress():
    d = deployment(2)
    d["status"] = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1,
                   "readyReplicas": 1, "unavailableReplicas": 1,
                   "conditions": [util.new_condition("Progressing", "True", util.REPLICA_SET_UPDATED,
                                                     'ReplicaSet "web-2" is progressing.', 100)]}
    new = {"metadata": {"name": "web-2"}, "spec": {"replicas": 1}, "status": {"replicas": 1}}
    old = {"metadata": {"name": "web-1"}, "spec": {"replicas": 1},
           "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}}
    early = rollout_status(d, [old, new], new, now=700)
    assert util.get_condition(early, "Progressing")["reason"] == util.REPLICA_SET_UPDATED
    late = rollout_status(d, [old, new], new, now=701)
    timed_out = util.get_condition(late, "Progressing")
    assert (timed_out["status"], timed_out["reason"], timed_out["message"]) == (
        "False", "ProgressDeadlineExceeded", 'ReplicaSet "web-2" has timed out progressing.')
    available = util.get_condition(late, "Available")       # 25% of 2 rounds down: none may be unavailable
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
