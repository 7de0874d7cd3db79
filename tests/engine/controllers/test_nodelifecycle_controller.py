"""The node lifecycle controller's and the taint eviction controller's pure decisions."""

import pytest

from engine.controllers.nodelifecycle import (FULL_DISRUPTION, NORMAL, PARTIAL_DISRUPTION, compute_zone_state,
                                              no_schedule_taints, swap_taints, zone_eviction_qps, zone_key)
from engine.controllers.tainteviction import matching_tolerations, min_toleration_time

UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}


@pytest.mark.parametrize("statuses,expected", [
    (["True", "True", "Unknown"], (1, NORMAL)),
    (["Unknown", "False"], (2, FULL_DISRUPTION)),
    (["True", "Unknown", "Unknown"], (2, NORMAL)),
    (["True", "True", "Unknown", "Unknown", "Unknown"], (3, PARTIAL_DISRUPTION)),
    (["True", "True", "True", "Unknown", "Unknown", "Unknown"], (3, NORMAL)),
], ids=["one dead node of three is normal", "no ready node is a full disruption",
        "two not-ready nodes are never a partial disruption", "three of five (60 %) is a partial disruption",
        "three of six (50 %) is under the 55 % threshold"])
def test_zone_state(statuses, expected):
    assert compute_zone_state(statuses) == expected


@pytest.mark.parametrize("state,size,qps", [
    (NORMAL, 3, 0.1), (FULL_DISRUPTION, 3, 0.1), (PARTIAL_DISRUPTION, 50, 0.0), (PARTIAL_DISRUPTION, 51, 0.01)],
    ids=["normal zones taint at --node-eviction-rate", "a fully disrupted zone (others healthy) too",
         "a small partially disrupted zone stops", "a large one slows to --secondary-node-eviction-rate"])
def test_zone_eviction_rate(state, size, qps):
    assert zone_eviction_qps(state, size) == qps


def test_zone_key_from_region_and_zone_labels():
    assert zone_key({"metadata": {"labels": {}}}) == ""
    node = {"metadata": {"labels": {"topology.kubernetes.io/region": "eu", "topology.kubernetes.io/zone": "eu-1a"}}}
    assert zone_key(node) == "eu:\x00:eu-1a"


def test_no_schedule_taints_follow_conditions_and_unschedulable():
    node = {"spec": {"unschedulable": True}, "status": {"conditions": [
        {"type": "Ready", "status": "Unknown"}, {"type": "MemoryPressure", "status": "True"},
        {"type": "DiskPressure", "status": "False"}, {"type": "PIDPressure", "status": "True"}]}}
    assert [t["key"] for t in no_schedule_taints(node)] == [
        "node.kubernetes.io/unreachable", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable"]
    assert no_schedule_taints({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}) == [
        {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]


def test_swap_taints_adds_with_time_and_removes_the_opposite():
    swapped = swap_taints([UNREACHABLE, {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
                          [NOT_READY], [UNREACHABLE], 60.0)
    assert swapped == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                       {**NOT_READY, "timeAdded": "2025-01-01T00:01:00Z"}]
    assert swap_taints([NOT_READY], [NOT_READY], [UNREACHABLE], 0.0) is None


DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]


@pytest.mark.parametrize("tolerations,wait", [
    ([], 0.0),
    (DEFAULT_TOLERATIONS, 300.0),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}], None),
    ([{"operator": "Exists"}], None),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 0}], 0.0),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
       "tolerationSeconds": 30}] + DEFAULT_TOLERATIONS, 30.0),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Equal", "value": "x", "effect": "NoExecute"}], 0.0),
], ids=["no toleration: evicted at once", "the default tolerations: after 300 s",
        "a toleration without seconds: never", "a wildcard toleration: never", "zero seconds: at once",
        "the first matching toleration counts", "a value that does not match: at once"])
def test_when_a_pod_on_an_unreachable_node_is_evicted(tolerations, wait):
    tolerated, used = matching_tolerations([UNREACHABLE], tolerations)
    assert (min_toleration_time(used) if tolerated else 0.0) == wait
