"""kube-scheduler (engine/scheduler): pods scheduled per second on scheduler_perf's workload shapes.

Each workload builds a cluster with an in-process API server and the
scheduler component only (no kubelets: nodes are Node objects, as
scheduler_perf's are), creates ``init`` pods and lets them be scheduled,
then creates the measured pods and times, in wall seconds, how long the
scheduler takes to bind them all (every bind, event and status write goes
through the API server's whole pipeline; the watch events come back through
the scheduler's informers).

Shapes follow kubernetes/test/integration/scheduler_perf/config
(node-default.yaml: 4 CPU, 32Gi, 110 pods; pod-default.yaml: 100m / 500Mi):

* SchedulingBasic: 5,000 nodes, 1,000 init pods, 10,000 measured pods;
* SchedulingNodeAffinity: 5,000 nodes labelled with one of two zones, pods requiring zone1;
* SchedulingPodAntiAffinity: 5,000 nodes, pods with required anti-affinity to each other by hostname.

Each row is printed beside the upstream CI floor for the same workload (the
``threshold`` of performance-config.yaml as quoted in issue 5: 680, 220 and 60
pods/s); a ratio above 1 beats it.
"""

from __future__ import annotations

import time

import engine
from engine.components import COMPONENTS
from engine.scheduler import SCHEDULER

UPSTREAM_FLOORS = {"SchedulingBasic": 680.0, "SchedulingNodeAffinity": 220.0, "SchedulingPodAntiAffinity": 60.0}
"""Pods/s floors of the upstream scheduler_perf CI (performance-config.yaml thresholds, per issue 5)."""

ZONE = "topology.kubernetes.io/zone"


def node(index: int, labels: dict | None = None) -> dict:
    allocatable = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"scheduler-perf-{index}",
                         "labels": {"kubernetes.io/hostname": f"scheduler-perf-{index}", **(labels or {})}},
            "status": {"allocatable": allocatable, "capacity": dict(allocatable)}}


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": spec.pop("labels", {})},
            "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                     "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}], **spec}}


def _scheduler(cluster: engine.Cluster):
    return cluster.components[("kube-scheduler", None)]


def _schedule_all(cluster: engine.Cluster, pods: list[dict]) -> float:
    """Create ``pods`` (not timed), then the wall seconds until the scheduler has tried each of them."""
    scheduler = _scheduler(cluster)
    for manifest in pods:
        cluster.admin.create(manifest, "default")
    target = scheduler.scheduled + len(pods)
    attempts = scheduler.queue.scheduling_cycle + len(pods)
    started = time.perf_counter()
    while scheduler.scheduled < target and scheduler.queue.scheduling_cycle < attempts:
        cluster.run(1)
    return time.perf_counter() - started


def workload(name: str, nodes: int, init: int, measured: int, node_labels=None, pod_spec=None) -> float:
    cluster = engine.Cluster(nodes=0, seed=0, components=[*COMPONENTS, SCHEDULER], keep_history=False)
    for index in range(nodes):
        cluster.admin.create(node(index, node_labels(index) if node_labels else None))
    cluster.run(1)
    _schedule_all(cluster, [pod(f"init-{index}") for index in range(init)])
    spec = pod_spec or (lambda index: {})
    elapsed = _schedule_all(cluster, [pod(f"{name.lower()}-{index}", **spec(index)) for index in range(measured)])
    bound = sum(1 for p in cluster.list("pods") if p["spec"].get("nodeName")) - init
    return bound / elapsed


def _zone(index: int) -> dict:
    return {ZONE: "zone1" if index % 2 == 0 else "zone2"}


def _node_affinity(index: int) -> dict:
    return {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone1"]}]}]}}}}


def _anti_affinity(index: int) -> dict:
    return {"labels": {"color": "green"}, "affinity": {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname"}]}}}


def run() -> list[tuple[str, float, str]]:
    results = [
        ("SchedulingBasic", workload("SchedulingBasic", 5_000, 1_000, 10_000)),
        ("SchedulingNodeAffinity", workload("SchedulingNodeAffinity", 5_000, 1_000, 5_000,
                                            node_labels=_zone, pod_spec=_node_affinity)),
        ("SchedulingPodAntiAffinity", workload("SchedulingPodAntiAffinity", 5_000, 1_000, 1_000,
                                               pod_spec=_anti_affinity)),
    ]
    rows: list[tuple[str, float, str]] = []
    for name, rate in results:
        rows.append((f"{name} (5,000 nodes)", rate, "pods/s"))
        rows.append((f"{name}: ratio to the upstream CI floor of {UPSTREAM_FLOORS[name]:.0f} pods/s",
                     rate / UPSTREAM_FLOORS[name], "x"))
    return rows
