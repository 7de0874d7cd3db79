"""Volumes on a whole node: what containers see through emptyDir, configMap, secret, PVC and memory-backed volumes.

The kubelet's volume manager lays each volume out in the node's filesystem
and the runtime bind-mounts it into the containers, so these tests look from
inside the containers (exec, or what a web server serves) and at the node.
"""

from __future__ import annotations

import base64

import engine

TWO_CONTAINER_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: two-containers
spec:
  restartPolicy: Never
  volumes:
  - name: shared-data
    emptyDir: {}
  containers:
  - name: nginx-container
    image: nginx
    volumeMounts:
    - name: shared-data
      mountPath: /usr/share/nginx/html
  - name: debian-container
    image: debian
    volumeMounts:
    - name: shared-data
      mountPath: /pod-data
    command: ["/bin/sh"]
    args: ["-c", "echo Hello from the debian container > /pod-data/index.html"]
"""


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)


def container_id(c: engine.Cluster, pod: str, name: str) -> str:
    statuses = c.get("pod", pod)["status"]["containerStatuses"]
    return next(s["containerID"] for s in statuses if s["name"] == name).split("://", 1)[1]


def run_in(c: engine.Cluster, pod: str, name: str, *command: str):
    return c.runtimes["node-1"].exec_sync(container_id(c, pod, name), list(command))


def events(c: engine.Cluster, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in c.list("events") if e["involvedObject"]["name"] == name]


def sleeper(name: str, mounts: list[dict], volumes: list[dict], **container) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "volumes": volumes,
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"], "volumeMounts": mounts,
                        **container}]}}


def test_the_docs_two_container_pod_shares_an_emptydir():
    c = cluster()
    c.apply(TWO_CONTAINER_POD)
    c.run(40)
    statuses = {s["name"]: s for s in c.get("pod", "two-containers")["status"]["containerStatuses"]}
    assert statuses["debian-container"]["state"]["terminated"]["reason"] == "Completed"
    assert "running" in statuses["nginx-container"]["state"]
    nginx = c.runtimes["node-1"].program(container_id(c, "two-containers", "nginx-container"))
    answer = nginx.handle_http({"method": "GET", "path": "/", "port": 80, "headers": {}})
    assert answer["status"] == 200 and answer["body"] == "Hello from the debian container\n"


def test_configmap_files_are_read_only_and_follow_an_update_within_the_sync_period():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "game-config"},
             "data": {"game.properties": "enemies=aliens\n", "ui.properties": "color.good=purple\n"}})
    c.apply(sleeper("cm", [{"name": "config", "mountPath": "/etc/config"}],
                    [{"name": "config", "configMap": {"name": "game-config"}}]))
    c.run(20)
    assert run_in(c, "cm", "app", "ls", "/etc/config").stdout == "game.properties\nui.properties\n"
    assert run_in(c, "cm", "app", "cat", "/etc/config/game.properties").stdout == "enemies=aliens\n"
    failed = run_in(c, "cm", "app", "sh", "-c", "echo x > /etc/config/game.properties")
    assert failed.exit_code == 1 and failed.stderr.endswith("Read-only file system\n")
    updated = c.get("configmap", "game-config")
    updated["data"]["game.properties"] = "enemies=robots\n"
    c.apply(updated)
    c.run(1)
    assert run_in(c, "cm", "app", "cat", "/etc/config/game.properties").stdout == "enemies=aliens\n"
    c.run(65)       # the kubelet's --sync-frequency (1 m) resync re-projects the volume
    assert run_in(c, "cm", "app", "cat", "/etc/config/game.properties").stdout == "enemies=robots\n"


def test_secret_items_land_at_their_paths_and_a_missing_secret_keeps_the_pod_creating():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mysecret"}, "type": "Opaque",
             "data": {"username": base64.b64encode(b"admin").decode(),
                      "password": base64.b64encode(b"1f2d1e2e67df").decode()}})
    c.apply(sleeper("with-secret", [{"name": "foo", "mountPath": "/etc/foo", "readOnly": True}],
                    [{"name": "foo", "secret": {"secretName": "mysecret",
                                                "items": [{"key": "username", "path": "my-group/my-username"}]}}]))
    c.apply(sleeper("without-secret", [{"name": "foo", "mountPath": "/etc/foo"}],
                    [{"name": "foo", "secret": {"secretName": "missing"}}]))
    c.run(20)
    assert run_in(c, "with-secret", "app", "cat", "/etc/foo/my-group/my-username").stdout == "admin"
    assert run_in(c, "with-secret", "app", "ls", "/etc/foo").stdout == "my-group\n"
    assert c.kubectl("get pod without-secret").splitlines()[1].split()[2] == "ContainerCreating"
    assert ("FailedMount", 'MountVolume.SetUp failed for volume "foo" : secret "missing" not found') in \
        events(c, "without-secret")


def test_a_pod_mounts_its_claim_once_bound_and_the_data_outlives_the_pod():
    c = cluster()
    c.runtimes["node-1"].host_fs["/mnt/data/index.html"] = "Hello from Kubernetes storage\n"
    c.apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "task-pv-claim"},
             "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"],
                      "volumeName": "task-pv-volume", "resources": {"requests": {"storage": "3Gi"}}}})
    pod = sleeper("task-pv-pod", [{"name": "task-pv-storage", "mountPath": "/usr/share/nginx/html"}],
                  [{"name": "task-pv-storage", "persistentVolumeClaim": {"claimName": "task-pv-claim"}}])
    pod["spec"]["nodeName"] = "node-1"
    c.apply(pod)
    c.run(15)
    assert c.kubectl("get pod task-pv-pod").splitlines()[1].split()[2] == "ContainerCreating"
    assert any(reason == "FailedMount" and message.endswith("error processing PVC default/task-pv-claim: PVC is not bound")
               for reason, message in events(c, "task-pv-pod"))
    # The volume the claim names appears: the PersistentVolume controller binds them.
    c.apply({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "task-pv-volume"},
             "spec": {"storageClassName": "manual", "capacity": {"storage": "10Gi"},
                      "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/mnt/data"}}})
    c.run(60)
    assert run_in(c, "task-pv-pod", "app", "cat", "/usr/share/nginx/html/index.html").stdout == \
        "Hello from Kubernetes storage\n"
    run_in(c, "task-pv-pod", "app", "sh", "-c", "echo kept > /usr/share/nginx/html/kept.txt")
    c.delete("pod", "task-pv-pod")
    c.run(40)
    assert c.runtimes["node-1"].host_fs["/mnt/data/kept.txt"] == "kept\n"


def test_a_memory_backed_emptydir_counts_against_the_container_memory_limit():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tmpfs"}, "spec": {
        "restartPolicy": "Never",
        "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}],
        "containers": [{"name": "app", "image": "busybox", "resources": {"limits": {"memory": "2Mi"}},
                        "command": ["sh", "-c", "sleep 5; seq 1 300000 > /cache/numbers; sleep 3600"],
                        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}]}})
    c.run(30)
    status = c.get("pod", "tmpfs")["status"]["containerStatuses"][0]
    assert status["state"]["terminated"]["reason"] == "OOMKilled"
    assert status["state"]["terminated"]["exitCode"] == 137
