"""Kubernetes' own scale limits: 5,000 nodes and 150,000 pods through the API server.

The load runs in a child process so that its peak memory (max RSS) is its own.
Ten informers (nodes, pods and eight pod informers with selectors or
namespaces, like the components of a real control plane) list and watch
while the objects are created through the full pipeline as a controller
identity; the figure is the wall time until every informer's cache holds
every object, and the child's peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

NODES = 5_000
PODS = 150_000
INFORMERS = 10


def load() -> dict:
    """Run in the child: build, load, and report timings as JSON on stdout."""
    import engine
    from engine.client.informer import SharedInformerFactory

    started = time.perf_counter()
    cluster = engine.Cluster(nodes=0, seed=0, keep_history=False)
    cluster.apiserver.audit.entries = type(cluster.apiserver.audit.entries)(maxlen=10_000)
    admin = cluster.admin
    for namespace in range(10):
        admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{namespace}"}})
        admin.create({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default", "namespace": f"ns-{namespace}"}})
    factories = []
    informers = []
    for index in range(INFORMERS):
        factory = SharedInformerFactory(cluster.client(f"watcher-{index}", ("system:masters",)))
        if index == 0:
            informer = factory.informer("nodes")
        elif index == 1:
            informer = factory.informer("pods")
        else:
            informer = factory.informer("pods", namespace=f"ns-{index}")
        factory.start()
        factories.append(factory)
        informers.append(informer)
    cluster.run(1)
    # Pods are created as the ReplicaSet controller creates them: its own service account, RBAC-checked.
    client = cluster.client("system:serviceaccount:kube-system:replicaset-controller",
                            ("system:serviceaccounts", "system:serviceaccounts:kube-system"))
    for index in range(NODES):
        admin.create({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": f"node-{index}", "labels": {"kubernetes.io/hostname": f"node-{index}"}},
                      "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                                 "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"}}})
    for index in range(PODS):
        client.create({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": f"pod-{index}", "namespace": f"ns-{index % 10}",
                                    "labels": {"app": f"app-{index % 100}"}},
                       "spec": {"nodeName": f"node-{index % NODES}",
                                "containers": [{"name": "main", "image": "nginx:1.27",
                                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
        if index % 1000 == 999:
            cluster.run(0.01)
    cluster.run(1)
    loaded = time.perf_counter() - started
    assert len(informers[0].indexer.list()) == NODES + 1          # and the control-plane node
    assert len(informers[1].indexer.list()) == PODS
    return {"seconds": loaded}


def run() -> list[tuple[str, float, str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, "-c", "import json, benchmarks.bench_scale as b; "
                             "print(json.dumps(b.load()))"], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the load failed:\n{result.stderr[-3000:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return [
        (f"load {NODES:,} nodes + {PODS:,} pods, {INFORMERS} informers in sync", figures["seconds"], "s wall"),
        ("pods created per second during the load", PODS / figures["seconds"], "pods/s"),
        ("peak memory of the loaded cluster", max(peak_kib, before) / 1024, "MiB"),
    ]
