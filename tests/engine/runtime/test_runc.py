import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import (
    CONTAINER_EXITED,
    CONTAINER_RUNNING,
    ContainerConfig,
    ContainerMetadata,
    LinuxContainerResources,
    PodSandboxConfig,
    PodSandboxMetadata,
)
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all
from engine.runtime.runc import linux_resources, milli_cpu_to_quota, milli_cpu_to_shares

Mi = 1024 * 1024


@pytest.mark.parametrize(
    "resources, expected",
    [
        ({}, LinuxContainerResources(0, 0, 2, 0)),
        ({"requests": {"cpu": "250m", "memory": "64Mi"}}, LinuxContainerResources(0, 0, 256, 0)),
        ({"limits": {"cpu": "500m", "memory": "128Mi"}}, LinuxContainerResources(100000, 50000, 512, 128 * Mi)),
        ({"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}, LinuxContainerResources(100000, 200000, 1024, 0)),
        ({"requests": {"cpu": "1m"}, "limits": {"cpu": "1m"}}, LinuxContainerResources(100000, 1000, 2, 0)),
    ],
    ids=[
        "no resources means the minimum two shares and no quota",
        "a request sets shares only",
        "a limit alone is also the request, and sets the quota over a 100 ms period",
        "request and limit set shares and quota separately",
        "one millicore is clamped to two shares and a 1 ms quota",
    ],
)
def test_cgroup_settings_from_requests_and_limits(resources, expected):
    assert linux_resources(resources) == expected


@pytest.mark.parametrize(
    "milli, shares, quota",
    [(0, 2, 0), (100, 102, 10000), (1000, 1024, 100000), (1500, 1536, 150000)],
    ids=["zero", "a tenth of a CPU", "one CPU", "one and a half CPUs"],
)
def test_shares_and_quota_formulas(milli, shares, quota):
    assert (milli_cpu_to_shares(milli), milli_cpu_to_quota(milli)) == (shares, quota)


@pytest.fixture
def node(loop) -> RuntimeService:
    runtime = RuntimeService(loop, register_all(Registry()))
    for image in ("polinux/stress", "vish/stress", "course/memory-hog:1.0", "course/crasher:1.0", "redis:7"):
        runtime.images.pull_image(image)
    loop.run_for(30)
    return runtime


def run(node, image, args=(), resources=None, command=()):
    pod = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("pod", "default", "uid")))
    config = ContainerConfig(ContainerMetadata("c"), image, command=list(command), args=list(args),
                             resources=linux_resources(resources))
    cid = node.create_container(pod, config)
    node.start_container(cid)
    return cid


@pytest.mark.parametrize(
    "vm_bytes, limit, state, exit_code, reason",
    [
        ("250M", "100Mi", CONTAINER_EXITED, 137, "OOMKilled"),
        ("150M", "200Mi", CONTAINER_RUNNING, 0, ""),
        ("150M", None, CONTAINER_RUNNING, 0, ""),
    ],
    ids=[
        "the docs' stress of 250M under a 100Mi limit is OOMKilled with exit 137",
        "150M under a 200Mi limit runs on",
        "without a limit nothing stops it",
    ],
)
def test_memory_above_the_limit_is_an_oom_kill(loop, node, vm_bytes, limit, state, exit_code, reason):
    resources = {"limits": {"memory": limit}} if limit else {}
    cid = run(node, "polinux/stress", command=["stress"],
              args=["--vm", "1", "--vm-bytes", vm_bytes, "--vm-hang", "1"], resources=resources)
    loop.run_for(5)
    status = node.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (state, exit_code, reason)
    assert node.container_stats(cid)["oom_kills"] == (1 if reason else 0)


def test_a_leaking_program_is_oom_killed_when_it_crosses_the_limit(loop, node):
    cid = run(node, "course/memory-hog:1.0", args=["--rate", "10"], resources={"limits": {"memory": "100Mi"}})
    started = loop.now
    loop.run_for(60)
    status = node.container_status(cid)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")
    # 10 MB a second crosses 100 MiB (104.9 MB) at the eleventh allocation, ten seconds in
    assert status.finished_at / 1e9 == pytest.approx(started + 10)
    assert node.container_stats(cid)["memory_max_usage_bytes"] == 110_000_000


@pytest.mark.parametrize(
    "cpus, limit, usage, periods, throttled, throttled_seconds",
    [
        ("2", "1", 10.0, 100, 100, 10.0),
        ("1", "500m", 5.0, 100, 100, 5.0),
        ("1", "2", 10.0, 100, 0, 0.0),
        ("2", None, 20.0, 0, 0, 0.0),
    ],
    ids=[
        "two busy cores under a one-CPU limit use 10 s and are throttled 10 s in every period",
        "one busy core under 500m uses half its time and is throttled the other half",
        "demand below the quota is never throttled",
        "without a limit there is no quota and no periods are counted",
    ],
)
def test_cpu_above_the_quota_is_throttled(loop, node, cpus, limit, usage, periods, throttled, throttled_seconds):
    resources = {"limits": {"cpu": limit}} if limit else {}
    cid = run(node, "vish/stress", args=["-cpus", cpus], resources=resources)
    loop.run_for(10)
    stats = node.container_stats(cid)
    assert stats["usage_usec"] == usage * 1_000_000
    assert (stats["nr_periods"], stats["nr_throttled"]) == (periods, throttled)
    assert stats["throttled_usec"] == throttled_seconds * 1_000_000


def test_the_crasher_exits_with_an_error(loop, node):
    cid = run(node, "course/crasher:1.0", args=["--after", "3", "--exit-code", "2"])
    loop.run_for(3.1)
    status = node.container_status(cid)
    assert (status.exit_code, status.reason) == (2, "Error")
    assert node.read_log(status.log_path)[-1].split(" ", 3)[1:] == [
        "stderr", "F", "panic: something went wrong (exit code 2)"]


def test_redis_shuts_down_cleanly_on_sigterm(loop, node):
    cid = run(node, "redis:7")
    assert node.program(cid).command(["SET", "k", "v"]) == "OK"
    assert node.program(cid).command(["GET", "k"]) == "v"
    done = node.stop_container(cid, 30)
    loop.run_for(0.1)
    assert done.done() and node.container_status(cid).exit_code == 0
