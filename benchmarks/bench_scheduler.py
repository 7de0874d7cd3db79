"""kube-scheduler (engine/scheduler): pods scheduled per second on scheduler_perf's workload shapes.

Each workload builds a cluster with an in-process API server and the
scheduler component (no kubelets: nodes are Node objects, as scheduler_perf's
are), creates the ``init`` pods and lets them be scheduled, then creates the
measured pods and times, in wall seconds, how long the scheduler takes to
bind them all, in wall seconds and in CPU seconds of the process (the two
agree on an idle machine; on a shared one the CPU figure is the fair one).
Every Binding, Event and status write goes through the API server's whole
pipeline, and the watch events come back through the scheduler's
informers, all on one core.

The shapes are those of kubernetes/test/integration/scheduler_perf
(templates/node-default.yaml: 4 CPU, 32Gi, 110 pods; templates/pod-default.yaml:
100m / 500Mi), with the CI floors (``threshold``, in pods/s) of the workloads
labelled ``performance``, read from kubernetes/kubernetes at the commits below:

* SchedulingBasic/5000Nodes_10000Pods: 5,000 nodes, 1,000 init pods, 10,000
  measured pods; threshold 680 (misc/performance-config.yaml @ 008b3652959c);
* SchedulingNodeAffinity/5000Nodes_10000Pods: every node labelled
  ``topology.kubernetes.io/zone: zone1``, pods requiring zone1 or zone2
  (templates/pod-with-node-affinity.yaml), 5,000 init and 10,000 measured;
  threshold 220 (affinity/performance-config.yaml @ 1bd6a8f3c425);
* SchedulingPodAntiAffinity/5000Nodes_2000Pods: pods labelled ``color: green``
  that refuse a node holding another (templates/pod-with-pod-anti-affinity.yaml),
  1,000 init in namespace sched-0 and 2,000 measured in sched-1; threshold 60
  (affinity/performance-config.yaml @ 1bd6a8f3c425);
* PreemptionBasic/1000Nodes: 4,000 low-priority pods of 900m (four per node),
  then 1,000 pods of ``priority: 10`` and 3 CPU, each preempting three of them
  (templates/pod-low-priority.yaml, pod-high-priority.yaml). Upstream records
  no threshold for it (its 5,000-node variant is disabled,
  kubernetes/kubernetes#108308), so the row has no floor.

The cluster is set up as scheduler_perf's ``mustSetupCluster`` sets up its
own (util.go): an API server started with
``--disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority``
("as we don't have serviceaccount controller running") and the scheduler,
and no kube-controller-manager (upstream starts some of its controllers only
for DRA workloads, none of these). One difference makes the engine's work
larger, not smaller: its scheduler talks to the API server as
``system:kube-scheduler`` through RBAC, where upstream's uses the loopback
admin client.

The DESIGN's scale target, 5,000 nodes and 150,000 pods, takes minutes and
is opt-in: ``make bench BENCH_ARGS=scheduler BENCH_SCHEDULER_SCALE=1``.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass
from typing import Callable

import engine
from engine.apiserver.admission import AdmissionChain
from engine.components import COMPONENTS

ZONE = "topology.kubernetes.io/zone"
SOURCE = "kubernetes/kubernetes test/integration/scheduler_perf/{}/performance-config.yaml"
STALL_SECONDS = 30.0
"""Virtual seconds without a single bind after which a workload is considered finished."""


def node(index: int, labels: dict | None = None) -> dict:
    allocatable = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"scheduler-perf-{index}",
                         "labels": {"kubernetes.io/hostname": f"scheduler-perf-{index}", **(labels or {})}},
            "status": {"allocatable": allocatable, "capacity": dict(allocatable)}}


def pod(name: str, cpu: str = "100m", namespace: str = "default", labels: dict | None = None, **spec) -> dict:
    resources = {"cpu": cpu, "memory": "500Mi"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                     "ports": [{"containerPort": 80}],
                                     "resources": {"requests": resources, "limits": dict(resources)}}], **spec}}


def default_pod(name: str, namespace: str = "default") -> dict:
    return pod(name, namespace=namespace)


def node_affinity_pod(name: str, namespace: str = "default") -> dict:
    return pod(name, namespace=namespace, affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone1", "zone2"]}]}]}}})


def anti_affinity_pod(name: str, namespace: str = "default") -> dict:
    return pod(name, namespace=namespace, labels={"color": "green"}, affinity={"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname",
             "namespaces": ["sched-1", "sched-0"]}]}})


def low_priority_pod(name: str, namespace: str = "default") -> dict:
    return pod(name, cpu="900m", namespace=namespace, terminationGracePeriodSeconds=0)


def high_priority_pod(name: str, namespace: str = "default") -> dict:
    return pod(name, cpu="3000m", namespace=namespace, priority=10)


@dataclass
class Workload:
    name: str
    nodes: int
    init: int
    measured: int
    floor: float | None = None
    source: str = ""
    node_labels: dict | None = None
    init_pod: Callable[[str, str], dict] = default_pod
    measured_pod: Callable[[str, str], dict] = default_pod
    init_namespace: str = "default"
    measured_namespace: str = "default"


WORKLOADS = [
    Workload("SchedulingBasic/5000Nodes_10000Pods", 5_000, 1_000, 10_000, 680.0, SOURCE.format("misc")),
    Workload("SchedulingNodeAffinity/5000Nodes_10000Pods", 5_000, 5_000, 10_000, 220.0, SOURCE.format("affinity"),
             node_labels={ZONE: "zone1"}, init_pod=node_affinity_pod, measured_pod=node_affinity_pod),
    Workload("SchedulingPodAntiAffinity/5000Nodes_2000Pods", 5_000, 1_000, 2_000, 60.0, SOURCE.format("affinity"),
             init_pod=anti_affinity_pod, measured_pod=anti_affinity_pod, init_namespace="sched-0",
             measured_namespace="sched-1"),
    Workload("PreemptionBasic/1000Nodes", 1_000, 4_000, 1_000, None, SOURCE.format("misc"),
             init_pod=low_priority_pod, measured_pod=high_priority_pod),
]
SCALE = Workload("DESIGN scale target: 5,000 nodes, 150,000 pods", 5_000, 0, 150_000)


def _scheduler(cluster: engine.Cluster):
    return cluster.components[("kube-scheduler", None)]


def _bound(cluster: engine.Cluster, namespace: str, prefix: str) -> int:
    return sum(1 for p in cluster.apiserver.cached_list("pods", namespace)
               if p["spec"].get("nodeName") and p["metadata"]["name"].startswith(prefix))


def schedule_all(cluster: engine.Cluster, pods: list[dict], namespace: str,
                 prefix: str) -> tuple[int, float, float]:
    """Create ``pods`` (not timed); then (how many got bound, wall seconds and CPU seconds of this process
    until all were, or binding stalled)."""
    scheduler = _scheduler(cluster)
    for manifest in pods:
        cluster.admin.create(manifest, namespace)
    started, cpu_started = time.perf_counter(), time.process_time()
    last_progress, last_count = cluster.now, scheduler.scheduled
    bound = _bound(cluster, namespace, prefix)
    while bound < len(pods) and cluster.now - last_progress < STALL_SECONDS:
        cluster.run(1)
        if scheduler.scheduled != last_count:
            last_progress, last_count = cluster.now, scheduler.scheduled
        bound = _bound(cluster, namespace, prefix)
    return bound, time.perf_counter() - started, time.process_time() - cpu_started


DISABLED_ADMISSION = {"ServiceAccount", "TaintNodesByCondition", "Priority"}
"""scheduler_perf's ``--disable-admission-plugins`` (the engine has no TaintNodesByCondition plugin)."""


def build(workload: Workload) -> engine.Cluster:
    """An API server and kube-scheduler, as scheduler_perf starts them, with the workload's nodes."""
    scheduler = [spec for spec in COMPONENTS if spec.name == "kube-scheduler"]
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False, components=scheduler)
    admission = cluster.apiserver.admission
    cluster.apiserver.admission = AdmissionChain([plugin for plugin in admission.plugins
                                                  if plugin.name not in DISABLED_ADMISSION])
    for namespace in {workload.init_namespace, workload.measured_namespace} - {"default"}:
        cluster.admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for index in range(workload.nodes):
        cluster.admin.create(node(index, workload.node_labels))
    cluster.run(1)
    return cluster


def measure(workload: Workload) -> tuple[float, float]:
    """Measured pods bound per wall second, and per CPU second of this process."""
    cluster = build(workload)
    schedule_all(cluster, [workload.init_pod(f"init-{i}", workload.init_namespace) for i in range(workload.init)],
                 workload.init_namespace, "init-")
    namespace = workload.measured_namespace
    bound, elapsed, cpu = schedule_all(cluster, [workload.measured_pod(f"measured-{i}", namespace)
                                                 for i in range(workload.measured)], namespace, "measured-")
    return bound / elapsed, bound / cpu


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    workloads = WORKLOADS + ([SCALE] if os.environ.get("BENCH_SCHEDULER_SCALE") else [])
    for workload in workloads:
        # The previous workload's cluster is garbage now: collect it, untimed, so that no workload's full
        # collections walk another's leftovers (scheduler_perf gives each workload a fresh cluster).
        gc.collect()
        rate, cpu_rate = measure(workload)
        rows.append((workload.name, rate, "pods/s"))
        rows.append(("  the same per CPU second (what a loaded machine's wall clock hides)", cpu_rate, "pods/s"))
        if workload.floor is not None:
            rows.append((f"  upstream CI floor (threshold in {workload.source})", workload.floor, "pods/s"))
            rows.append(("  ratio to the floor (wall)", rate / workload.floor, "x"))
            rows.append(("  ratio to the floor (per CPU second)", cpu_rate / workload.floor, "x"))
    return rows
