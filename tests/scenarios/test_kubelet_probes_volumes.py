"""The kubelet with its prober and volume manager on a whole cluster: the docs' liveness example, readiness, volumes."""

from __future__ import annotations

import engine

from test_kubelet_probes import LIVENESS_EXEC   # the docs' manifest, kept in one place


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)


def events(c: engine.Cluster, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.list("events") if e["involvedObject"]["name"] == name]


def test_the_docs_liveness_example_restarts_the_container_after_the_file_disappears():
    c = cluster()
    c.apply(LIVENESS_EXEC)
    c.run(30)
    assert c.get("pod", "liveness-exec")["status"]["containerStatuses"][0]["restartCount"] == 0
    c.run(60)
    status = c.get("pod", "liveness-exec")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert ("Normal", "Killing", "Container liveness failed liveness probe, will be restarted") in events(
        c, "liveness-exec")
    assert any(reason == "Unhealthy" and text.startswith("Liveness probe failed: ")
               for _, reason, text in events(c, "liveness-exec"))


def test_a_pod_is_ready_only_once_its_readiness_probe_succeeds():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [
        {"name": "web", "image": "nginx", "readinessProbe": {"httpGet": {"path": "/", "port": 80},
                                                             "initialDelaySeconds": 10}}]}})
    c.run(8)
    conditions = {x["type"]: x["status"] for x in c.get("pod", "web")["status"]["conditions"]}
    assert conditions["Ready"] == "False" and conditions["ContainersReady"] == "False"
    assert c.get("pod", "web")["status"]["containerStatuses"][0]["started"] is True
    c.run(20)
    conditions = {x["type"]: x["status"] for x in c.get("pod", "web")["status"]["conditions"]}
    assert conditions["Ready"] == "True"


def test_a_config_map_volume_is_visible_to_the_container():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"greeting": "hello"}})
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "r", "image": "busybox", "command": ["sh", "-c", "cat /etc/cfg/greeting"],
                        "volumeMounts": [{"name": "v", "mountPath": "/etc/cfg"}]}],
        "volumes": [{"name": "v", "configMap": {"name": "cfg"}}]}})
    c.run(10)
    assert c.get("pod", "reader")["status"]["phase"] == "Succeeded"
    runtime = c.runtimes["node-1"]
    record = runtime.container_status(runtime.list_containers()[0].id)
    assert [line.split(" ", 3)[3] for line in runtime.read_log(record.log_path)] == ["hello"]


def test_a_missing_config_map_keeps_the_pod_in_container_creating_with_failed_mount():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nocfg"}, "spec": {
        "containers": [{"name": "r", "image": "busybox", "command": ["sh", "-c", "sleep 100"],
                        "volumeMounts": [{"name": "v", "mountPath": "/etc/cfg"}]}],
        "volumes": [{"name": "v", "configMap": {"name": "nope"}}]}})
    c.run(15)
    assert c.kubectl("get pod nocfg").splitlines()[1].split()[2] == "ContainerCreating"
    assert ("Warning", "FailedMount", 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found') in \
        events(c, "nocfg")
