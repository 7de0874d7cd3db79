"""Admission plugins as functions: default tolerations and pod priority."""

import pytest

from engine.apiserver.admission.default_toleration_seconds import add_default_tolerations
from engine.apiserver.admission.priority import default_pod_priority


def simple_pod():
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}


def test_the_default_toleration_seconds_plugin_tolerates_failed_nodes_for_five_minutes():
    pod = simple_pod()
    add_default_tolerations(pod)
    assert pod["spec"]["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    tolerant = simple_pod()
    tolerant["spec"]["tolerations"] = [{"operator": "Exists"}]
    add_default_tolerations(tolerant)
    assert tolerant["spec"]["tolerations"] == [{"operator": "Exists"}]


def priority_class(name, value, global_default=False, policy="PreemptLowerPriority"):
    return {"metadata": {"name": name}, "value": value, "globalDefault": global_default, "preemptionPolicy": policy}


SYSTEM = {"system-node-critical": priority_class("system-node-critical", 2000001000),
          "system-cluster-critical": priority_class("system-cluster-critical", 2000000000)}


def test_the_priority_plugin_resolves_class_names():
    pod = simple_pod()
    default_pod_priority(pod, SYSTEM)
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    critical = simple_pod()
    critical["spec"]["priorityClassName"] = "system-node-critical"
    default_pod_priority(critical, SYSTEM)
    assert critical["spec"]["priority"] == 2000001000
    defaulted_class = simple_pod()
    default_pod_priority(defaulted_class, {**SYSTEM, "low": priority_class("low", 10, True, "Never"),
                                           "lower": priority_class("lower", 5, True)})
    assert [defaulted_class["spec"][k] for k in ("priorityClassName", "priority", "preemptionPolicy")] == \
        ["lower", 5, "PreemptLowerPriority"]                  # of two global defaults, the lowest value wins
    unknown = simple_pod()
    unknown["spec"]["priorityClassName"] = "gold"
    with pytest.raises(LookupError, match="no PriorityClass with name gold was found"):
        default_pod_priority(unknown, SYSTEM)
    explicit = simple_pod()
    explicit["spec"]["priority"] = 5
    with pytest.raises(ValueError, match=r"the integer value of priority \(5\) must not be provided in pod spec; "
                                         "priority admission controller computed 0 from the given PriorityClass name"):
        default_pod_priority(explicit, SYSTEM)


