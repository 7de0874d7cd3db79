"""The plug: a learner's plain functions as NodeResourcesFit and TaintToleration in a running kube-scheduler."""

from __future__ import annotations

from engine.grading.scheduler import plug_scheduler_plugins, scheduler_cluster
from engine.grading.scheduling import reference_fit_filter, reference_score, reference_taint_filter
from engine.grading.scheduling import _run_workload, _workload

NODES = [
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
     "spec": {"taints": taints} if taints else {},
     "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
                "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}}
    for name, cpu, taints in (("small", "2", []), ("large", "8", []),
                              ("gpu", "8", [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]))]


def pod(name: str, cpu: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}}


def placements(cluster) -> dict:
    return {p["metadata"]["name"]: p["spec"].get("nodeName") for p in cluster.list("pods")}


def failures(cluster) -> list[str]:
    return [e["message"] for e in cluster.list("events") if e["reason"] == "FailedScheduling"]


def test_the_learner_functions_decide_and_every_call_is_recorded_beside_the_engine_answer():
    cluster = scheduler_cluster(NODES, seed=1)
    record = plug_scheduler_plugins(cluster, fit_filter=reference_fit_filter, taint_filter=reference_taint_filter,
                                    score=reference_score)
    cluster.apply(pod("web", "3"))
    cluster.run(2)
    assert placements(cluster) == {"web": "large"}
    assert {call.function for call in record.calls} == {"fit_filter", "taint_filter"}   # one feasible node: no scoring
    assert record.disagreements() == [] and record.errors == []


def test_a_filter_that_lets_everything_through_binds_where_the_engine_would_refuse():
    cluster = scheduler_cluster(NODES, seed=1)
    record = plug_scheduler_plugins(cluster, fit_filter=lambda pod, info: [], taint_filter=lambda pod, info: None)
    cluster.apply(pod("huge", "64"))
    cluster.run(2)
    assert placements(cluster)["huge"] in {"small", "large", "gpu"}
    wrong = record.disagreements()
    assert any(call.function == "fit_filter" and call.reference == ["Insufficient cpu"] for call in wrong)
    assert any(call.function == "taint_filter" and call.reference == "node(s) had untolerated taint {gpu: true}"
               for call in wrong)


def test_the_learner_reasons_make_the_failed_scheduling_message():
    cluster = scheduler_cluster(NODES, seed=1)
    plug_scheduler_plugins(cluster, fit_filter=lambda pod, info: ["Insufficient CPU"])
    cluster.apply(pod("web", "1"))
    cluster.run(2)
    assert failures(cluster)[0].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient CPU.")


def test_a_function_that_raises_or_answers_the_wrong_type_fails_the_attempt_not_the_scheduler():
    def broken(pod, info):
        raise KeyError("cpu")

    cluster = scheduler_cluster(NODES, seed=1)
    record = plug_scheduler_plugins(cluster, fit_filter=broken, taint_filter=lambda pod, info: 42)
    cluster.apply(pod("web", "1"))
    cluster.run(3)
    assert placements(cluster) == {"web": None}
    kinds = {(function, type(error).__name__) for function, error in record.errors}
    assert kinds >= {("taint_filter", "TypeError")}
    assert "SchedulerError" in [c["reason"] for c in cluster.get("pod", "web")["status"]["conditions"]]


def test_a_learner_that_changes_its_node_info_changes_only_its_own_copy():
    def greedy(pod, info):
        answer = reference_fit_filter(pod, info)
        info.requested.clear()
        info.pods.clear()
        info.allocatable["cpu"] = 10 ** 6
        return answer

    nodes, pods = _workload(7, 4, 16)
    reference = _run_workload(scheduler_cluster(nodes, 7), pods, deletions=2)
    cluster = scheduler_cluster(nodes, 7)
    plug_scheduler_plugins(cluster, fit_filter=greedy)
    assert _run_workload(cluster, pods, deletions=2) == reference


def test_with_the_engine_answers_plugged_in_a_seeded_workload_ends_as_with_the_engine_plugins():
    nodes, pods = _workload(44, 6, 30)
    reference = _run_workload(scheduler_cluster(nodes, 44), pods, deletions=4)
    cluster = scheduler_cluster(nodes, 44)
    record = plug_scheduler_plugins(cluster, fit_filter=reference_fit_filter, taint_filter=reference_taint_filter,
                                    score=reference_score)
    assert _run_workload(cluster, pods, deletions=4) == reference
    assert any(name for name, node in reference[0].items() if node is None) and reference[1]   # some pods fit nowhere
    assert record.disagreements() == []
