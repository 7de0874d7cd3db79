"""The kubelet and its node: restarts of the kubelet, failed nodes, static pods."""

from __future__ import annotations

import dataclasses

import engine
from engine.components import COMPONENTS
from engine.kubelet import KUBELET
from engine.runtime import cri
from engine.scheduler import SCHEDULER


def cluster(nodes: int = 1, kubelet=KUBELET) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0, components=[COMPONENTS[0], SCHEDULER, kubelet])


def running(c: engine.Cluster, node: str = "node-1") -> list[cri.Container]:
    runtime = c.runtimes[node]
    return [x for x in runtime.list_containers() if x.state == cri.CONTAINER_RUNNING]


def test_a_restarted_kubelet_finds_its_containers_again_without_duplicates_and_keeps_restart_counts():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"containers": [{"name": "web", "image": "nginx"}]}})
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"},
             "spec": {"containers": [{"name": "c", "image": "course/crasher:1.0", "args": ["--after", "5"]}]}})
    c.run(30)
    before = c.get("pod", "crash")["status"]["containerStatuses"][0]["restartCount"]
    assert before >= 1
    kubelet = c.components[("kubelet", "node-1")]
    kubelet.stop()
    web_ids = [x.id for x in running(c) if x.metadata.name == "web"]
    c.run(20)
    assert [x.id for x in running(c) if x.metadata.name == "web"] == web_ids    # containers outlive the kubelet
    c.restore_node("node-1")
    c.run(60)
    assert c.components[("kubelet", "node-1")] is not kubelet
    assert [x.id for x in running(c) if x.metadata.name == "web"] == web_ids    # no duplicate, same container
    assert len(c.runtimes["node-1"].list_pod_sandbox()) == 2
    after = c.get("pod", "crash")["status"]["containerStatuses"][0]["restartCount"]
    assert after > before


def test_a_failed_node_stops_heartbeats_and_its_containers_processes_are_gone():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"containers": [{"name": "web", "image": "nginx"}]}})
    c.run(10)
    renewed = c.get("lease", "node-1", namespace="kube-node-lease")["spec"]["renewTime"]
    ids = [x.id for x in running(c)]
    assert ids and all(c.runtimes["node-1"].program(i) is not None for i in ids)
    c.fail_node("node-1")
    c.run(60)
    assert c.get("lease", "node-1", namespace="kube-node-lease")["spec"]["renewTime"] == renewed
    assert all(c.runtimes["node-1"].program(i) is None for i in ids)      # the power went: no process is left


def test_static_pods_run_on_their_node_and_show_as_mirror_pods():
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "static-web", "namespace": "kube-system"},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    kubelet = dataclasses.replace(KUBELET, options={"static_pods": [manifest]})
    c = cluster(kubelet=kubelet)
    c.run(10)
    mirror = c.get("pod", "static-web-node-1", namespace="kube-system")
    annotations = mirror["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert mirror["status"]["phase"] == "Running"
    assert mirror["spec"]["nodeName"] == "node-1"
    c.delete("pod", "static-web-node-1", namespace="kube-system")
    c.run(5)
    again = c.get("pod", "static-web-node-1", namespace="kube-system")     # the kubelet recreates its mirror
    assert again["metadata"]["uid"] != mirror["metadata"]["uid"]
    assert len([x for x in running(c) if x.metadata.name == "web"]) == 1    # the static pod itself never stopped
