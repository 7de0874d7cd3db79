"""DefaultPreemption: victims chosen the real way, PDBs, and the choice between candidate nodes."""

import pytest

from engine.scheduler.framework import CycleState
from engine.scheduler.plugins import default_preemption, node_resources_fit
from engine.scheduler.plugins.default_preemption import Candidate, DefaultPreemption
from engine.sim.loop import Loop

from scheduler_builders import FakeHandle, make_node, make_pod, node_info


class Handle(FakeHandle):
    def __init__(self, infos, pdbs=()):
        super().__init__(infos)
        self.loop = Loop(0)
        self.fit = node_resources_fit.new()
        self.pdbs = list(pdbs)

    def filter_node_for_preemption(self, state, pod, info):
        return self.fit.filter(CycleState(), pod, info)

    def pre_filter_extension(self, method, state, pod, other, info):
        return None

    def nominated_pods_for_node(self, node):
        return []

    def pdb_lister(self):
        pdbs = self.pdbs

        class Lister:
            @staticmethod
            def list():
                return pdbs
        return Lister()


def victims_on(node_pods, preemptor, pdbs=()):
    info = node_info(make_node("n", cpu="4"), *node_pods)
    plugin = default_preemption.new(None, Handle([info], pdbs))
    victims, violations, status = plugin.select_victims_on_node(CycleState(), preemptor, info.clone(), list(pdbs))
    return [v["metadata"]["name"] for v in victims], violations, status


def pdb(allowed, **labels):
    return {"metadata": {"name": "budget", "namespace": "default"},
            "spec": {"selector": {"matchLabels": labels}}, "status": {"disruptionsAllowed": allowed}}


@pytest.mark.parametrize("pods, preemptor, expected", [
    ([make_pod("a", cpu="2", priority=10), make_pod("b", cpu="2", priority=5)], make_pod(cpu="2", priority=100), ["b"]),
    ([make_pod("a", cpu="2", priority=10), make_pod("b", cpu="2", priority=5)], make_pod(cpu="4", priority=100),
     ["a", "b"]),
    ([make_pod("a", cpu="2", priority=100), make_pod("b", cpu="2", priority=5)], make_pod(cpu="2", priority=100),
     ["b"]),
    ([make_pod("a", cpu="3", priority=100), make_pod("b", cpu="1", priority=5)], make_pod(cpu="2", priority=100), None),
    ([make_pod("a", cpu="4", priority=100)], make_pod(cpu="1", priority=100), None),
], ids=[
    "the least important pod that makes room is the only victim",
    "all lower-priority pods go when the pod needs the whole node",
    "pods of equal priority are never victims",
    "a node where even evicting every lower-priority pod is not enough has no candidate",
    "a node without lower-priority pods has no victims to offer",
])
def test_victims(pods, preemptor, expected):
    victims, _, status = victims_on(pods, preemptor)
    assert (victims if status is None else None) == expected
    if expected is None and not any(p["spec"]["priority"] < 100 for p in pods):
        assert status.reasons == ["No preemption victims found for incoming pod"]


def test_a_pod_protected_by_a_budget_is_reprieved_first():
    pods = [make_pod("guarded", cpu="2", priority=1, labels={"app": "db"}), make_pod("free", cpu="2", priority=5)]
    victims, violations, _ = victims_on(pods, make_pod(cpu="2", priority=100), [pdb(0, app="db")])
    assert victims == ["free"] and violations == 0


def test_evicting_a_budgeted_pod_counts_as_a_violation_when_it_cannot_be_avoided():
    pods = [make_pod("guarded", cpu="2", priority=1, labels={"app": "db"}), make_pod("free", cpu="2", priority=5)]
    victims, violations, _ = victims_on(pods, make_pod(cpu="4", priority=100), [pdb(0, app="db")])
    assert sorted(victims) == ["free", "guarded"] and violations == 1


def candidate(node, *priorities, violations=0, start="2025-01-01T00:00:00Z"):
    victims = [make_pod(f"{node}-{i}", priority=p) for i, p in enumerate(priorities)]
    for victim in victims:
        victim["status"]["startTime"] = start
    return Candidate(node, victims, violations)


@pytest.mark.parametrize("candidates, chosen", [
    ([candidate("a", 1, violations=1), candidate("b", 50)], "b"),
    ([candidate("a", 50), candidate("b", 10, 10)], "b"),
    ([candidate("a", 10, 10), candidate("b", 10, 5)], "b"),
    ([candidate("a", 10, 10, 10), candidate("b", 10, 10)], "b"),
    ([candidate("a", 10, start="2025-01-01T00:00:00Z"), candidate("b", 10, start="2025-01-01T01:00:00Z")], "b"),
    ([candidate("a", 10), candidate("b", 10)], "a"),
], ids=[
    "fewest PDB violations wins first",
    "then the lowest highest-priority victim",
    "then the lowest sum of priorities",
    "then the fewest victims",
    "then the victims that started last",
    "then the first candidate found",
])
def test_pick_one_node_for_preemption(candidates, chosen):
    assert DefaultPreemption.select_candidate(candidates).node == chosen
