"""TaintToleration: the taints-and-tolerations documentation's cases, and the PreferNoSchedule score."""

import pytest

from engine.scheduler.plugins import taint_toleration

from scheduler_builders import make_node, make_pod, node_info, run_filter, run_scores

KEY1 = {"key": "key1", "value": "value1", "effect": "NoSchedule"}
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.mark.parametrize("taints, tolerations, reason", [
    ([], [], None),
    ([KEY1], [], "node(s) had untolerated taint {key1: value1}"),
    ([KEY1], [{"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"}], None),
    ([KEY1], [{"key": "key1", "operator": "Exists", "effect": "NoSchedule"}], None),
    ([KEY1], [{"key": "key1", "operator": "Equal", "value": "other", "effect": "NoSchedule"}],
     "node(s) had untolerated taint {key1: value1}"),
    ([KEY1], [{"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoExecute"}],
     "node(s) had untolerated taint {key1: value1}"),
    ([KEY1], [{"operator": "Exists"}], None),
    ([CONTROL_PLANE], [], "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
    ([{"key": "k", "value": "v", "effect": "PreferNoSchedule"}], [], None),
    ([{"key": "key1", "value": "value1", "effect": "NoExecute"}], [], "node(s) had untolerated taint {key1: value1}"),
    ([{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoSchedule"}],
     [{"key": "a", "operator": "Exists"}], "node(s) had untolerated taint {b: }"),
], ids=[
    "a node without taints takes any pod",
    "a NoSchedule taint keeps off a pod without tolerations",
    "an Equal toleration with the same key, value and effect tolerates the taint",
    "an Exists toleration needs no value",
    "an Equal toleration with another value does not tolerate",
    "a toleration for another effect does not tolerate",
    "an empty key with Exists tolerates everything",
    "the control-plane taint is reported with an empty value",
    "PreferNoSchedule never filters",
    "NoExecute filters like NoSchedule",
    "the first untolerated taint is the one reported",
])
def test_filter(taints, tolerations, reason):
    status = run_filter(taint_toleration.new(), make_pod(tolerations=tolerations),
                        node_info(make_node(taints=taints)))
    assert (status.reasons[0] if status else None) == reason
    if status:
        assert status.code == "UnschedulableAndUnresolvable"


def prefer(*keys):
    return [{"key": key, "value": "x", "effect": "PreferNoSchedule"} for key in keys]


@pytest.mark.parametrize("tolerations, expected", [
    ([], {"n0": 100, "n1": 50, "n2": 0}),
    ([{"key": "a", "operator": "Exists", "effect": "PreferNoSchedule"}], {"n0": 100, "n1": 100, "n2": 0}),
    ([{"operator": "Exists"}], {"n0": 100, "n1": 100, "n2": 100}),
], ids=[
    "the more untolerated PreferNoSchedule taints a node has, the lower its score",
    "a tolerated PreferNoSchedule taint does not count",
    "when nothing is untolerated every node scores the maximum",
])
def test_score(tolerations, expected):
    infos = [node_info(make_node("n0")), node_info(make_node("n1", taints=prefer("a"))),
             node_info(make_node("n2", taints=prefer("a", "b")))]
    assert run_scores(taint_toleration.new(), make_pod(tolerations=tolerations), infos) == expected
