import pytest

from engine.kubelet.prober import ProbeCount

LIVENESS_EXEC = {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5}


def pod_of(name, containers, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"containers": containers, "restartPolicy": "Always", **spec}}


def docs_exec_liveness_pod():
    return pod_of("liveness-exec", [{
        "name": "liveness", "image": "registry.k8s.io/busybox", "args": ["/bin/sh", "-c",
                                                                          "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
        "livenessProbe": LIVENESS_EXEC}])


def test_the_docs_exec_liveness_example_restarts_the_container_after_the_file_disappears(loop, run_pod, recorder):
    start = loop.now
    runner = run_pod(docs_exec_liveness_pod())
    loop.run_for(30)
    assert recorder.messages("Unhealthy") == []
    loop.run_for(10 + 3 * 5)
    failures = [e for e in recorder.events if e[2] == "Unhealthy"]
    assert [e[3] for e in failures] == ["Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"] * 3
    assert failures[0][4] == "spec.containers{liveness}"
    assert 30 < failures[0][0] - start <= 35 and failures[2][0] - failures[0][0] == 10
    assert runner.container()["restartCount"] == 1
    loop.run_for(30)
    assert runner.container()["restartCount"] == 1 and runner.container()["ready"] is True


def test_the_docs_http_liveness_example_fails_with_status_500_and_restarts(loop, run_pod, recorder):
    runner = run_pod(pod_of("liveness-http", [{
        "name": "liveness", "image": "registry.k8s.io/liveness", "args": ["/server"],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                                      "httpHeaders": [{"name": "Custom-Header", "value": "Awesome"}]},
                          "initialDelaySeconds": 3, "periodSeconds": 3}}]))
    loop.run_for(10)
    assert recorder.messages() == []
    loop.run_for(12)
    assert recorder.messages("Unhealthy")[:3] == ["Liveness probe failed: HTTP probe failed with statuscode: 500"] * 3
    assert runner.container()["restartCount"] == 1


@pytest.mark.parametrize("port, ready, message", [
    (8080, True, None),
    ("http", True, None),
    (9999, False, "Readiness probe failed: dial tcp 10.244.0.5:9999: connect: connection refused"),
], ids=["a tcpSocket probe on the listening port makes the container ready",
        "a named port resolves to the container's port of that name",
        "nothing listening on the port keeps the container not ready"])
def test_tcp_socket_readiness_gates_ready(loop, run_pod, recorder, port, ready, message):
    runner = run_pod(pod_of("goproxy", [{
        "name": "goproxy", "image": "registry.k8s.io/e2e-test-images/agnhost:2.39",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"tcpSocket": {"port": port}, "initialDelaySeconds": 5, "periodSeconds": 10}}]))
    assert runner.container()["ready"] is False
    loop.run_for(4)
    assert runner.container()["ready"] is False
    loop.run_for(3)
    assert runner.container()["ready"] is ready
    assert runner.container()["restartCount"] == 0
    if message:
        assert recorder.messages("Unhealthy")[0] == message


def test_a_readiness_failure_marks_the_container_not_ready_without_restarting_it(loop, run_pod, recorder):
    runner = run_pod(pod_of("ready", [{
        "name": "c", "image": "busybox", "command": ["sh", "-c", "touch /tmp/ready; sleep 20; rm /tmp/ready; sleep 600"],
        "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2, "failureThreshold": 2}}]))
    loop.run_for(3)
    assert runner.container()["ready"] is True
    loop.run_for(25)
    assert runner.container()["ready"] is False and runner.container()["restartCount"] == 0
    assert recorder.messages("Unhealthy")[0].startswith("Readiness probe failed: cat: can't open '/tmp/ready'")


def test_a_container_without_a_readiness_probe_is_ready_once_running(loop, run_pod):
    runner = run_pod(pod_of("plain", [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]))
    assert runner.container()["ready"] is True and runner.container()["started"] is True


SLOW_START = "sleep 20; touch /tmp/started; sleep 600"
LIVENESS_STARTED = {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2, "failureThreshold": 2}


def test_a_startup_probe_protects_a_slow_starter_from_its_liveness_probe(loop, run_pod):
    runner = run_pod(pod_of("slow", [{
        "name": "c", "image": "busybox", "command": ["sh", "-c", SLOW_START], "livenessProbe": LIVENESS_STARTED,
        "startupProbe": {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2, "failureThreshold": 30}}]))
    loop.run_for(10)
    assert runner.container()["started"] is False and runner.container()["ready"] is False
    loop.run_for(60)
    assert runner.container()["started"] is True and runner.container()["ready"] is True
    assert runner.container()["restartCount"] == 0


def test_without_a_startup_probe_the_slow_starter_is_killed_by_its_liveness_probe(loop, run_pod):
    runner = run_pod(pod_of("slow", [{"name": "c", "image": "busybox", "command": ["sh", "-c", SLOW_START],
                                      "livenessProbe": LIVENESS_STARTED}]))
    loop.run_for(30)
    assert runner.container()["restartCount"] >= 2


def test_a_startup_probe_that_never_succeeds_fails_and_restarts_the_container(loop, run_pod, recorder):
    runner = run_pod(pod_of("never", [{
        "name": "c", "image": "busybox", "command": ["sleep", "3600"],
        "startupProbe": {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 1, "failureThreshold": 3}}]))
    loop.run_for(4)
    assert runner.container()["restartCount"] == 1
    assert recorder.messages("Unhealthy")[0].startswith("Startup probe failed: cat: can't open")


def test_an_exec_probe_that_outlasts_its_timeout_fails_with_timed_out(loop, run_pod, recorder):
    run_pod(pod_of("slow-probe", [{
        "name": "c", "image": "busybox", "command": ["sleep", "3600"],
        "readinessProbe": {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1}}]))
    loop.run_for(1)
    assert recorder.messages("Unhealthy")[0] == 'Readiness probe failed: command "sleep 5" timed out'


def test_a_named_port_that_does_not_exist_is_a_probe_error_and_changes_nothing(loop, run_pod, recorder):
    runner = run_pod(pod_of("noport", [{
        "name": "c", "image": "registry.k8s.io/e2e-test-images/agnhost:2.39",
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 1}}]))
    loop.run_for(10)
    assert runner.container()["restartCount"] == 0
    assert recorder.messages("Unhealthy")[0] == \
        "Liveness probe errored and resulted in unknown state: port metrics not found"


def test_an_http_probe_sends_its_headers_and_the_kube_probe_user_agent(loop, run_pod, node):
    seen = []
    runner = run_pod(pod_of("web", [{
        "name": "web", "image": "nginx:1.14.2",
        "readinessProbe": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                           "periodSeconds": 1}}]))
    program = node.program(runner.ids["web"])
    original = program.handle_http
    program.handle_http = lambda request: seen.append(request["headers"]) or original(request)
    loop.run_for(2)
    assert seen and seen[0]["User-Agent"] == "kube-probe/1.31" and seen[0]["X-Probe"] == "1"
    assert runner.container()["ready"] is True


def test_the_state_machine_is_replaceable(loop, run_pod, recorder):
    calls = []

    def impatient(count, result, **thresholds):
        calls.append(thresholds)
        return ProbeCount(result, 1), result      # publishes every outcome at once

    runner = run_pod(docs_exec_liveness_pod(), count_result=impatient)
    loop.run_for(37)
    assert runner.container()["restartCount"] == 1
    assert calls[0] == {"probe_type": "Liveness", "success_threshold": 1, "failure_threshold": 3}


def test_the_first_probe_is_jittered_within_a_period_only_just_after_the_kubelet_started(loop, node, run_pod):
    pod = pod_of("jitter", [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                             "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 10}}])
    runner = run_pod(pod)
    worker = next(iter(runner.manager._workers.values()))
    assert loop.now < worker._next_tick < loop.now + 10
    runner.manager.remove_pod(pod)
    loop.run_for(20)
    runner.manager.add_pod(pod)
    worker = next(iter(runner.manager._workers.values()))
    assert worker._next_tick == loop.now


class GrpcServer:
    """A program serving the gRPC health protocol on port 9000: NOT_SERVING for its first 10 seconds."""

    def start(self, ctx):
        self.ctx, self.started = ctx, ctx.now
        ctx.listen(9000)

    def on_signal(self, signal):
        self.ctx.exit(128 + signal)

    def handle_http(self, request):
        return None

    def grpc_health(self, service):
        return "SERVING" if self.ctx.now - self.started >= 10 else "NOT_SERVING"


@pytest.mark.parametrize("port, messages", [
    (9000, ['Readiness probe failed: service unhealthy (responded with "NOT_SERVING")']),
    (9001, ['Readiness probe failed: timeout: failed to connect service "10.244.0.5:9001" within 1s']),
], ids=["a grpc probe is ready once the server answers SERVING", "nothing listening fails to connect"])
def test_grpc_readiness(loop, node, run_pod, recorder, port, messages):
    node.registry.register("example/grpc:1.0", GrpcServer, size=1_000_000)
    node.images.pull_image("example/grpc:1.0")
    loop.run_for(5)
    runner = run_pod(pod_of("grpc", [{"name": "c", "image": "example/grpc:1.0",
                                      "readinessProbe": {"grpc": {"port": port}, "periodSeconds": 5}}]))
    loop.run_for(15)
    assert runner.container()["ready"] is (port == 9000)
    assert recorder.messages("Unhealthy")[0] == messages[0]
