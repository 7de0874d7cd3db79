"""NodeAffinity and nodeSelector: the "Assign Pods to Nodes" documentation's cases."""

import pytest

from engine.scheduler.plugins import node_affinity

from scheduler_builders import make_node, make_pod, node_info, run_filter, run_scores

ZONE = "topology.kubernetes.io/zone"


def required(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key, operator, *values):
    requirement = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return requirement


@pytest.mark.parametrize("pod, labels, fits", [
    (make_pod(node_selector={"disktype": "ssd"}), {"disktype": "ssd"}, True),
    (make_pod(node_selector={"disktype": "ssd"}), {"disktype": "hdd"}, False),
    (make_pod(affinity=required({"matchExpressions": [expr(ZONE, "In", "antarctica-east1", "antarctica-west1")]})),
     {ZONE: "antarctica-west1"}, True),
    (make_pod(affinity=required({"matchExpressions": [expr(ZONE, "In", "antarctica-east1")]})),
     {ZONE: "africa-south1"}, False),
    (make_pod(affinity=required({"matchExpressions": [expr("gpu", "DoesNotExist")]},
                                {"matchExpressions": [expr("zone", "In", "a")]})), {"gpu": "1"}, False),
    (make_pod(affinity=required({"matchExpressions": [expr("gpu", "DoesNotExist")]},
                                {"matchExpressions": [expr("zone", "In", "a")]})), {"gpu": "1", "zone": "a"}, True),
    (make_pod(affinity=required({"matchExpressions": [expr("cores", "Gt", "4")]})), {"cores": "8"}, True),
    (make_pod(affinity=required({"matchExpressions": [expr("cores", "Lt", "4")]})), {"cores": "8"}, False),
    (make_pod(affinity=required({"matchExpressions": [expr("tier", "NotIn", "db")]})), {}, True),
    (make_pod(affinity=required({})), {"any": "thing"}, False),
    (make_pod(affinity=required({"matchFields": [expr("metadata.name", "In", "node-1")]})), {}, True),
    (make_pod(node_selector={"disktype": "ssd"},
              affinity=required({"matchExpressions": [expr("disktype", "Exists")]})), {"disktype": "hdd"}, False),
], ids=[
    "a nodeSelector label that matches lets the pod in",
    "a nodeSelector label with another value keeps the pod out",
    "In matches any of its values",
    "In with none of its values does not match",
    "terms are ORed: failing all of them keeps the pod out",
    "terms are ORed: one matching term is enough",
    "Gt compares the label as an integer",
    "Lt compares the label as an integer",
    "NotIn matches a node without the label",
    "an empty term matches no node",
    "matchFields selects by node name",
    "nodeSelector and affinity must both match",
])
def test_filter(pod, labels, fits):
    status = run_filter(node_affinity.new(), pod, node_info(make_node("node-1", labels=labels)))
    assert (status is None) == fits
    if status:
        assert status.reasons == ["node(s) didn't match Pod's node affinity/selector"]
        assert status.code == "UnschedulableAndUnresolvable"


def test_preferred_terms_score_by_weight_normalized_to_the_best_node():
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [expr("label-1", "In", "key-1")]}},
        {"weight": 50, "preference": {"matchExpressions": [expr("label-2", "In", "key-2")]}}]}})
    infos = [node_info(make_node("one", labels={"label-1": "key-1"})),
             node_info(make_node("fifty", labels={"label-2": "key-2"})),
             node_info(make_node("both", labels={"label-1": "key-1", "label-2": "key-2"})),
             node_info(make_node("none"))]
    assert run_scores(node_affinity.new(), pod, infos) == {"one": 1, "fifty": 98, "both": 100, "none": 0}
