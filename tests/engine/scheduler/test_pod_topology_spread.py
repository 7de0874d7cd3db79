"""PodTopologySpread: the "Pod Topology Spread Constraints" documentation's examples, and scoring."""

import pytest

from engine.scheduler.framework import CycleState
from engine.scheduler.plugins import pod_topology_spread

from scheduler_builders import FakeHandle, make_node, make_pod, node_info, run_scores

ZONE = "topology.kubernetes.io/zone"
FOO = {"matchLabels": {"foo": "bar"}}


def constraint(key=ZONE, max_skew=1, when="DoNotSchedule", **extra):
    return {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": FOO, **extra}


def cluster(counts: dict[str, int], zones: dict[str, str]):
    """Nodes with zone labels, each holding ``counts[node]`` pods labelled foo=bar."""
    infos = []
    for name, zone in zones.items():
        labels = {ZONE: zone} if zone else {}
        pods = [make_pod(f"{name}-p{i}", labels={"foo": "bar"}) for i in range(counts.get(name, 0))]
        infos.append(node_info(make_node(name, labels=labels), *pods))
    return infos


def feasible(pod, infos):
    plugin = pod_topology_spread.new(None, FakeHandle(infos))
    state = CycleState()
    assert plugin.pre_filter(state, pod, infos) is None
    verdicts = {}
    for info in infos:
        status = plugin.filter(state, pod, info)
        verdicts[info.name] = status.reasons[0] if status else None
    return verdicts


DOC_ZONES = {"node1": "zoneA", "node2": "zoneA", "node3": "zoneB", "node4": "zoneB"}
SKEW = "node(s) didn't match pod topology spread constraints"


@pytest.mark.parametrize("constraints, counts, zones, expected", [
    ([constraint()], {"node1": 1, "node2": 1, "node3": 1}, DOC_ZONES,
     {"node1": SKEW, "node2": SKEW, "node3": None, "node4": None}),
    ([constraint(max_skew=2)], {"node1": 1, "node2": 1, "node3": 1}, DOC_ZONES,
     {"node1": None, "node2": None, "node3": None, "node4": None}),
    ([constraint(), constraint(key="kubernetes.io/hostname")], {"node1": 1, "node2": 1, "node3": 1}, DOC_ZONES,
     {"node1": SKEW, "node2": SKEW, "node3": SKEW, "node4": None}),
    ([constraint()], {"node1": 1}, {"node1": "zoneA", "node2": ""},
     {"node1": None, "node2": SKEW + " (missing required label)"}),
    ([constraint(minDomains=3)], {"node1": 1, "node3": 1}, DOC_ZONES,
     {"node1": SKEW, "node2": SKEW, "node3": SKEW, "node4": SKEW}),
], ids=[
    "one constraint: with 2 pods in zoneA and 1 in zoneB the pod must go to zoneB",
    "a larger maxSkew lets the pod go to the fuller zone",
    "two constraints: zoneB by zone, and of zoneB only the empty node by hostname",
    "a node without the topology key is rejected as unresolvable",
    "with fewer domains than minDomains the minimum counts as zero",
])
def test_filter(constraints, counts, zones, expected):
    pod = make_pod(labels={"foo": "bar"}, spread=constraints)
    assert feasible(pod, cluster(counts, zones)) == expected


def test_a_pod_that_does_not_match_its_own_selector_does_not_count_itself():
    pod = make_pod(labels={"other": "x"}, spread=[constraint()])
    verdicts = feasible(pod, cluster({"node1": 1, "node2": 1, "node3": 1}, DOC_ZONES))
    assert verdicts == {"node1": None, "node2": None, "node3": None, "node4": None}


def test_schedule_anyway_prefers_the_domain_with_fewer_matching_pods():
    infos = cluster({"node1": 2, "node2": 1, "node3": 0}, {"node1": "a", "node2": "b", "node3": "c"})
    pod = make_pod(labels={"foo": "bar"}, spread=[constraint(when="ScheduleAnyway")])
    plugin = pod_topology_spread.new(None, FakeHandle(infos))
    # log(3 + 2) = 1.609: raw 3.2, 1.6, 0 -> rounded 3, 2, 0 -> 100 * (3 + 0 - s) / 3
    assert run_scores(plugin, pod, infos) == {"node1": 0, "node2": 33, "node3": 100}


def test_system_defaults_apply_only_to_pods_selected_by_a_service_or_workload():
    infos = cluster({}, {"node1": "a"})
    plugin = pod_topology_spread.new(None, FakeHandle(infos))
    assert plugin.constraints(make_pod(labels={"foo": "bar"}), "ScheduleAnyway") == []


class _Listers(FakeHandle):
    """A handle with the workload listers DefaultSelector reads (objects in namespace "default")."""

    def __init__(self, infos, **objects) -> None:
        super().__init__(infos)
        self.objects = objects

    def workload_listers(self, resource):
        items = self.objects.get(resource, [])
        handle = self

        class Lister:
            def list(self, namespace):
                handle.listed.append(resource)
                return items

            def get(self, namespace, name):
                return next((o for o in items if o["metadata"]["name"] == name), None)
        return Lister()

    listed: list = []


def _owned(pod, kind, name, controller=True):
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": kind, "name": name, "uid": "u",
                                           "controller": controller}]
    return pod


def _selected(plugin, pod):
    constraints = plugin.constraints(pod, "ScheduleAnyway")
    if not constraints:
        return None
    assert [c.topology_key for c in constraints] == ["kubernetes.io/hostname", ZONE]
    return sorted(str(r) for r in constraints[0].selector.requirements)


def test_the_default_selector_joins_the_services_selecting_the_pod_and_its_controller():
    """helper.DefaultSelector: Services whose selector matches the pod's labels, and the controller (only the
    controller reference counts) among ReplicationControllers, ReplicaSets and StatefulSets."""
    infos = cluster({}, {"node1": "a"})
    services = [{"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}},
                {"metadata": {"name": "other"}, "spec": {"selector": {"app": "db"}}},
                {"metadata": {"name": "all"}, "spec": {"selector": {}}}]
    replicasets = [{"metadata": {"name": "web-1"}, "spec": {"selector": {"matchLabels": {"hash": "1"}}}}]
    rcs = [{"metadata": {"name": "legacy"}, "spec": {"selector": {"tier": "old"}}}]
    plugin = pod_topology_spread.new(None, _Listers(infos, services=services, replicasets=replicasets,
                                                    replicationcontrollers=rcs))
    web = make_pod(labels={"app": "web", "hash": "1"})
    assert len(_selected(plugin, web)) == 1 and "app" in _selected(plugin, web)[0]
    by_rs = _selected(plugin, _owned(make_pod(labels={"app": "web", "hash": "1"}), "ReplicaSet", "web-1"))
    assert len(by_rs) == 2 and any("hash" in r for r in by_rs)
    by_rc = _selected(plugin, _owned(make_pod(labels={"tier": "old"}), "ReplicationController", "legacy"))
    assert len(by_rc) == 1 and "tier" in by_rc[0]
    assert _selected(plugin, _owned(make_pod(labels={"x": "y"}), "ReplicaSet", "web-1", controller=False)) is None
    assert _selected(plugin, make_pod(labels={"app": "api"})) is None


def test_a_pod_without_labels_is_selected_by_no_service_and_reads_none():
    infos = cluster({}, {"node1": "a"})
    handle = _Listers(infos, services=[{"metadata": {"name": "all"}, "spec": {"selector": {}}}])
    handle.listed = []
    plugin = pod_topology_spread.new(None, handle)
    assert plugin.constraints(make_pod(labels={}), "ScheduleAnyway") == []
    assert handle.listed == []
    assert plugin.constraints(make_pod(labels={"a": "b"}), "ScheduleAnyway") == []
    assert handle.listed == ["services"]


def test_the_remove_and_add_extensions_move_the_counts_a_dry_run_sees_on_a_state_copy():
    """PreFilterExtensions: preemption removes a victim from a node copy; the skew follows, the original does not."""
    infos = cluster({"node1": 2, "node2": 0}, {"node1": "zoneA", "node2": "zoneB"})
    pod = make_pod("new", labels={"foo": "bar"}, spread=[constraint()])
    plugin = pod_topology_spread.new(None, FakeHandle(infos))
    state = CycleState()
    plugin.pre_filter(state, pod, infos)
    assert plugin.filter(state, pod, infos[0]).reasons == [SKEW]           # zoneA 2+1 vs zoneB 0
    copy, node = state.clone(), infos[0].clone()
    for victim in list(node.pods.values()):
        node.remove_pod(f"default/{victim['metadata']['name']}")
        plugin.remove_pod(copy, pod, victim, node)
    assert plugin.filter(copy, pod, node) is None
    assert plugin.filter(state, pod, infos[0]).reasons == [SKEW]
    plugin.add_pod(copy, pod, make_pod("back", labels={"foo": "bar"}), node)
    plugin.add_pod(copy, pod, make_pod("again", labels={"foo": "bar"}), node)
    assert plugin.filter(copy, pod, node).reasons == [SKEW]
