"""The DaemonSet controller's pure decisions: where a daemon pod runs, its tolerations, the rolling-update step."""

import pytest

from engine.controllers import daemonset_util as util


def node(name="node-1", labels=None, taints=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def ds(spec=None, strategy=None):
    return {"metadata": {"name": "agent", "namespace": "default"},
            "spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                "containers": [{"name": "agent", "image": "nginx"}], **(spec or {})}},
                "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}}}


CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.mark.parametrize("the_node, spec, expected", [
    (node(), {}, (True, True)),
    (node(taints=[CP_TAINT]), {}, (False, True)),
    (node(taints=[CP_TAINT]), {"tolerations": [{"key": CP_TAINT["key"], "operator": "Exists",
                                               "effect": "NoSchedule"}]}, (True, True)),
    (node(taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}]), {}, (False, False)),
    (node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]), {}, (True, True)),
    (node(taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]), {}, (True, True)),
    (node(taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]), {},
     (False, True)),
    (node(taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
     {"hostNetwork": True}, (True, True)),
    (node(labels={"disk": "hdd"}), {"nodeSelector": {"disk": "ssd"}}, (False, False)),
    (node(labels={"disk": "ssd"}), {"nodeSelector": {"disk": "ssd"}}, (True, True)),
    (node("node-2"), {"nodeName": "node-1"}, (False, False)),
], ids=[
    "a plain node runs the pod",
    "the control-plane taint keeps new pods off but lets a running one stay",
    "with the control-plane toleration it runs there too",
    "an untolerated NoExecute taint evicts",
    "not-ready is tolerated automatically",
    "a cordoned node still runs daemon pods",
    "network-unavailable is tolerated only by hostNetwork pods",
    "a hostNetwork pod tolerates network-unavailable",
    "a nodeSelector that does not match",
    "a nodeSelector that matches",
    "a template pinned to another node",
])
def test_should_run(the_node, spec, expected):
    assert util.should_run(the_node, ds(spec)) == expected


def test_the_automatic_tolerations_come_after_the_templates_own_and_are_not_repeated():
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
    tolerations = util.daemon_tolerations({"tolerations": [own]})
    assert [t["key"] for t in tolerations] == [
        "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"]


def pod(name, hash_, ready=True, since=0):
    conditions = [{"type": "Ready", "status": "True" if ready else "False",
                   "lastTransitionTime": "2025-01-01T00:00:00Z"}]
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": hash_},
                         "creationTimestamp": "2025-01-01T00:00:00Z"}, "status": {"conditions": conditions}}


@pytest.mark.parametrize("rolling, node_pods, delete, create_on", [
    ({"maxUnavailable": 1}, {"a": [pod("a1", "old")], "b": [pod("b1", "old")], "c": [pod("c1", "old")]},
     ["a1"], []),
    ({"maxUnavailable": 2}, {"a": [pod("a1", "old")], "b": [pod("b1", "old")], "c": [pod("c1", "old")]},
     ["a1", "b1"], []),
    ({"maxUnavailable": 1}, {"a": [pod("a1", "new", ready=False)], "b": [pod("b1", "old")]}, [], []),
    ({"maxUnavailable": 1}, {"a": [pod("a1", "new")], "b": [pod("b1", "old", ready=False)],
                             "c": [pod("c1", "old")]}, ["b1", "c1"], []),
    ({"maxUnavailable": "50%"}, {n: [pod(n + "1", "old")] for n in "abc"}, ["a1", "b1"], []),
    ({"maxSurge": 1, "maxUnavailable": 0}, {"a": [pod("a1", "old")], "b": [pod("b1", "old")]}, [], ["a"]),
    ({"maxSurge": 1, "maxUnavailable": 0}, {"a": [pod("a1", "old"), pod("a2", "new", ready=False)],
                                            "b": [pod("b1", "old")]}, [], []),
    ({"maxSurge": 1, "maxUnavailable": 0}, {"a": [pod("a1", "old"), pod("a2", "new")],
                                            "b": [pod("b1", "old")]}, ["a1"], ["b"]),
], ids=[
    "maxUnavailable 1: one old pod at a time",
    "maxUnavailable 2: two at a time",
    "a new pod not yet available uses up the budget",
    "an unavailable old pod is replaced without counting, and the budget still allows one more",
    "50% of 3 nodes rounds up to 2",
    "maxSurge 1: a new pod starts beside one old pod",
    "while the surged pod is not available, nothing more",
    "once it is available the old pod goes and the next node surges",
])
def test_rolling_update_plan(rolling, node_pods, delete, create_on):
    daemon = ds(strategy={"type": "RollingUpdate", "rollingUpdate": rolling})
    plan = util.rolling_update_plan(daemon, node_pods, "new", len(node_pods), now=100.0)
    assert (plan.delete, plan.create_on) == (delete, create_on)


def test_pin_to_node_replaces_required_terms_and_keeps_the_rest():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}}
    pinned = util.pin_to_node(affinity, "node-2")
    assert pinned["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}]}
    assert pinned["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
