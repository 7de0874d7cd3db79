"""Container logs the way the real path goes: kubectl -> API server -> the node's kubelet on port 10250."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

import engine

COUNTER = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "counter"}, "spec": {"containers": [
    {"name": "count", "image": "busybox:1.28",
     "args": ["/bin/sh", "-c", 'i=0; while true; do echo "$i: $(date)"; i=$((i+1)); sleep 1; done']}]}}


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)


def error_of(c: engine.Cluster, command: str) -> str:
    """What kubectl prints for a refused request."""
    return c.kubectl(command).rstrip("\n")


@pytest.fixture(scope="module")
def c() -> engine.Cluster:
    c = cluster()
    c.apply(COUNTER)
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"}, "spec": {"containers": [
        {"name": "c", "image": "course/crasher:1.0", "args": ["--after", "2"]}]}})
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"}, "spec": {"containers": [
        {"name": "a", "image": "busybox", "command": ["sh", "-c", "echo from a; sleep 3600"]},
        {"name": "b", "image": "nosuch/image:1"}]}})
    c.run(7)
    return c


def test_logs_print_what_the_container_wrote(c):
    lines = c.kubectl("logs counter").splitlines()
    assert lines[0] == "0: Wed Jan  1 00:00:01 UTC 2025"
    assert len(lines) >= 5


def test_tail_and_timestamps(c):
    last_two = c.kubectl("logs counter --tail=2").splitlines()
    assert last_two == c.kubectl("logs counter").splitlines()[-2:]
    stamped = c.kubectl("logs counter --timestamps --tail 1").rstrip("\n")
    stamp, _, text = stamped.partition(" ")
    assert stamp.startswith("2025-01-01T00:00:") and stamp.endswith("Z") and text == last_two[-1]


def test_previous_reads_the_last_terminated_instance(c):
    assert c.kubectl("logs crash -p") == "starting up\npanic: something went wrong (exit code 1)\n"


def test_previous_without_a_terminated_instance_is_the_kubelets_error(c):
    assert error_of(c, "logs counter --previous") == \
        'Error from server (BadRequest): previous terminated container "count" in pod "counter" not found'


def test_a_container_named_with_c_and_the_waiting_reasons(c):
    assert c.kubectl("logs two -c a") == "from a\n"
    waiting = 'Error from server (BadRequest): container "b" in pod "two" is waiting to start: '
    assert error_of(c, "logs two -c b") in (waiting + "image can't be pulled",
                                            waiting + "trying and failing to pull image")
    assert error_of(c, "logs two -c zz") == "error: container zz is not valid for pod two"     # kubectl checks it


def test_a_container_still_being_created_is_waiting_to_start():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
             "spec": {"containers": [{"name": "perl", "image": "perl:5.34.0"}]}})
    c.run(2)
    assert error_of(c, "logs big") == ('Error from server (BadRequest): container "perl" in pod "big" is waiting to '
                                       'start: ContainerCreating')


def test_the_api_server_needs_a_container_name_when_a_pod_has_several(c):
    from engine.apiserver.server import Request
    with pytest.raises(engine.ApiError) as caught:
        c.apiserver.handle(Request("get", "pods", "default", "two", "log", token=c.token_for("kubernetes-admin",
                                                                                             ("system:masters",))))
    assert caught.value.code == 400
    assert str(caught.value) == "a container name must be specified for pod two, choose one of: [a b]"


def test_a_node_whose_kubelet_is_down_gives_the_dial_error():
    c = cluster()
    c.apply(COUNTER)
    c.run(5)
    c.fail_node("node-1")
    assert error_of(c, "logs counter") == ('Error from server: Get "https://172.18.0.3:10250/containerLogs/default/'
                                           'counter/count": dial tcp 172.18.0.3:10250: i/o timeout')
    c.restore_node("node-1")            # powered on: the kubelet answers again (the old container is gone)
    c.components[("kubelet", "node-1")].stop()
    assert error_of(c, "logs counter") == ('Error from server: Get "https://172.18.0.3:10250/containerLogs/default/'
                                           'counter/count": dial tcp 172.18.0.3:10250: connect: connection refused')


def test_the_http_api_serves_logs_and_follows_a_running_container():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "short"}, "spec": {
        "restartPolicy": "Never", "containers": [
            {"name": "s", "image": "busybox", "command": ["sh", "-c", "echo one; sleep 2; echo two; sleep 2"]}]}})
    c.run(2)
    with c.serve(speed=10) as handle:
        headers = {"Authorization": f"Bearer {handle.token}"}
        base = f"{handle.url}/api/v1/namespaces/default/pods/short/log"
        with urllib.request.urlopen(urllib.request.Request(base, headers=headers), timeout=30) as answer:
            assert answer.read().decode() in ("one\n", "one\ntwo\n")   # the clock runs while we ask
        followed = urllib.request.Request(base + "?follow=true", headers=headers)
        with urllib.request.urlopen(followed, timeout=30) as answer:
            assert answer.read().decode() == "one\ntwo\n"       # the stream ends when the container exits
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(base + "?previous=true", headers=headers), timeout=30)
        refused.value.close()
        assert refused.value.code == 400


def test_a_deployments_logs_come_from_its_first_pod_and_a_selector_reads_them_all():
    c = cluster()
    c.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "hello", "image": "busybox", "command": ["sh", "-c", "echo hello from $HOSTNAME; sleep 3600"]}]}}}})
    c.run(10)
    pods = sorted(p["metadata"]["name"] for p in c.list("pods", selector="app=web"))
    out = c.kubectl("logs deploy/web").splitlines()
    assert out[0].startswith("Found 3 pods, using pod/") and out[0].split("pod/")[1] in pods
    assert out[1:] == [f"hello from {out[0].split('pod/')[1]}"]
    assert c.kubectl("logs -l app=web --prefix").splitlines() == [f"[pod/{p}/hello] hello from {p}" for p in pods]
