"""The kubelet on whole clusters: a pod's life from Pending to Running, restarts, failures and the end."""

from __future__ import annotations

import pytest

import engine
from engine.runtime import cri


def cluster(nodes: int = 1, **options) -> engine.Cluster:
    return engine.Cluster(nodes=nodes, seed=0, **options)


def pod(name: str, image: str = "nginx", restart_policy: str | None = None, **container) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": image, **container}]}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def status_column(c: engine.Cluster, name: str) -> str:
    lines = c.kubectl(f"get pod {name}").splitlines()
    return lines[1].split()[2]


def events(c: engine.Cluster, name: str) -> list[tuple[str, str, str]]:
    found = [e for e in c.list("events") if e["involvedObject"]["name"] == name]
    found.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
    return [(e["type"], e["reason"], e["message"]) for e in found]


def container_status(c: engine.Cluster, name: str, index: int = 0, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    return c.get("pod", name)["status"][key][index]


def test_a_pod_goes_from_pending_through_container_creating_to_running_with_its_conditions_and_events():
    c = cluster()
    c.apply(pod("web", "nginx"))
    seen = []
    for _ in range(12):
        c.run(0.5)
        seen.append(status_column(c, "web"))
    assert seen[0] in ("Pending", "ContainerCreating")
    assert "ContainerCreating" in seen and seen[-1] == "Running"
    current = c.get("pod", "web")
    status = current["status"]
    assert status["phase"] == "Running"
    assert [(x["type"], x["status"]) for x in status["conditions"]] == [
        ("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", "True"),
        ("ContainersReady", "True"), ("PodScheduled", "True")]
    assert status["podIP"].startswith("10.244.1.") and status["hostIP"] == "172.18.0.3"
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    web = status["containerStatuses"][0]
    assert web["containerID"].startswith("containerd://") and web["ready"] and web["started"]
    assert web["image"] == "docker.io/library/nginx:latest"
    assert web["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert "running" in web["state"] and web["restartCount"] == 0
    reasons = [reason for _, reason, _ in events(c, "web")]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    pulled = events(c, "web")[2][2]
    assert pulled.startswith('Successfully pulled image "nginx" in ') and pulled.endswith(" bytes.")
    assert " including waiting). Image size: 72000000 bytes." in pulled
    assert ("Normal", "Started", "Started container app") in events(c, "web")


def test_init_containers_run_one_after_another_before_the_app_container():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "init"}, "spec": {
        "initContainers": [{"name": "first", "image": "busybox", "command": ["sh", "-c", "sleep 3"]},
                           {"name": "second", "image": "busybox", "command": ["sh", "-c", "sleep 3"]}],
        "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 3600"]}]}})
    seen = []
    for _ in range(20):
        c.run(0.5)
        column = status_column(c, "init")
        if not seen or seen[-1] != column:
            seen.append(column)
    assert seen[-3:] == ["Init:0/2", "Init:1/2", "Running"] or seen[-4:-1] == ["Init:0/2", "Init:1/2", "PodInitializing"]
    first, second = container_status(c, "init", 0, init=True), container_status(c, "init", 1, init=True)
    assert first["state"]["terminated"]["reason"] == "Completed"
    assert second["state"]["terminated"]["startedAt"] >= first["state"]["terminated"]["finishedAt"]
    conditions = {x["type"]: x["status"] for x in c.get("pod", "init")["status"]["conditions"]}
    assert conditions["Initialized"] == "True" and conditions["Ready"] == "True"


def test_app_containers_wait_in_pod_initializing_while_init_containers_run():
    c = cluster()
    c.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "init"}, "spec": {
        "initContainers": [{"name": "wait", "image": "busybox", "command": ["sh", "-c", "sleep 30"]}],
        "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 3600"]}]}})
    c.run(5)
    app = container_status(c, "init")
    assert app["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = next(x for x in c.get("pod", "init")["status"]["conditions"] if x["type"] == "Initialized")
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [wait]"


@pytest.mark.parametrize("policy, exit_code, phase, column", [
    ("Never", 1, "Failed", "Error"),
    ("Never", 0, "Succeeded", "Completed"),
    ("OnFailure", 0, "Succeeded", "Completed"),
], ids=["Never: a failing container fails the pod",
        "Never: a container exiting 0 completes the pod",
        "OnFailure: a container exiting 0 completes the pod"])
def test_restart_policy_decides_whether_an_exited_container_ends_the_pod(policy, exit_code, phase, column):
    c = cluster()
    c.apply(pod("once", "course/crasher:1.0", policy, args=["--after", "2", "--exit-code", str(exit_code)]))
    c.run(15)
    current = c.get("pod", "once")
    assert current["status"]["phase"] == phase
    assert status_column(c, "once") == column
    assert current["status"]["containerStatuses"][0]["restartCount"] == 0
    assert current["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == exit_code


@pytest.mark.parametrize("policy", ["Always", "OnFailure"])
def test_a_failing_container_is_restarted_under_always_and_on_failure(policy):
    c = cluster()
    c.apply(pod("crash", "course/crasher:1.0", policy, args=["--after", "2"]))
    c.run(40)
    status = container_status(c, "crash")
    assert status["restartCount"] >= 2
    assert c.get("pod", "crash")["status"]["phase"] == "Running"
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"


def _restart_delays(c: engine.Cluster, name: str, seconds: int) -> list[float]:
    """Seconds between each container's exit and the next one's start, read from the node's runtime."""
    runtime = c.runtimes["node-1"]
    seen: dict[str, tuple[int, float, float]] = {}
    for _ in range(seconds):
        c.run(1)
        for record in runtime.list_containers():
            s = runtime.container_status(record.id)
            seen[s.id] = (s.metadata.attempt, s.started_at / 1e9, s.finished_at / 1e9)
    runs = sorted(seen.values())
    return [round(runs[i + 1][1] - runs[i][2], 1) for i in range(len(runs) - 1) if runs[i][2] > 0]


def test_crash_loop_back_off_follows_the_real_sequence_10_20_40_80_160_300_300():
    c = cluster()
    c.apply(pod("crash", "course/crasher:1.0", args=["--after", "1"]))
    delays = _restart_delays(c, "crash", 1000)
    assert delays[0] <= 1.0                  # the first restart is immediate (at the next PLEG relist)
    assert delays[1:8] == [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    status = container_status(c, "crash")
    waiting = status["state"].get("waiting")
    if waiting:
        assert waiting["reason"] == "CrashLoopBackOff"
        assert waiting["message"].startswith("back-off 5m0s restarting failed container=app pod=crash_default(")
    message = "Back-off restarting failed container app in pod crash_default("
    assert any(reason == "BackOff" and text.startswith(message) for _, reason, text in events(c, "crash"))


def test_the_back_off_is_forgotten_after_ten_minutes_of_running():
    c = cluster()
    c.apply(pod("slow", "course/crasher:1.0", args=["--after", "650"]))
    delays = _restart_delays(c, "slow", 2000)
    assert len(delays) >= 2 and all(delay <= 1.0 for delay in delays)


def test_a_memory_hog_over_its_limit_is_oom_killed_with_exit_code_137():
    c = cluster()
    c.apply(pod("hog", "polinux/stress", "Never", command=["stress"],
                args=["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
                resources={"limits": {"memory": "100Mi"}}))
    c.run(10)
    terminated = container_status(c, "hog")["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert status_column(c, "hog") == "OOMKilled"
    assert c.get("pod", "hog")["status"]["phase"] == "Failed"


def test_a_missing_image_shows_err_image_pull_then_image_pull_back_off():
    c = cluster()
    c.apply(pod("ghost", "example.com/no/such:1.0"))
    seen = []
    for _ in range(60):
        c.run(1)
        column = status_column(c, "ghost")
        if not seen or seen[-1] != column:
            seen.append(column)
    assert seen.index("ErrImagePull") < seen.index("ImagePullBackOff")
    failed = [text for kind, reason, text in events(c, "ghost") if reason == "Failed"]
    assert failed[0] == ('Failed to pull image "example.com/no/such:1.0": rpc error: code = NotFound desc = failed to '
                         'pull and unpack image "example.com/no/such:1.0": failed to resolve reference '
                         '"example.com/no/such:1.0": example.com/no/such:1.0: not found')
    assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed
    assert ("Normal", "BackOff", 'Back-off pulling image "example.com/no/such:1.0"') in events(c, "ghost")
    waiting = container_status(c, "ghost")["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")


def test_graceful_deletion_runs_the_pre_stop_hook_then_sigterm_then_sigkill_at_the_end_of_the_grace_period():
    c = cluster()
    manifest = pod("web", "busybox", command=["sh", "-c", "sleep 3600"],
                   lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 5"]}}})
    manifest["spec"]["terminationGracePeriodSeconds"] = 20
    c.apply(manifest)
    c.run(5)
    runtime = c.runtimes["node-1"]
    container_id = container_status(c, "web")["containerID"].removeprefix("containerd://")
    c.delete("pod", "web")
    c.run(4)
    assert c.get("pod", "web")["metadata"]["deletionGracePeriodSeconds"] == 20
    assert runtime.container_status(container_id).state == cri.CONTAINER_RUNNING   # the hook still sleeps
    assert ("Normal", "Killing", "Stopping container app") in events(c, "web")
    c.run(14)                         # sh as PID 1 ignores SIGTERM: it lives until the grace period ends
    assert runtime.container_status(container_id).state == cri.CONTAINER_RUNNING
    assert c.get("pod", "web")["metadata"]["deletionTimestamp"]
    c.run(3)
    assert runtime.container_status(container_id).exit_code == cri.EXIT_SIGKILL
    with pytest.raises(engine.NotFound):
        c.get("pod", "web")
    c.run(3)
    assert not runtime.list_pod_sandbox()


def test_a_container_that_handles_sigterm_ends_the_graceful_deletion_early():
    c = cluster()
    c.apply(pod("db", "redis:7"))
    c.run(5)
    c.delete("pod", "db")
    c.run(3)
    with pytest.raises(engine.NotFound):
        c.get("pod", "db")


def test_the_kubelet_rejects_a_pod_that_does_not_fit_with_out_of_cpu():
    c = cluster()
    manifest = pod("big", "nginx", resources={"requests": {"cpu": "10"}})
    manifest["spec"]["nodeName"] = "node-1"
    c.apply(manifest)
    c.run(2)
    status = c.get("pod", "big")["status"]
    assert status["phase"] == "Failed" and status["reason"] == "OutOfcpu"
    assert status["message"] == "Node didn't have enough resource: cpu, requested: 10000, used: 0, capacity: 4000"
    assert ("Warning", "OutOfcpu", status["message"]) in events(c, "big")
    assert status_column(c, "big") == "OutOfcpu"
    assert not c.runtimes["node-1"].list_pod_sandbox()


def test_a_job_like_pod_runs_to_completion_and_succeeds():
    c = cluster()
    c.apply(pod("pi", "perl:5.34.0", "Never", command=["perl", "-Mbignum=bpi", "-wle", "print bpi(20)"]))
    c.run(40)
    current = c.get("pod", "pi")
    assert current["status"]["phase"] == "Succeeded"
    assert status_column(c, "pi") == "Completed"
    ready = next(x for x in current["status"]["conditions"] if x["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
