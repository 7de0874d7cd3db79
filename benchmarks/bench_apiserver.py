"""kube-apiserver (engine/apiserver): throughput of the whole request pipeline.

Every request below passes authentication, RBAC (as non-privileged
controller identities, so the authorizer really evaluates bindings), defaulting,
admission, validation and etcd storage, as in a real cluster:

* creates: 5,000 pods created through the pipeline;
* reads: 5,000 gets of those pods;
* watch fan-out: 100 watchers of pods, 2,000 pod creates, no component
  running (so the creates are the only events); events delivered to the
  watchers' handlers (on the simulation loop) per second of wall time;
* the scheduler's writes, in a cluster of 5,000 Node objects (scheduler_perf's
  size): 5,000 ``Scheduled`` Events recorded through kube-scheduler's own
  EventRecorder and identity, then 5,000 pods/binding creates, each per
  second of the process's CPU time (the figure that does not depend on what
  else the machine runs).

Each figure is the median of three runs.
"""

from __future__ import annotations

import statistics
import time

import engine
from engine.client.client import Client
from engine.client.record import EventRecorder

PODS = 5_000
WATCHERS = 100
WATCHED_CREATES = 2_000
REPEATS = 3
SCHEDULER_NODES = 5_000
SCHEDULER_WRITES = 5_000


def pod(index: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{index}", "namespace": "default", "labels": {"app": f"app-{index % 50}"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def controller_client(cluster: engine.Cluster) -> Client:
    """The ReplicaSet controller's identity: its bootstrap role lets it create pods (not get them)."""
    return cluster.client("system:serviceaccount:kube-system:replicaset-controller",
                          ("system:serviceaccounts", "system:serviceaccounts:kube-system"))


def scheduler_client(cluster: engine.Cluster) -> Client:
    """kube-scheduler's identity: its bootstrap role lets it get pods."""
    return cluster.client("system:kube-scheduler", ())


def _ensure_default_service_account(cluster: engine.Cluster) -> None:
    try:
        cluster.admin.create({"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": "default", "namespace": "default"}})
    except engine.AlreadyExists:
        pass


def _creates_and_gets() -> tuple[float, float]:
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    _ensure_default_service_account(cluster)
    client = controller_client(cluster)
    manifests = [pod(index) for index in range(PODS)]
    started = time.perf_counter()
    for manifest in manifests:
        client.create(manifest)
    creates = PODS / (time.perf_counter() - started)
    reader = scheduler_client(cluster)
    started = time.perf_counter()
    for index in range(PODS):
        reader.get("pods", f"pod-{index}", "default")
    gets = PODS / (time.perf_counter() - started)
    return creates, gets


def _watch_fanout() -> float:
    # The API server alone: with kube-scheduler running, each unschedulable pod's status update would be a
    # second event to every watcher.
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False, components=[])
    _ensure_default_service_account(cluster)
    delivered = 0

    def handler(event: dict) -> None:
        nonlocal delivered
        delivered += 1

    for _ in range(WATCHERS):
        cluster.admin.watch("pods", handler, "default", resource_version=str(cluster.store.revision))
    started = time.perf_counter()
    for index in range(WATCHED_CREATES):
        cluster.admin.create(pod(index))
    cluster.run(1)
    elapsed = time.perf_counter() - started
    assert delivered == WATCHERS * WATCHED_CREATES, delivered
    return delivered / elapsed


def _scheduler_writes() -> tuple[float, float]:
    """Events and Bindings per CPU second, written as kube-scheduler writes them."""
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False, components=[])
    _ensure_default_service_account(cluster)
    for index in range(SCHEDULER_NODES):
        cluster.admin.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{index}"},
                              "status": {"allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"}}})
    for index in range(SCHEDULER_WRITES):
        cluster.admin.create(pod(index))
    pods = [cluster.apiserver.cached("pods", "default", f"pod-{index}") for index in range(SCHEDULER_WRITES)]
    client = scheduler_client(cluster)
    recorder = EventRecorder(client, "default-scheduler")
    started = time.process_time()
    for index, obj in enumerate(pods):
        recorder.event(obj, "Normal", "Scheduled",
                       f"Successfully assigned default/pod-{index} to node-{index % SCHEDULER_NODES}")
    events = SCHEDULER_WRITES / (time.process_time() - started)
    assert recorder.written == SCHEDULER_WRITES, (recorder.written, recorder.dropped)
    started = time.process_time()
    for index in range(SCHEDULER_WRITES):
        client.bind("default", f"pod-{index}", f"node-{index % SCHEDULER_NODES}")
    bindings = SCHEDULER_WRITES / (time.process_time() - started)
    return events, bindings


def run() -> list[tuple[str, float, str]]:
    measured = [_creates_and_gets() for _ in range(REPEATS)]
    fanout = statistics.median(_watch_fanout() for _ in range(REPEATS))
    scheduler = [_scheduler_writes() for _ in range(REPEATS)]
    return [
        ("pod create through the whole pipeline", statistics.median(c for c, _ in measured), "requests/s"),
        ("pod get", statistics.median(g for _, g in measured), "requests/s"),
        (f"watch events to {WATCHERS} watchers (incl. the creates)", fanout, "events delivered/s"),
        (f"Event create by kube-scheduler ({SCHEDULER_NODES:,} nodes)",
         statistics.median(e for e, _ in scheduler), "creates per CPU-s"),
        (f"pods/binding create by kube-scheduler ({SCHEDULER_NODES:,} nodes)",
         statistics.median(b for _, b in scheduler), "creates per CPU-s"),
    ]
