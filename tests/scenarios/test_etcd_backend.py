"""A whole cluster on a real etcd: Kubernetes' key layout, JSON values, and the same history as in memory."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import engine
from engine.store import prefix_end
from engine.store.etcd_process import EtcdServer

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
}


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


@pytest.fixture
def etcd_cluster():
    """A cluster on a fresh etcd server of its own, with keys exactly where Kubernetes puts them."""
    with EtcdServer("cluster") as server:
        cluster = engine.Cluster(nodes=2, seed=0, store=f"etcd://127.0.0.1:{server.client_port}")
        yield server, cluster
        cluster.store.revoke_granted_leases()
        cluster.store.close()


def etcdctl(server: EtcdServer, *args: str) -> str:
    binary = shutil.which("etcdctl")
    assert binary, "etcdctl is missing: scripts/install-system-deps.sh installs etcd-client"
    done = subprocess.run([binary, "--endpoints", server.endpoint, *args], capture_output=True, text=True,
                          timeout=30, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_etcdctl_lists_the_cluster_namespaces_under_registry_namespaces(etcd_cluster):
    server, cluster = etcd_cluster
    keys = etcdctl(server, "get", "--prefix", "/registry/namespaces", "--keys-only").split()
    assert keys == [f"/registry/namespaces/{name}" for name in
                    sorted(ns["metadata"]["name"] for ns in cluster.list("namespaces"))]
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {key.rsplit("/", 1)[1] for key in keys}


def test_objects_are_stored_as_json_under_the_kubernetes_key_layout(etcd_cluster):
    server, cluster = etcd_cluster
    cluster.apply(DEPLOYMENT)
    cluster.apply([pod("web-1"), pod("web-2")])
    cluster.run(20)
    keys = etcdctl(server, "get", "--prefix", "/registry", "--keys-only").split()
    assert "/registry/deployments/default/web" in keys
    assert "/registry/minions/node-1" in keys, "nodes live under minions, as in Kubernetes"
    assert {"/registry/pods/default/web-1", "/registry/pods/default/web-2"} <= set(keys)
    stored = json.loads(etcdctl(server, "get", "/registry/deployments/default/web", "--print-value-only"))
    assert (stored["kind"], stored["metadata"]["name"]) == ("Deployment", "web")
    assert "resourceVersion" not in stored["metadata"], "the resourceVersion is the etcd revision, not stored"
    assert all(p["spec"].get("nodeName") for p in cluster.list("pods", selector="app=web")), "scheduled"


def _history(store: str) -> tuple[int, list[tuple[str, int, int]], list[tuple[str, str]]]:
    cluster = engine.Cluster(nodes=2, seed=3, store=store)
    try:
        cluster.apply(DEPLOYMENT)
        cluster.apply([pod("web-1"), pod("web-2")])
        cluster.run(30)
        kvs = cluster.store.range("/registry/", prefix_end("/registry/"), keys_only=True).kvs
        pods = [(pod["metadata"]["name"], pod["spec"]["nodeName"]) for pod in cluster.list("pods")]
        return cluster.store.revision, [(kv.key, kv.create_revision, kv.mod_revision) for kv in kvs], pods
    finally:
        if store != "memory":
            cluster.store.revoke_granted_leases()
            cluster.store.close()


def test_a_cluster_on_a_fresh_etcd_makes_the_same_revisions_as_on_the_in_memory_store():
    in_memory = _history("memory")
    with EtcdServer("same-history") as server:
        on_etcd = _history(f"etcd://127.0.0.1:{server.client_port}")
    assert on_etcd == in_memory
