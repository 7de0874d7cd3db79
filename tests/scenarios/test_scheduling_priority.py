"""PriorityClass and PodDisruptionBudget through the API server: validation, defaults, Priority admission, kubectl.

The cases follow the Kubernetes documentation (Pod Priority and Preemption; Specifying a Disruption Budget)
and the messages of pkg/apis/scheduling/validation, pkg/apis/policy/validation and the Priority admission plugin.
"""

from __future__ import annotations

import pytest

import engine

HIGH = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high-priority"},
        "value": 1000000, "globalDefault": False,
        "description": "This priority class should be used for XYZ service pods only."}
NON_PREEMPTING = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                  "metadata": {"name": "high-priority-nonpreempting"}, "value": 1000000,
                  "preemptionPolicy": "Never", "globalDefault": False,
                  "description": "This priority class will not cause other pods to be preempted."}


def priority_class(name: str, value: int, **fields) -> dict:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, **fields}


def pdb(name: str = "zk-pdb", **spec) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "zookeeper"}}, **spec}}


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}], **spec}}


@pytest.fixture(scope="module")
def cluster() -> engine.Cluster:
    c = engine.Cluster(nodes=1)
    c.apply(HIGH)
    c.apply(NON_PREEMPTING)
    return c


def test_the_api_server_creates_the_two_system_classes_at_boot(cluster):
    assert {pc["metadata"]["name"]: (pc["value"], pc.get("globalDefault", False), pc["preemptionPolicy"])
            for pc in cluster.list("priorityclasses") if pc["metadata"]["name"].startswith("system-")} == {
        "system-cluster-critical": (2000000000, False, "PreemptLowerPriority"),
        "system-node-critical": (2000001000, False, "PreemptLowerPriority")}
    assert cluster.get("pc", "system-node-critical", None)["description"] == (
        "Used for system critical pods that must not be moved from their current node.")


def test_kubectl_prints_priority_classes_and_budgets(cluster):
    lines = cluster.kubectl("get priorityclasses").splitlines()
    assert lines[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert lines[1].split()[:3] + lines[1].split()[4:] == ["high-priority", "1000000", "false", "PreemptLowerPriority"]
    assert lines[2].split()[-1] == "Never"
    cluster.apply(pdb("printed", minAvailable=2))
    lines = cluster.kubectl("get pdb printed").splitlines()
    assert " ".join(lines[0].split()) == "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE"
    assert lines[1].split()[:4] == ["printed", "2", "N/A", "0"]


@pytest.mark.parametrize("manifest, code, message", [
    (priority_class("system-mine", 10), 422,
     "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
     "error: system-mine is not a known system priority class"),
    (priority_class("too-high", 1000000001), 422,
     "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"),
    (priority_class("odd-policy", 10, preemptionPolicy="Sometimes"), 422,
     'preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'),
    (pdb(minAvailable=1, maxUnavailable=1), 422, "minAvailable and maxUnavailable cannot be both set"),
    (pdb(maxUnavailable="120%"), 422, "spec.maxUnavailable: Invalid value: 120%: must not be greater than 100%"),
    (pdb(minAvailable=-1), 422, "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"),
    (pdb(minAvailable=1, unhealthyPodEvictionPolicy="Never"), 422,
     'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'),
    (pod("gold", priorityClassName="gold"), 403,
     'pods "gold" is forbidden: no PriorityClass with name gold was found'),
    (pod("explicit", priority=7), 403,
     'pods "explicit" is forbidden: the integer value of priority (7) must not be provided in pod spec; '
     "priority admission controller computed 0 from the given PriorityClass name"),
    (pod("contradicts", priorityClassName="high-priority-nonpreempting", preemptionPolicy="PreemptLowerPriority"),
     403, 'pods "contradicts" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be '
          "provided in pod spec; priority admission controller computed Never from the given PriorityClass name"),
], ids=[
    "the system- prefix is reserved for the two system classes",
    "a user-defined class may not exceed one billion",
    "preemptionPolicy is PreemptLowerPriority or Never",
    "a budget sets minAvailable or maxUnavailable, not both",
    "a percentage may not exceed 100%",
    "a count may not be negative",
    "unhealthyPodEvictionPolicy is IfHealthyBudget or AlwaysAllow",
    "a pod naming an unknown class is refused",
    "a pod may not set its priority number itself",
    "a pod may not contradict its class's preemption policy",
])
def test_refusals(cluster, manifest, code, message):
    with pytest.raises(engine.ApiError) as refused:
        cluster.apply(manifest)
    assert refused.value.code == code and message in str(refused.value)


def test_a_pod_takes_its_class_value_and_preemption_policy(cluster):
    placed = cluster.apply(pod("xyz", priorityClassName="high-priority-nonpreempting"))
    assert (placed["spec"]["priority"], placed["spec"]["preemptionPolicy"]) == (1000000, "Never")
    plain = cluster.apply(pod("plain"))
    assert (plain["spec"]["priority"], plain["spec"]["preemptionPolicy"], plain["spec"].get("priorityClassName")) \
        == (0, "PreemptLowerPriority", None)
    cluster.admin.patch("pods", "xyz", {"metadata": {"labels": {"edited": "yes"}}}, "default")
    assert cluster.get("pod", "xyz")["spec"]["priority"] == 1000000


def test_only_one_class_may_be_the_global_default():
    c = engine.Cluster(nodes=0)
    c.apply(priority_class("low", 10, globalDefault=True))
    with pytest.raises(engine.ApiError) as refused:
        c.apply(priority_class("lower", 5, globalDefault=True))
    assert refused.value.code == 403 and str(refused.value).endswith(
        "PriorityClass low is already marked as default. Only one default can exist")
    defaulted = c.apply(pod("defaulted"))
    assert (defaulted["spec"]["priorityClassName"], defaulted["spec"]["priority"]) == ("low", 10)


def test_a_class_keeps_its_value_and_a_budget_starts_with_a_zero_status():
    c = engine.Cluster(nodes=0)
    c.apply(priority_class("fixed", 10))
    with pytest.raises(engine.ApiError) as refused:
        c.admin.patch("priorityclasses", "fixed", {"value": 11})
    assert refused.value.code == 422 and "value: Forbidden: may not be changed in an update." in str(refused.value)
    budget = c.apply(pdb(minAvailable="50%"))
    assert budget["status"] == {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    assert budget["metadata"]["generation"] == 1
    budget["status"]["disruptionsAllowed"] = -1
    with pytest.raises(engine.ApiError) as refused:
        c.admin.update_status(budget)
    assert "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0" in str(refused.value)
