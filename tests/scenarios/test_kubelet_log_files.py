"""Container log files on the node, in the real layout: containerd writes /var/log/pods, the kubelet links
/var/log/containers, and both go once the pod is gone."""

from __future__ import annotations

import re

import pytest

import engine
from engine.runtime.logfiles import LogFile, Symlink

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker", "namespace": "default"},
       "spec": {"restartPolicy": "Always", "containers": [
           {"name": "talk", "image": "busybox", "command": ["sh", "-c", "echo hello; echo world >&2; sleep 2; exit 1"]}]}}
CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] .*$")


@pytest.fixture(scope="module")
def c() -> engine.Cluster:
    c = engine.Cluster(nodes=1, seed=0)
    c.apply(POD)
    c.run(15)
    return c


def node_logs(c: engine.Cluster) -> dict:
    return {path: content for path, content in c.runtimes["node-1"].host_fs.items() if path.startswith("/var/log/")}


def test_each_container_start_has_its_cri_log_file_under_var_log_pods(c):
    uid = c.get("pod", "talker")["metadata"]["uid"]
    files = {p: f for p, f in node_logs(c).items() if isinstance(f, LogFile)}
    assert f"/var/log/pods/default_talker_{uid}/talk/0.log" in files
    assert f"/var/log/pods/default_talker_{uid}/talk/1.log" in files          # restarted: a file per restart
    first = str(files[f"/var/log/pods/default_talker_{uid}/talk/0.log"]).splitlines()
    assert all(CRI_LINE.match(line) for line in first)
    assert [line.split(" ", 3)[1:] for line in first] == [["stdout", "F", "hello"], ["stderr", "F", "world"]]
    assert c.kubectl("logs talker --previous") == "hello\nworld\n"       # kubectl logs reads both streams


def test_the_kubelet_links_each_running_container_from_var_log_containers(c):
    pod = c.get("pod", "talker")
    container_id = pod["status"]["containerStatuses"][0]["containerID"].split("://")[1]
    links = {p: f for p, f in node_logs(c).items() if isinstance(f, Symlink)}
    path = f"/var/log/containers/talker_default_talk-{container_id}.log"
    assert path in links
    assert links[path].target.path.startswith(f"/var/log/pods/default_talker_{pod['metadata']['uid']}/talk/")


def test_a_deleted_pod_leaves_no_log_files_or_links(c):
    c.delete("pod", "talker")
    c.run(40)
    assert not [p for p, f in node_logs(c).items() if "talker" in p]
