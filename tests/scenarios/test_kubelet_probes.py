"""Probes on a whole node: the docs' liveness examples, readiness gating Ready, a startup probe protecting a slow start.

Each test runs one node with the API server, the scheduler and the kubelet;
time is virtual, so the timings the docs describe can be checked exactly.
"""

from __future__ import annotations

import engine
from engine.api.meta import parse_timestamp

LIVENESS_EXEC = """
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-exec
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
      initialDelaySeconds: 5
      periodSeconds: 5
"""

LIVENESS_HTTP = """
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: liveness-http
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/liveness
    args:
    - /server
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
        httpHeaders:
        - name: Custom-Header
          value: Awesome
      initialDelaySeconds: 3
      periodSeconds: 3
"""


def cluster() -> engine.Cluster:
    return engine.Cluster(nodes=1, seed=0)


def events(c: engine.Cluster, name: str) -> list[dict]:
    found = [e for e in c.list("events") if e["involvedObject"]["name"] == name]
    return sorted(found, key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))


def reasons(c: engine.Cluster, name: str) -> list[tuple[str, str]]:
    return [(e["reason"], e["message"]) for e in events(c, name)]


def container(c: engine.Cluster, name: str) -> dict:
    return c.get("pod", name)["status"]["containerStatuses"][0]


def ready(c: engine.Cluster, name: str) -> str:
    conditions = c.get("pod", name)["status"].get("conditions") or []
    return next((x["status"] for x in conditions if x["type"] == "Ready"), "")


def test_the_docs_exec_liveness_example_restarts_the_container_after_the_file_disappears():
    c = cluster()
    c.apply(LIVENESS_EXEC)
    c.run(30)
    started = parse_timestamp(container(c, "liveness-exec")["state"]["running"]["startedAt"])
    assert [r for r, _ in reasons(c, "liveness-exec")] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    c.run(started + 30 - c.now)
    assert container(c, "liveness-exec")["restartCount"] == 0
    c.run(20)
    unhealthy = [e for e in events(c, "liveness-exec") if e["reason"] == "Unhealthy"]
    assert unhealthy and unhealthy[0]["type"] == "Warning" and unhealthy[0]["count"] == 3
    assert unhealthy[0]["message"].rstrip("\n") == \
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
    assert unhealthy[0]["involvedObject"]["fieldPath"] == "spec.containers{liveness}"
    first = parse_timestamp(unhealthy[0]["firstTimestamp"])
    assert started + 30 <= first <= started + 35           # both stamps are whole seconds
    assert parse_timestamp(unhealthy[0]["lastTimestamp"]) - first == 10     # failureThreshold 3 * periodSeconds 5
    assert ("Killing", "Container liveness failed liveness probe, will be restarted") in reasons(c, "liveness-exec")
    c.run(40)       # busybox's sh ignores SIGTERM: it is killed at the end of the 30 s grace period
    status = container(c, "liveness-exec")
    assert status["restartCount"] == 1 and "running" in status["state"]
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert c.kubectl("get pod liveness-exec").splitlines()[1].split()[3] == "1"


def test_the_docs_http_liveness_example_fails_with_status_500_and_restarts():
    c = cluster()
    c.apply(LIVENESS_HTTP)
    c.run(12)
    assert container(c, "liveness-http")["restartCount"] == 0
    c.run(30)
    messages = [m for r, m in reasons(c, "liveness-http") if r == "Unhealthy"]
    assert messages and messages[0] == "Liveness probe failed: HTTP probe failed with statuscode: 500"
    assert ("Killing", "Container liveness failed liveness probe, will be restarted") in reasons(c, "liveness-http")
    assert container(c, "liveness-http")["restartCount"] >= 1


def test_a_tcp_socket_readiness_probe_gates_ready_and_a_closed_port_never_becomes_ready():
    c = cluster()
    for name, port in (("open", 8080), ("closed", 9999)):
        c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{
            "name": "goproxy", "image": "registry.k8s.io/e2e-test-images/agnhost:2.39",
            "ports": [{"containerPort": 8080}],
            "readinessProbe": {"tcpSocket": {"port": port}, "initialDelaySeconds": 15, "periodSeconds": 10}}]}})
    c.run(10)
    assert ready(c, "open") == "False" and container(c, "open")["started"] is True
    c.run(20)
    assert ready(c, "open") == "True" and container(c, "open")["ready"] is True
    assert ready(c, "closed") == "False" and container(c, "closed")["restartCount"] == 0
    ip = c.get("pod", "closed")["status"]["podIP"]
    assert ("Unhealthy", f"Readiness probe failed: dial tcp {ip}:9999: connect: connection refused") in \
        reasons(c, "closed")
    assert c.kubectl("get pod open").splitlines()[1].split()[1] == "1/1"
    assert c.kubectl("get pod closed").splitlines()[1].split()[1] == "0/1"


def test_a_startup_probe_protects_a_slow_starter_that_its_liveness_probe_would_kill():
    c = cluster()
    slow = "sleep 40; touch /tmp/started; sleep 3600"
    probe = {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 5}
    for name, extra in (("protected", {"startupProbe": {**probe, "failureThreshold": 30}}), ("unprotected", {})):
        c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{
            "name": "app", "image": "busybox", "command": ["sh", "-c", slow],
            "livenessProbe": {**probe, "failureThreshold": 2}, **extra}]}})
    c.run(20)
    assert container(c, "protected")["started"] is False and ready(c, "protected") == "False"
    c.run(100)
    protected = container(c, "protected")
    assert protected["restartCount"] == 0 and protected["started"] is True and ready(c, "protected") == "True"
    assert container(c, "unprotected")["restartCount"] >= 1
    assert not any(m.startswith("Liveness") for r, m in reasons(c, "protected") if r == "Unhealthy")


def test_a_failing_readiness_probe_takes_the_pod_out_of_ready_without_a_restart():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "flaky"}, "spec": {"containers": [{
        "name": "app", "image": "busybox",
        "command": ["sh", "-c", "touch /tmp/ready; sleep 30; rm /tmp/ready; sleep 3600"],
        "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 5}}]}})
    c.run(20)
    assert ready(c, "flaky") == "True"
    c.run(30)
    assert ready(c, "flaky") == "False" and container(c, "flaky")["restartCount"] == 0
    assert c.kubectl("get pod flaky").splitlines()[1].split()[1:3] == ["0/1", "Running"]
