"""kubeadm's control plane as static pods: the manifests, the mirror pods, and the components they stand for."""

from __future__ import annotations

import pytest
import yaml

import engine
from engine.components import COMPONENTS
from engine.kubeadm import addons
from engine.kubelet import KUBELET
from engine.scheduler import SCHEDULER

MANIFESTS = "/etc/kubernetes/manifests"
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


@pytest.fixture
def c(monkeypatch) -> engine.Cluster:
    monkeypatch.setattr(addons, "ADDONS", [])            # the control plane alone, no add-ons
    cluster = engine.Cluster(nodes=1, seed=0, network="flannel", components=[COMPONENTS[0], SCHEDULER, KUBELET])
    cluster.run(30)
    return cluster


def status(c: engine.Cluster, name: str) -> dict:
    return c.get("pod", f"{name}-control-plane", "kube-system")["status"]


def test_kubeadm_writes_the_control_plane_manifests_and_the_kubelet_runs_them_as_static_pods(c):
    fs = c.machines["control-plane"].host_fs
    written = sorted(p for p in fs if p.startswith(MANIFESTS + "/") and not p.endswith("/"))
    assert written == [f"{MANIFESTS}/{name}.yaml" for name in CONTROL_PLANE]
    scheduler = yaml.safe_load(fs[f"{MANIFESTS}/kube-scheduler.yaml"])
    assert scheduler["spec"]["hostNetwork"] is True
    assert scheduler["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-scheduler:v1.31.0"
    assert scheduler["spec"]["containers"][0]["livenessProbe"]["httpGet"] == {
        "host": "127.0.0.1", "path": "/healthz", "port": 10259, "scheme": "HTTPS"}
    listing = c.kubectl("get pods -n kube-system").splitlines()
    rows = {line.split()[0]: line.split()[1:3] for line in listing[1:]}
    assert rows == {f"{name}-control-plane": ["1/1", "Running"] for name in CONTROL_PLANE}
    for name in CONTROL_PLANE:
        mirror = c.get("pod", f"{name}-control-plane", "kube-system")
        assert mirror["metadata"]["labels"] == {"component": name, "tier": "control-plane"}
        assert "kubernetes.io/config.mirror" in mirror["metadata"]["annotations"]
        assert mirror["status"]["podIP"] == "172.18.0.2"                 # hostNetwork: the node's address
        assert mirror["spec"]["priorityClassName"] == "system-node-critical"
    assert c.get("configmap", "kubeadm-config", "kube-system")    # the later phases ran too


def test_a_stopped_scheduler_shows_as_a_restart_and_the_kubelet_starts_it_again(c):
    scheduler = c.components[("kube-scheduler", None)]
    scheduler.stop()
    c.run(5)
    pod = status(c, "kube-scheduler")["containerStatuses"][0]
    assert pod["restartCount"] == 1
    assert pod["lastState"]["terminated"]["exitCode"] == 1
    assert not scheduler.running
    assert c.components[("kube-scheduler", None)].running             # the restarted container started a new one
    assert "E0101 00:00:3" in c.kubectl("logs -n kube-system kube-scheduler-control-plane --previous")


def test_moving_the_scheduler_manifest_away_stops_it_and_putting_it_back_starts_it(c):
    fs = c.machines["control-plane"].host_fs
    manifest = fs.pop(f"{MANIFESTS}/kube-scheduler.yaml")
    c.run(25)                                                        # the file source re-reads every 20 s
    scheduler = c.components[("kube-scheduler", None)]
    assert not scheduler.running
    assert [p["metadata"]["name"] for p in c.list("pods", "kube-system")] == [
        "etcd-control-plane", "kube-apiserver-control-plane", "kube-controller-manager-control-plane"]
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"tolerations": [{"operator": "Exists"}], "containers": [{"name": "web", "image": "nginx"}]}})
    c.run(10)
    assert "nodeName" not in c.get("pod", "web")["spec"]                 # nobody schedules
    fs[f"{MANIFESTS}/kube-scheduler.yaml"] = manifest
    c.run(45)                     # the next file check, then the new scheduler waits out its predecessor's lease
    assert c.components[("kube-scheduler", None)].running
    assert status(c, "kube-scheduler")["phase"] == "Running"
    assert c.get("pod", "web")["spec"]["nodeName"]


def test_the_api_servers_port_and_the_kubernetes_endpoints_follow_its_container(c):
    assert c.hostnet.dial("172.18.0.2", 6443) is c.endpoint
    runtime = c.runtimes["control-plane"]
    [container] = [x for x in runtime.list_containers() if x.metadata.name == "kube-apiserver"
                   and runtime.container_status(x.id).state == "CONTAINER_RUNNING"]
    assert c.get("endpoints", "kubernetes")["subsets"][0]["addresses"] == [{"ip": "172.18.0.2"}]
    runtime.stop_container(container.id, 30)
    with pytest.raises(engine.sim.hostnet.ConnectionRefused):
        c.hostnet.dial("172.18.0.2", 6443)
    assert c.get("endpointslice", "kubernetes")["endpoints"] == []    # its endpoint reconciler removed itself
    c.run(15)                                                        # the kubelet restarts it
    assert c.hostnet.dial("172.18.0.2", 6443) is c.endpoint
    assert c.get("endpointslice", "kubernetes")["endpoints"][0]["addresses"] == ["172.18.0.2"]
    assert status(c, "kube-apiserver")["containerStatuses"][0]["restartCount"] == 1


def test_a_deleted_mirror_pod_comes_back(c):
    c.delete("pod", "kube-scheduler-control-plane", "kube-system")
    c.run(5)
    assert status(c, "kube-scheduler")["phase"] == "Running"
    assert c.components[("kube-scheduler", None)].running
