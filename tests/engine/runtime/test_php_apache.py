"""registry.k8s.io/hpa-example: OK! per request, each one burning CPU for a while, and a client that waits for it."""

import pytest

from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import ContainerConfig, ContainerMetadata, PodSandboxConfig, PodSandboxMetadata
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all
from engine.runtime.programs.php_apache import REQUEST_CPU_SECONDS
from engine.runtime.runc import linux_resources

IMAGE = "registry.k8s.io/hpa-example"


@pytest.fixture
def php(loop):
    runtime = RuntimeService(loop, register_all(Registry()))
    runtime.images.pull_image(IMAGE)
    loop.run_for(120)
    pod = runtime.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata("php-apache-0", "default", "uid")))
    config = ContainerConfig(ContainerMetadata("php-apache"), IMAGE,
                             resources=linux_resources({"limits": {"cpu": "500m"}, "requests": {"cpu": "200m"}}))
    cid = runtime.create_container(pod, config)
    runtime.start_container(cid)
    return runtime, cid


def get(runtime, cid, path="/"):
    return runtime.program(cid).handle_http({"method": "GET", "path": path, "port": 80, "headers": {},
                                             "client": "10.244.1.9"})


def test_index_php_answers_ok_after_its_cpu_time_under_the_cfs_quota(loop, php):
    runtime, cid = php
    answer = get(runtime, cid)
    assert (answer["status"], answer["body"]) == (200, "OK!")
    assert answer["elapsed"] == pytest.approx(REQUEST_CPU_SECONDS / 0.5)       # half a core: twice as long
    log = runtime.read_log(runtime.container_status(cid).log_path)
    assert '"GET / HTTP/1.1" 200 3 "-" "-"' in log[-1]


def test_requests_in_flight_share_the_quota_and_the_cpu_used_is_their_cost(loop, php):
    runtime, cid = php
    cgroup = runtime.program(cid).ctx.cgroup
    before = cgroup.cpu_stat(loop.now)["usage_usec"]
    first, second = get(runtime, cid), get(runtime, cid)
    assert second["elapsed"] == pytest.approx(2 * first["elapsed"])
    loop.run_for(5)
    used = (cgroup.cpu_stat(loop.now)["usage_usec"] - before) / 1e6
    assert used == pytest.approx(2 * REQUEST_CPU_SECONDS, rel=0.3)


def test_other_paths_are_apaches_404(php):
    runtime, cid = php
    answer = get(runtime, cid, "/nope")
    assert answer["status"] == 404 and "The requested URL /nope was not found on this server." in answer["body"]
