"""The kubelet's admission: pods that cannot run here are rejected with the real reason and message."""

from __future__ import annotations

from engine.kubelet.admission import admit

NODE = {"metadata": {"name": "node-1", "labels": {"disk": "ssd"}},
        "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "2"}}}


def pod(cpu: str | None = None, memory: str | None = None, **spec) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"metadata": {"name": "p", "uid": "u"},
            "spec": {"containers": [{"name": "a", "resources": {"requests": requests}}], **spec}}


def test_a_pod_that_fits_is_admitted_even_on_a_node_tainted_no_schedule():
    assert admit(pod("1", "100Mi"), NODE, []).admit


def test_too_much_cpu_is_out_of_cpu_with_the_real_message():
    result = admit(pod("1500m"), NODE, [pod("1")])
    assert (result.admit, result.reason) == (False, "OutOfcpu")
    assert result.message == "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000"


def test_too_much_memory_is_out_of_memory():
    result = admit(pod(memory="2Gi"), NODE, [])
    assert result.reason == "OutOfmemory"
    assert result.message == ("Node didn't have enough resource: memory, requested: 2147483648, used: 0, "
                              "capacity: 1073741824")


def test_a_full_node_is_out_of_pods():
    result = admit(pod(), NODE, [pod(), pod()])
    assert result.reason == "OutOfpods"
    assert result.message == "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2"


def test_a_node_selector_that_does_not_match_is_node_affinity():
    result = admit(pod(nodeSelector={"disk": "hdd"}), NODE, [])
    assert result.reason == "NodeAffinity"
    assert result.message == "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"


def test_an_untolerated_no_execute_taint_is_refused():
    node = {**NODE, "spec": {"taints": [{"key": "gone", "effect": "NoExecute"}]}}
    result = admit(pod(), node, [])
    assert result.reason == "TaintToleration"
    assert admit(pod(tolerations=[{"key": "gone", "operator": "Exists"}]), node, []).admit
