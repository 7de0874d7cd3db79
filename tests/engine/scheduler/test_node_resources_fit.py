"""NodeResourcesFit: Filter reasons and the three scoring strategies (cases after fit_test.go / least_allocated_test.go)."""

import pytest

from engine.scheduler.plugins import node_resources_fit
from engine.scheduler.nodeinfo import pod_request

from scheduler_builders import make_node, make_pod, node_info, run_filter, run_scores

NODE = make_node(cpu="10", memory="20")


@pytest.mark.parametrize("pod, existing, reasons", [
    (make_pod(), [], None),
    (make_pod(cpu="1", memory="1"), [make_pod("a", cpu="5", memory="5")], None),
    (make_pod(cpu="1", memory="1"), [make_pod("a", cpu="10", memory="20")], ["Insufficient cpu", "Insufficient memory"]),
    (make_pod(cpu="1", memory="1"), [make_pod("a", cpu="9", memory="20")], ["Insufficient memory"]),
    (make_pod(cpu="8"), [make_pod("a", cpu="1")], None),
    (make_pod(containers=[{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1"}}}],
              init_containers=[{"name": "i", "image": "x", "resources": {"requests": {"cpu": "3"}}}]),
     [make_pod("a", cpu="8")], ["Insufficient cpu"]),
    (make_pod(cpu="1", overhead={"cpu": "1500m"}), [make_pod("a", cpu="8")], ["Insufficient cpu"]),
    (make_pod(containers=[{"name": "a", "image": "x", "resources": {"requests": {"example.com/gpu": "1"}}}]),
     [], ["Insufficient example.com/gpu"]),
], ids=[
    "a pod that requests nothing fits a node with room for one more pod",
    "a pod fits when its requests fit in what the node's pods leave",
    "every resource that does not fit is a reason of its own",
    "only the resource that runs out is reported",
    "requests equal to what is left still fit",
    "an init container's request counts when it is larger than the app containers'",
    "the pod overhead is added to the requests",
    "an extended resource the node does not have is insufficient",
])
def test_filter_reports_each_insufficient_resource(pod, existing, reasons):
    status = run_filter(node_resources_fit.new(), pod, node_info(NODE, *existing))
    assert (status.reasons if status else None) == reasons
    if status:
        assert status.code == "Unschedulable"


def test_a_full_node_has_too_many_pods_before_anything_else():
    node = make_node(cpu="1", pods=1)
    status = run_filter(node_resources_fit.new(), make_pod(cpu="2"), node_info(node, make_pod("a")))
    assert status.reasons == ["Too many pods", "Insufficient cpu"]


def test_sidecars_add_to_everything_after_them():
    pod = make_pod(containers=[{"name": "a", "image": "x", "resources": {"requests": {"cpu": "1"}}}],
                   init_containers=[{"name": "s", "image": "x", "restartPolicy": "Always",
                                     "resources": {"requests": {"cpu": "500m"}}},
                                    {"name": "i", "image": "x", "resources": {"requests": {"cpu": "2"}}}])
    assert pod_request(pod)["cpu"] == 2500


SCORING_NODE = make_node("n", cpu="4", memory="10000")


@pytest.mark.parametrize("strategy, pod, score", [
    ("LeastAllocated", make_pod(cpu="3", memory="5000"), 37),
    ("LeastAllocated", make_pod(), 48),
    ("MostAllocated", make_pod(cpu="3", memory="5000"), 62),
    ("MostAllocated", make_pod(cpu="5", memory="20000"), 100),
    ("RequestedToCapacityRatio", make_pod(cpu="3", memory="5000"), 38),
], ids=[
    "least allocated: the share left free, cpu 25 and memory 50 average to 37",
    "a pod without requests is scored as 100m cpu and 200Mi memory",
    "most allocated: the share used, cpu 75 and memory 50 average to 62",
    "most allocated caps what is requested at what is allocatable",
    "requested to capacity ratio follows its shape and rounds the average",
])
def test_scoring_strategies(strategy, pod, score):
    plugin = node_resources_fit.new({"scoringStrategy": {"type": strategy}})
    assert run_scores(plugin, pod, [node_info(SCORING_NODE)]) == {"n": score}


def test_least_allocated_prefers_the_emptier_node():
    busy = node_info(make_node("busy", cpu="4", memory="8Gi"), make_pod("a", cpu="3", memory="4Gi"))
    idle = node_info(make_node("idle", cpu="4", memory="8Gi"))
    scores = run_scores(node_resources_fit.new(), make_pod(cpu="500m", memory="1Gi"), [busy, idle])
    assert scores["idle"] > scores["busy"]


def test_a_custom_shape_and_resource_weights():
    plugin = node_resources_fit.new({"scoringStrategy": {
        "type": "RequestedToCapacityRatio", "resources": [{"name": "cpu", "weight": 3}, {"name": "memory", "weight": 1}],
        "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}})
    # cpu 75% -> 75 (weight 3), memory 50% -> 50: (225 + 50) / 4 = 68.75 -> 69
    assert run_scores(plugin, make_pod(cpu="3", memory="5000"), [node_info(SCORING_NODE)]) == {"n": 69}
