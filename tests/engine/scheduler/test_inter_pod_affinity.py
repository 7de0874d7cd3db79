"""InterPodAffinity: the documentation's web-store / cache example, existing anti-affinity, and scoring."""

import pytest

from engine.scheduler.framework import CycleState
from engine.scheduler.plugins import inter_pod_affinity

from scheduler_builders import FakeHandle, make_node, make_pod, node_info, run_scores

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def term(app, key=HOST):
    return {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": [app]}]},
            "topologyKey": key}


def affinity(required=(), anti=(), preferred=(), preferred_anti=()):
    result = {}
    if required or preferred:
        result["podAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(required),
                                 "preferredDuringSchedulingIgnoredDuringExecution": list(preferred)}
    if anti or preferred_anti:
        result["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(anti),
                                     "preferredDuringSchedulingIgnoredDuringExecution": list(preferred_anti)}
    return result


def verdicts(pod, infos):
    plugin = inter_pod_affinity.new(None, FakeHandle(infos))
    state = CycleState()
    status = plugin.pre_filter(state, pod, infos)
    if status is not None and status.code == "Skip":
        return {info.name: None for info in infos}
    result = {}
    for info in infos:
        status = plugin.filter(state, pod, info)
        result[info.name] = status.reasons[0] if status else None
    return result


def nodes(**pods_by_node):
    return [node_info(make_node(name, labels={ZONE: "z1" if name in ("n1", "n2") else "z2"}), *pods)
            for name, pods in pods_by_node.items()]


CACHE = make_pod("cache", labels={"app": "store"}, affinity=affinity(anti=[term("store")]))


@pytest.mark.parametrize("pod, infos, expected", [
    (make_pod(labels={"app": "web"}, affinity=affinity(required=[term("store")])),
     nodes(n1=[make_pod("s", labels={"app": "store"})], n2=[], n3=[]),
     {"n1": None, "n2": "node(s) didn't match pod affinity rules", "n3": "node(s) didn't match pod affinity rules"}),
    (make_pod(labels={"app": "web"}, affinity=affinity(required=[term("store", ZONE)])),
     nodes(n1=[make_pod("s", labels={"app": "store"})], n2=[], n3=[]),
     {"n1": None, "n2": None, "n3": "node(s) didn't match pod affinity rules"}),
    (make_pod(labels={"app": "store"}, affinity=affinity(required=[term("store")])), nodes(n1=[], n2=[]),
     {"n1": None, "n2": None}),
    (make_pod(labels={"app": "web"}, affinity=affinity(anti=[term("web")])),
     nodes(n1=[make_pod("w", labels={"app": "web"})], n2=[]),
     {"n1": "node(s) didn't match pod anti-affinity rules", "n2": None}),
    (make_pod(labels={"app": "store"}), nodes(n1=[CACHE], n2=[]),
     {"n1": "node(s) didn't satisfy existing pods anti-affinity rules", "n2": None}),
    (make_pod(labels={"app": "store"}, namespace="other"), nodes(n1=[CACHE], n2=[]), {"n1": None, "n2": None}),
], ids=[
    "required affinity by hostname: only the node running a matching pod",
    "required affinity by zone: any node in that zone",
    "the first pod of a group that matches its own affinity may go anywhere",
    "required anti-affinity keeps the pod away from matching pods",
    "an existing pod's anti-affinity keeps a matching pod away from it (symmetry)",
    "terms select pods in the term's own namespace only",
])
def test_filter(pod, infos, expected):
    assert verdicts(pod, infos) == expected


def test_preferred_affinity_and_anti_affinity_score_nodes_between_lowest_and_highest():
    infos = nodes(n1=[make_pod("s", labels={"app": "store"})], n2=[make_pod("w", labels={"app": "web"})], n3=[])
    pod = make_pod(labels={"app": "web"}, affinity=affinity(
        preferred=[{"weight": 10, "podAffinityTerm": term("store")}],
        preferred_anti=[{"weight": 5, "podAffinityTerm": term("web")}]))
    # n1 +10, n2 -5, n3 0: (s - (-5)) / 15
    assert run_scores(inter_pod_affinity.new(None, FakeHandle(infos)), pod, infos) == {"n1": 100, "n2": 0, "n3": 33}


def test_existing_pods_required_affinity_attracts_with_the_hard_weight():
    infos = nodes(n1=[make_pod("fan", labels={"app": "fan"}, affinity=affinity(required=[term("web")]))], n2=[])
    scores = run_scores(inter_pod_affinity.new(None, FakeHandle(infos)), make_pod(labels={"app": "web"}), infos)
    assert scores == {"n1": 100, "n2": 0}


class CacheHandle:
    """The scheduler's own cache as the snapshot: the plugin counts from its label index instead of scanning."""

    def __init__(self, infos):
        from engine.scheduler.cache import SchedulerCache
        self.snapshot = SchedulerCache()
        for info in infos:
            self.snapshot.add_node(info.node)
            for pod in info.pods.values():
                self.snapshot.add_pod(pod)


@pytest.mark.parametrize("pod, infos, expected", test_filter.pytestmark[0].args[1],
                         ids=test_filter.pytestmark[0].kwargs["ids"])
def test_filter_from_the_label_index_agrees_with_the_scan(pod, infos, expected):
    plugin = inter_pod_affinity.new(None, CacheHandle(infos))
    state = CycleState()
    status = plugin.pre_filter(state, pod, infos)
    skipped = status is not None and status.code == "Skip"
    result = {}
    for info in infos:
        status = None if skipped else plugin.filter(state, pod, info)
        result[info.name] = status.reasons[0] if status else None
    assert result == expected


def test_removing_the_pod_that_anti_affinity_avoids_makes_the_node_feasible_on_a_state_copy():
    """PreFilterExtensions: what preemption's dry run relies on to free a node from anti-affinity."""
    blocker = make_pod("blocker", labels={"app": "cache"})
    infos = [node_info(make_node("n1"), blocker)]
    pod = make_pod("web", affinity=affinity(anti=[term("cache")]))
    plugin = inter_pod_affinity.new(None, FakeHandle(infos))
    state = CycleState()
    assert plugin.pre_filter(state, pod, infos) is None
    assert plugin.filter(state, pod, infos[0]).reasons == ["node(s) didn't match pod anti-affinity rules"]
    copy, node = state.clone(), infos[0].clone()
    victim = node.remove_pod("default/blocker")
    plugin.remove_pod(copy, pod, victim, node)
    assert plugin.filter(copy, pod, node) is None
    assert plugin.filter(state, pod, infos[0]) is not None


def test_a_term_is_the_same_term_whatever_namespace_its_pod_is_in_unless_it_defaults_to_that_namespace():
    from engine.scheduler.plugins.inter_pod_affinity import _term

    listed = {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname",
              "namespaces": ["sched-1", "sched-0"]}
    defaulted = {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname"}
    in_0, in_1 = make_pod(namespace="sched-0"), make_pod(namespace="sched-1")
    assert _term(listed, in_0).key == _term(listed, in_1).key
    assert _term(defaulted, in_0).key != _term(defaulted, in_1).key


def test_anti_affinity_of_a_pod_seen_before_its_node_still_repels_once_the_node_arrives() -> None:
    from engine.scheduler.cache import SchedulerCache

    cache = SchedulerCache()
    cache.add_node(make_node("n2"))
    placed = make_pod("cache", labels={"app": "store"}, affinity=affinity(anti=[term("store")]))
    cache.add_pod(dict(placed, metadata=dict(placed["metadata"], uid="u-cache"),
                       spec=dict(placed["spec"], nodeName="n1")))          # n1 is not known yet
    cache.add_node(make_node("n1"))
    assert "n1" in cache.affinity_nodes
    handle = CacheHandle([])
    handle.snapshot = cache
    plugin = inter_pod_affinity.new(None, handle)
    pod = make_pod("other", labels={"app": "store"})
    state = CycleState()
    assert plugin.pre_filter(state, pod, cache.node_infos) is None
    rejected = {info.name: plugin.filter(state, pod, info) for info in cache.node_infos}
    assert rejected["n1"].reasons == ["node(s) didn't satisfy existing pods anti-affinity rules"]
    assert rejected["n2"] is None


def test_with_no_pod_affinity_anywhere_both_extension_points_skip() -> None:
    from engine.scheduler.cache import SchedulerCache

    cache = SchedulerCache()
    cache.add_node(make_node("n1"))
    handle = CacheHandle([])
    handle.snapshot = cache
    plugin = inter_pod_affinity.new(None, handle)
    pod = make_pod("plain", labels={"app": "web"})
    assert plugin.pre_filter(CycleState(), pod, cache.node_infos).code == "Skip"
    assert plugin.pre_score(CycleState(), pod, cache.node_infos).code == "Skip"
