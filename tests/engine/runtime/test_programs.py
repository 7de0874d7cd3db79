import decimal

import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import (
    CONTAINER_EXITED,
    ContainerConfig,
    ContainerMetadata,
    PodSandboxConfig,
    PodSandboxMetadata,
)
from engine.runtime.images import Registry
from engine.runtime.programs import Program
from engine.runtime.programs.batch import pi_digits
from engine.runtime.programs.catalogue import register_all
from engine.runtime.runc import linux_resources


@pytest.fixture
def node(loop) -> RuntimeService:
    runtime = RuntimeService(loop, register_all(Registry()))
    for image in ("nginx:1.14.2", "httpd:2.4", "perl:5.34.0", "python:3.12-slim", "registry.k8s.io/liveness",
                  "gcr.io/google-samples/hello-app:1.0", "hashicorp/http-echo", "registry.k8s.io/pause:3.10",
                  "registry.k8s.io/e2e-test-images/agnhost:2.39"):
        runtime.images.pull_image(image)
    loop.run_for(120)
    return runtime


def run(node, image, command=(), args=(), files=None, resources=None):
    pod = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("web-0", "default", "uid")))
    config = ContainerConfig(ContainerMetadata("c"), image, command=list(command), args=list(args),
                             files=files or {}, resources=linux_resources(resources))
    cid = node.create_container(pod, config)
    node.start_container(cid)
    return cid


def get(node, cid, path="/", port=80):
    return node.program(cid).handle_http({"method": "GET", "path": path, "port": port, "headers": {}})


def lines(node, cid):
    return [line.split(" ", 3) for line in node.read_log(node.container_status(cid).log_path)]


def reference_pi(digits):
    """Gauss-Legendre in decimal: an independent check of the Machin computation."""
    decimal.getcontext().prec = digits + 20
    D = decimal.Decimal
    a, b, t, p = D(1), D(1) / D(2).sqrt(), D(1) / 4, D(1)
    for _ in range(12):
        a, b, t, p = (a + b) / 2, (a * b).sqrt(), t - p * ((a - b) / 2) ** 2, p * 2
    pi = (a + b) ** 2 / (4 * t)
    return str(pi.quantize(D(1).scaleb(-(digits - 1)), rounding=decimal.ROUND_HALF_UP))


def test_the_pi_job_prints_2000_digits_of_pi_and_exits_0(loop, node):
    started = loop.now
    cid = run(node, "perl:5.34.0", command=["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"])
    loop.run_for(60)
    status = node.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (CONTAINER_EXITED, 0, "Completed")
    [[_, stream, tag, printed]] = lines(node, cid)
    assert (stream, tag) == ("stdout", "F")
    assert printed == reference_pi(2000)
    assert printed.startswith("3.14159265358979323846264338327950288419716939937510")
    assert len(printed) == 2001
    assert status.finished_at / 1e9 == pytest.approx(started + 5.0)


@pytest.mark.parametrize("digits", [1, 2, 5, 10, 50, 101], ids=lambda d: f"{d} significant digits round correctly")
def test_pi_digits_match_an_independent_computation(digits):
    assert pi_digits(digits) == reference_pi(digits).rstrip(".")


def test_a_cpu_limit_slows_the_pi_job_down(loop, node):
    started = loop.now
    cid = run(node, "perl:5.34.0", command=["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
              resources={"limits": {"cpu": "500m"}})
    loop.run_for(60)
    assert node.container_status(cid).finished_at / 1e9 == pytest.approx(started + 10.0)
    stats = node.container_stats(cid)
    assert stats["usage_usec"] == 5_000_000 and stats["throttled_usec"] == 5_000_000


@pytest.mark.parametrize(
    "command, output, code",
    [
        (["python", "-c", "print(2 ** 10); print('done')"], ["1024", "done"], 0),
        (["python3", "-c", "import time; time.sleep(2); print('late')"], ["late"], 0),
        (["python", "-c", "import sys; sys.exit(3)"], [], 3),
        (["python", "-c", "open('/etc/passwd')"], None, 1),
    ],
    ids=[
        "python prints literals and arithmetic",
        "time.sleep takes virtual time",
        "sys.exit sets the exit code",
        "anything beyond the small interpreter fails with exit 1",
    ],
)
def test_python_one_liners(loop, node, command, output, code):
    cid = run(node, "python:3.12-slim", command=command)
    loop.run_for(5)
    assert node.container_status(cid).exit_code == code
    if output is not None:
        assert [line[3] for line in lines(node, cid)] == output


def test_nginx_serves_its_welcome_page_and_logs_the_request(loop, node):
    cid = run(node, "nginx:1.14.2")
    loop.run_for(5)
    answer = get(node, cid)
    assert answer["status"] == 200 and "<h1>Welcome to nginx!</h1>" in answer["body"]
    assert get(node, cid, "/missing")["status"] == 404
    assert get(node, cid, port=8080) is None
    access = [line[3] for line in lines(node, cid) if line[1] == "stdout"][-2]
    assert access == ('10.244.0.1 - - [01/Jan/2025:00:02:05 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"')


def test_nginx_serves_a_mounted_index_and_exits_0_on_sigterm(loop, node):
    cid = run(node, "nginx:1.14.2", files={"/usr/share/nginx/html/index.html": "hello from a configMap\n"})
    assert get(node, cid)["body"] == "hello from a configMap\n"
    done = node.stop_container(cid, 30)
    loop.run_for(0.1)
    assert done.done() and node.container_status(cid).exit_code == 0
    assert node.program(cid) is None


@pytest.mark.parametrize(
    "image, args, port, path, body",
    [
        ("httpd:2.4", [], 80, "/", "<html><body><h1>It works!</h1></body></html>\n"),
        ("gcr.io/google-samples/hello-app:1.0", [], 8080, "/", "Hello, world!\nVersion: 1.0.0\nHostname: web-0\n"),
        ("hashicorp/http-echo", ["-text=apple"], 5678, "/", "apple\n"),
        ("registry.k8s.io/e2e-test-images/agnhost:2.39", ["netexec", "--http-port=8080"], 8080, "/hostname",
         "web-0"),
    ],
    ids=[
        "httpd says it works",
        "hello-app names its version and host",
        "http-echo answers its -text",
        "agnhost netexec answers its hostname",
    ],
)
def test_web_servers_answer_http(loop, node, image, args, port, path, body):
    cid = run(node, image, args=args)
    answer = get(node, cid, path, port)
    assert (answer["status"], answer["body"]) == (200, body)


def test_the_liveness_image_turns_unhealthy_after_ten_seconds(loop, node):
    cid = run(node, "registry.k8s.io/liveness", args=["/server"])
    loop.run_for(9.5)
    assert get(node, cid, "/healthz", 8080)["status"] == 200
    loop.run_for(1)
    answer = get(node, cid, "/healthz", 8080)
    assert (answer["status"], answer["body"]) == (500, "error: 10.5")


def test_a_lab_registers_its_own_image(loop, node):
    class Greeter(Program):
        def start(self, ctx):
            super().start(ctx)
            ctx.stdout(f"hello {ctx.env.get('NAME', 'world')}\n")
            ctx.exit(0)

    manifest = node.registry.register("example.com/my-app:1.0", Greeter, size=5_000_000, layers=[1_000_000])
    assert manifest.size == 6_000_000
    node.images.pull_image("example.com/my-app:1.0")
    loop.run_for(1)
    cid = run(node, "example.com/my-app:1.0")
    assert [line[3] for line in lines(node, cid)] == ["hello world"]
    assert node.container_status(cid).exit_code == 0


def test_the_pause_container_exits_0_on_sigterm(loop, node):
    cid = run(node, "registry.k8s.io/pause:3.10")
    node.stop_container(cid, 30)
    assert node.container_status(cid).exit_code == 0


def test_nginx_stops_gracefully_on_its_stop_signal_sigquit(loop, node):
    cid = run(node, "nginx:1.14.2")
    node.stop_container(cid, 30)
    messages = [line[3] for line in lines(node, cid) if line[1] == "stderr"]
    assert messages[-2].endswith("[notice] 1#1: signal 3 (SIGQUIT) received, shutting down")
    assert node.container_status(cid).exit_code == 0
