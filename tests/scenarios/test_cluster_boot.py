"""Whole-cluster scenarios: booting, the door's verbs, faults and determinism."""

import textwrap

import pytest

import engine


def ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def test_a_cluster_boots_with_a_control_plane_and_ready_workers(make_cluster):
    cluster = make_cluster(nodes=3, seed=0)
    nodes = cluster.list("nodes")
    assert [n["metadata"]["name"] for n in nodes] == ["control-plane", "node-1", "node-2", "node-3"]
    assert all(ready(node) for node in nodes)
    control_plane = nodes[0]
    assert control_plane["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane",
                                                "effect": "NoSchedule"}]
    assert "node-role.kubernetes.io/control-plane" in control_plane["metadata"]["labels"]
    leases = cluster.list("leases", namespace="kube-node-lease")
    assert sorted(lease["spec"]["holderIdentity"] for lease in leases) == sorted(cluster.node_names)
    namespaces = [n["metadata"]["name"] for n in cluster.list("namespaces")]
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(namespaces)


def test_node_leases_are_renewed_every_ten_seconds(make_cluster):
    cluster = make_cluster(nodes=1, seed=0)
    before = cluster.get("lease", "node-1", "kube-node-lease")["spec"]["renewTime"]
    cluster.run(10)
    after = cluster.get("lease", "node-1", "kube-node-lease")["spec"]["renewTime"]
    assert after > before


def test_a_failed_node_stops_heartbeating_and_a_restored_one_starts_again(make_cluster):
    cluster = make_cluster(nodes=2, seed=0)
    cluster.fail_node("node-2")
    stopped = cluster.get("lease", "node-2", "kube-node-lease")["spec"]["renewTime"]
    cluster.run(60)
    assert cluster.get("lease", "node-2", "kube-node-lease")["spec"]["renewTime"] == stopped
    assert cluster.get("lease", "node-1", "kube-node-lease")["spec"]["renewTime"] > stopped
    cluster.restore_node("node-2")
    cluster.run(11)
    assert cluster.get("lease", "node-2", "kube-node-lease")["spec"]["renewTime"] > stopped
    with pytest.raises(engine.NotFound):
        cluster.fail_node("node-9")


MANIFEST = textwrap.dedent("""
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
    data:
      color: blue
      size: large
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: nginx-deployment
      labels:
        app: nginx
    spec:
      replicas: 3
      selector:
        matchLabels:
          app: nginx
      template:
        metadata:
          labels:
            app: nginx
        spec:
          containers:
          - name: nginx
            image: nginx:1.14.2
            ports:
            - containerPort: 80
""")


def test_apply_creates_then_configures_and_removes_dropped_fields(make_cluster):
    cluster = make_cluster(nodes=1, seed=0)
    created = cluster.apply(MANIFEST)
    assert [obj["kind"] for obj in created] == ["ConfigMap", "Deployment"]
    deployment = cluster.get("deploy", "nginx-deployment")
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"
    changed = MANIFEST.replace("replicas: 3", "replicas: 5").replace("  size: large\n", "")
    cluster.apply(changed)
    assert cluster.get("deployment", "nginx-deployment")["spec"]["replicas"] == 5
    assert cluster.get("cm", "settings")["data"] == {"color": "blue"}
    assert cluster.get("deployment", "nginx-deployment")["metadata"]["generation"] == 2


def test_the_door_raises_api_errors_with_status(make_cluster):
    cluster = make_cluster(nodes=0, seed=0)
    with pytest.raises(engine.ApiError) as caught:
        cluster.get("pod", "nothing")
    assert isinstance(caught.value, engine.NotFound)
    assert caught.value.code == 404 and caught.value.status["kind"] == "Status"
    with pytest.raises(engine.Invalid):
        cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
                       "spec": {"containers": [{"name": "c", "image": "nginx"}]}})


def test_list_in_all_namespaces_and_delete(make_cluster):
    cluster = make_cluster(nodes=0, seed=0)
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "team"}})
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}})
    everywhere = {(c["metadata"]["namespace"], c["metadata"]["name"])
                  for c in cluster.list("configmaps", all_namespaces=True)}
    assert {("team", "x"), ("default", "y")} <= everywhere
    cluster.delete("configmap", "x", namespace="team")
    assert "x" not in [c["metadata"]["name"] for c in cluster.list("configmaps", namespace="team")]


def _history(seed):
    cluster = engine.Cluster(nodes=2, seed=seed)
    cluster.apply(MANIFEST)
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "job-"},
                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    cluster.fail_node("node-1")
    cluster.run(120)
    return cluster.apiserver.audit.as_dicts(), cluster.loop.history, cluster.list("pods")


def test_two_runs_with_the_same_seed_give_identical_audit_logs_and_histories():
    first, second = _history(7), _history(7)
    assert first[0] == second[0]
    assert first[1] == second[1]
    assert first[2] == second[2]
    assert _history(8)[2][0]["metadata"]["uid"] != first[2][0]["metadata"]["uid"]
