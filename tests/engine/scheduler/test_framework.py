"""The framework's message, normalization, profiles (KubeSchedulerConfiguration) and percentageOfNodesToScore."""

import pytest

from engine.scheduler.framework import Diagnosis, Status, default_normalize_score, fit_error_message
from engine.scheduler.profile import build_frameworks, default_configuration
from engine.scheduler.registry import default_registry
from engine.scheduler.scheduler import num_feasible_nodes_to_find

TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


def test_the_message_counts_reasons_and_sorts_them_as_strings():
    statuses = {"control-plane": Status("UnschedulableAndUnresolvable", [TAINT])}
    statuses.update({f"node-{i}": Status("Unschedulable", ["Insufficient cpu"]) for i in range(1, 5)})
    statuses["node-4"] = Status("Unschedulable", ["Insufficient cpu", "Insufficient memory"])
    assert fit_error_message(5, Diagnosis(statuses)) == (
        f"0/5 nodes are available: 1 Insufficient memory, 1 {TAINT}, 4 Insufficient cpu.")


def test_a_postfilter_message_follows_with_its_own_separator_hence_the_real_double_period():
    diagnosis = Diagnosis({"n": Status("Unschedulable", ["Insufficient cpu"])},
                          post_filter_msg="preemption: 0/1 nodes are available: 1 No preemption victims found "
                                          "for incoming pod.")
    assert fit_error_message(1, diagnosis) == ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes "
                                               "are available: 1 No preemption victims found for incoming pod..")


@pytest.mark.parametrize("reverse, scores, expected", [
    (False, {"a": 2, "b": 4}, {"a": 50, "b": 100}),
    (True, {"a": 2, "b": 4}, {"a": 50, "b": 0}),
    (True, {"a": 0, "b": 0}, {"a": 100, "b": 100}),
    (False, {"a": 0, "b": 0}, {"a": 0, "b": 0}),
], ids=["scores scale to the best one", "reversed, the best becomes zero",
        "all zero reversed is all maximum", "all zero stays zero"])
def test_default_normalize_score(reverse, scores, expected):
    default_normalize_score(100, reverse, scores)
    assert scores == expected


@pytest.mark.parametrize("percentage, nodes, expected", [
    (0, 50, 50), (0, 100, 100), (0, 1000, 420), (0, 5000, 500), (0, 6000, 300), (10, 500, 100), (30, 1000, 300),
    (100, 5000, 5000),
], ids=[
    "fewer than 100 nodes: every node is searched",
    "at 100 nodes the floor of 100 applies",
    "1000 nodes: 50% minus 8% is 42%",
    "5000 nodes: 50% minus 40% is 10%",
    "6000 nodes: the adaptive percentage never goes under 5%",
    "a configured percentage is still floored at 100 nodes",
    "a configured percentage applies as it is above the floor",
    "100% searches everything",
])
def test_num_feasible_nodes_to_find(percentage, nodes, expected):
    assert num_feasible_nodes_to_find(percentage, nodes) == expected


def test_the_default_profile_has_the_default_plugins_in_order_with_their_weights():
    framework = build_frameworks(default_configuration(), default_registry(), None)["default-scheduler"]
    filters = [p.name for p in framework.points["filter"]]
    assert filters[:6] == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
                           "NodeResourcesFit"]
    assert framework.weights["TaintToleration"] == 3 and framework.weights["NodeAffinity"] == 2
    assert [p.name for p in framework.points["bind"]] == ["DefaultBinder"]


def test_a_second_profile_can_disable_scoring_and_change_the_strategy():
    configuration = default_configuration()
    configuration["profiles"].append({
        "schedulerName": "bin-packing",
        "plugins": {"score": {"disabled": [{"name": "*"}], "enabled": [{"name": "NodeResourcesFit", "weight": 5}]}},
        "pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}]})
    frameworks = build_frameworks(configuration, default_registry(), None)
    packing = frameworks["bin-packing"]
    assert [p.name for p in packing.points["score"]] == ["NodeResourcesFit"]
    assert packing.weights["NodeResourcesFit"] == 5 and packing.plugin("NodeResourcesFit").strategy == "MostAllocated"
    assert frameworks["default-scheduler"].plugin("NodeResourcesFit").strategy == "LeastAllocated"
