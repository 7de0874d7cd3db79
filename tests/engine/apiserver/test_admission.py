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


def test_the_priority_plugin_resolves_class_names():
    pod = simple_pod()
    default_pod_priority(pod)
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    critical = simple_pod()
    critical["spec"]["priorityClassName"] = "system-node-critical"
    default_pod_priority(critical)
    assert critical["spec"]["priority"] == 2000001000
    defaulted_class = simple_pod()
    default_pod_priority(defaulted_class, {"low": {"value": 10, "globalDefault": True}})
    assert (defaulted_class["spec"]["priorityClassName"], defaulted_class["spec"]["priority"]) == ("low", 10)
    unknown = simple_pod()
    unknown["spec"]["priorityClassName"] = "gold"
    with pytest.raises(LookupError, match="no PriorityClass with name gold was found"):
        default_pod_priority(unknown)


