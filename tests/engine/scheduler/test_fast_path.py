"""The scheduler's memo of node-local verdicts and scores changes nothing: same placements on random clusters."""

from __future__ import annotations

import random

import pytest

import engine
from engine.scheduler.scheduler import Scheduler

ZONE = "topology.kubernetes.io/zone"


def random_nodes(rng: random.Random, count: int) -> list[dict]:
    nodes = []
    for index in range(count):
        taints = []
        if rng.random() < 0.2:
            taints.append({"key": "dedicated", "value": rng.choice(["db", "gpu"]), "effect": "NoSchedule"})
        if rng.random() < 0.3:
            taints.append({"key": "spot", "value": "true", "effect": "PreferNoSchedule"})
        cpu, memory = rng.choice(["2", "4", "8"]), rng.choice(["4Gi", "8Gi", "16Gi"])
        images = [{"names": ["nginx:latest"], "sizeBytes": 200 * 1024 * 1024}] if rng.random() < 0.3 else []
        nodes.append({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": f"n-{index:03}", "labels": {"kubernetes.io/hostname": f"n-{index:03}",
                                                                      ZONE: rng.choice(["a", "b", "c"])}},
                      "spec": {"taints": taints} if taints else {},
                      "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                                 "capacity": {"cpu": cpu, "memory": memory, "pods": "110"}, "images": images}})
    return nodes


def random_pods(rng: random.Random, count: int) -> list[dict]:
    pods = []
    for index in range(count):
        container: dict = {"name": "app", "image": rng.choice(["nginx", "redis"])}
        if rng.random() < 0.8:
            container["resources"] = {"requests": {"cpu": rng.choice(["100m", "500m", "1", "3"]),
                                                   "memory": rng.choice(["64Mi", "1Gi", "4Gi"])}}
        spec: dict = {"containers": [container]}
        if rng.random() < 0.2:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        if rng.random() < 0.2:
            spec["nodeSelector"] = {ZONE: rng.choice(["a", "b"])}
        if rng.random() < 0.2:
            spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": rng.randint(1, 100), "preference": {"matchExpressions": [
                    {"key": ZONE, "operator": "In", "values": [rng.choice(["a", "b", "c"])]}]}}]}}
        group = rng.choice(["red", "green", "blue"])
        roll = rng.random()
        term = {"labelSelector": {"matchLabels": {"group": group}}, "topologyKey": "kubernetes.io/hostname"}
        if roll < 0.1:
            spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
        elif roll < 0.2:
            spec["affinity"] = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "podAffinityTerm": dict(term, topologyKey=ZONE)}]}}
        elif roll < 0.3:
            spec["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": ZONE, "labelSelector": {
                "matchLabels": {"group": group}}, "whenUnsatisfiable": rng.choice(["DoNotSchedule", "ScheduleAnyway"])}]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"p-{index:03}", "labels": {"group": group}}, "spec": spec})
    return pods


def random_cluster(seed: int, nodes: int, *, cpu: str | None = None) -> tuple[random.Random, engine.Cluster]:
    """A cluster of ``nodes`` random nodes (each with ``cpu`` CPUs when given), and the source that made them."""
    rng = random.Random(seed)
    cluster = engine.Cluster(nodes=0, seed=seed, keep_history=False)
    for node in random_nodes(rng, nodes):
        if cpu is not None:
            node["status"]["allocatable"] = node["status"]["capacity"] = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
        cluster.admin.create(node)
    cluster.run(1)
    return rng, cluster


def placements(seed: int, nodes: int, pods: int) -> dict[str, str]:
    rng, cluster = random_cluster(seed, nodes)
    for index, pod in enumerate(random_pods(rng, pods)):
        cluster.admin.create(pod, "default")
        if index % 10 == 0:
            cluster.run(0.1)
    cluster.run(5)
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in cluster.list("pods")}


def explanations(seed: int, nodes: int, pods: int) -> dict[str, str]:
    """Each pod's latest decision as the scheduler explains it: every node's verdict, scores and total."""
    rng, cluster = random_cluster(seed, nodes)
    for pod in random_pods(rng, pods):
        cluster.admin.create(pod, "default")
        cluster.run(0.1)
    scheduler = cluster.components[("kube-scheduler", None)]
    return {key: str(decision) for key, decision in scheduler.decisions.items()}


@pytest.mark.parametrize("seed, nodes, pods", [(1, 30, 80), (2, 150, 300)], ids=[
    "a small cluster where every node is searched",
    "a cluster large enough that only part of it is searched (percentageOfNodesToScore)",
])
def test_the_memo_gives_the_placements_of_the_straightforward_path(monkeypatch, seed, nodes, pods):
    fast = placements(seed, nodes, pods)
    monkeypatch.setattr(Scheduler, "fast_path", False)
    plain = placements(seed, nodes, pods)
    assert fast == plain
    assert sum(1 for node in fast.values() if node) > pods // 2          # most pods were placed


def test_the_memo_gives_the_explanations_of_the_straightforward_path(monkeypatch):
    fast = explanations(4, 150, 120)
    monkeypatch.setattr(Scheduler, "fast_path", False)
    plain = explanations(4, 150, 120)
    assert fast == plain
    assert sum(1 for text in fast.values() if "total=" in text) > 100      # most decisions were scored


def affinity_placements(seed: int, nodes: int, pods: int) -> dict[str, str]:
    """Pods with required pod affinity and anti-affinity, while pods are deleted and nodes relabelled."""
    rng, cluster = random_cluster(seed, nodes)
    created: list[str] = []
    for index, pod in enumerate(random_pods(rng, pods)):
        group = pod["metadata"]["labels"]["group"]
        roll = rng.random()
        if roll < 0.15:
            pod["spec"]["affinity"] = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"group": group}}, "topologyKey": ZONE}]}}
        elif roll < 0.3:
            pod["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchExpressions": [{"key": "group", "operator": "In", "values": [group]}]},
                 "topologyKey": rng.choice([ZONE, "kubernetes.io/hostname"])}]}}
        cluster.admin.create(pod, "default")
        created.append(pod["metadata"]["name"])
        if index % 10 == 0:
            cluster.run(0.1)
        if index % 25 == 24:
            cluster.admin.delete("pods", rng.choice(created), "default", grace_period_seconds=0)
            node = cluster.admin.get("nodes", f"n-{rng.randrange(nodes):03}")
            node["metadata"]["labels"][ZONE] = rng.choice(["a", "b", "c"])
            cluster.admin.update(node)
    cluster.run(5)
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in cluster.list("pods")}


def test_inter_pod_affinity_counts_kept_in_step_give_the_plain_scans_placements(monkeypatch):
    fast = affinity_placements(3, 40, 160)
    monkeypatch.setattr(Scheduler, "fast_path", False)
    plain = affinity_placements(3, 40, 160)
    assert fast == plain
    assert sum(1 for node in fast.values() if node) > 40


def test_the_anti_affinity_mask_kept_in_step_refuses_the_nodes_the_listing_refuses():
    """affinity_counts.RejectedNodes, brought up to date from the counts' log, against the plugin's listing
    rebuilt from the counts, while pods come and go and nodes are relabelled."""
    from engine.scheduler.framework import CycleState

    rng, cluster = random_cluster(5, 40)
    scheduler = cluster.components[("kube-scheduler", None)]
    framework = scheduler.frameworks["default-scheduler"]
    plugin = framework.plugin("InterPodAffinity")
    checked = 0
    for index in range(120):
        group = rng.choice(["red", "green"])
        term = {"labelSelector": {"matchLabels": {"group": group}},
                "topologyKey": rng.choice([ZONE, "kubernetes.io/hostname"])}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"p-{index:03}", "namespace": "default", "uid": f"u-{index}",
                            "labels": {"group": group}},
               "spec": {"containers": [{"name": "app", "image": "nginx"}],
                        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}}
        state = CycleState()
        if framework.run_pre_filter(state, pod, scheduler.cache.node_infos) is None:
            masked = plugin.rejected_mask(state, pod)
            listed = plugin.rejected_nodes(state, pod)
            assert masked is not None and listed is not None
            mask, status_at = masked
            names = scheduler.cache.node_names
            assert {names[i] for i, refused in enumerate(mask) if refused} == set(listed)
            assert all(status_at(names.index(name)).reasons == status.reasons for name, status in listed.items())
            checked += 1
        created = dict(pod, metadata={k: v for k, v in pod["metadata"].items() if k != "uid"})
        cluster.admin.create(created, "default")
        cluster.run(0.2)
        if index % 3 == 2:
            pods = [p["metadata"]["name"] for p in cluster.list("pods")]
            cluster.admin.delete("pods", rng.choice(pods), "default", grace_period_seconds=0)
            cluster.run(0.2)
        if index % 40 == 39:
            node = cluster.admin.get("nodes", f"n-{rng.randrange(40):03}")
            node["metadata"]["labels"][ZONE] = rng.choice(["a", "b", "c"])
            cluster.admin.update(node)
            cluster.run(0.2)
    assert checked > 100


def preemption_outcome(seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """Low-priority pods fill the nodes, then higher-priority pods preempt them: where every pod ended, and
    each pod's latest decision as the scheduler explains it (pods nominated elsewhere count on their nodes)."""
    rng, cluster = random_cluster(seed, 12, cpu="2")
    for name, value in (("low", 10), ("mid", 500), ("high", 1000)):
        cluster.admin.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                              "metadata": {"name": name}, "value": value})
    for index in range(60):
        klass = "low" if index < 40 else rng.choice(["mid", "high"])
        cluster.admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{klass}-{index:03}"},
                              "spec": {"priorityClassName": klass, "terminationGracePeriodSeconds": 0,
                                       "tolerations": [{"operator": "Exists"}],
                                       "containers": [{"name": "app", "image": "nginx", "resources": {"requests": {
                                           "cpu": rng.choice(["500m", "1"]), "memory": "256Mi"}}}]}}, "default")
        cluster.run(0.3 if index >= 40 else 0.05)
    cluster.run(5)
    scheduler = cluster.components[("kube-scheduler", None)]
    placed = {p["metadata"]["name"]: p["spec"].get("nodeName", "") + "/" + (p.get("status") or {}).get(
        "nominatedNodeName", "") for p in cluster.list("pods")}
    return placed, {key: str(decision) for key, decision in scheduler.decisions.items()}


def test_the_memo_with_nominated_pods_gives_the_straightforward_path_s_preemptions(monkeypatch):
    fast = preemption_outcome(6)
    monkeypatch.setattr(Scheduler, "fast_path", False)
    plain = preemption_outcome(6)
    assert fast == plain
    assert sum(1 for name in fast[0] if name.startswith("low")) < 40          # some were preempted
    assert sum(1 for name, where in fast[0].items() if not name.startswith("low") and where.startswith("n-")) > 10


def test_profiles_built_again_leave_nothing_following_the_cache():
    from engine.scheduler.profile import default_configuration
    from engine.scheduler.registry import default_registry

    rng, cluster = random_cluster(7, 20)
    scheduler = cluster.components[("kube-scheduler", None)]

    def following() -> set[int]:
        return {id(sink) for sink in scheduler.cache._sinks}

    def kept_by_the_profiles() -> set[int]:
        kept = set()
        for framework in scheduler.frameworks.values():
            kept |= {id(memo.dirty) for memo in framework.__dict__.get("_memos", {}).values()}
            counts = getattr(framework.plugin("InterPodAffinity"), "_affinity_counts", None)
            if counts is not None:
                kept.add(id(counts.dirty))
        return kept

    for round_ in range(3):
        for pod in random_pods(rng, 30):
            pod["metadata"]["name"] += f"-{round_}"
            cluster.admin.create(pod, "default")
        cluster.run(2)
        assert len(kept_by_the_profiles()) >= 2          # memos of the pod shapes, and InterPodAffinity's counts
        assert following() == kept_by_the_profiles()
        scheduler.reconfigure(default_configuration(), default_registry())
        assert following() == set()
