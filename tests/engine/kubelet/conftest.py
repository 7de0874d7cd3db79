"""A node's runtime on a loop, and a stand-in for the kubelet core that runs one pod's containers.

``PodRunner`` does what the kubelet's sync loop does for the parts under test:
it starts the pod's containers, every second builds the pod status from the
runtime and hands it to the ProbeManager, and restarts a container whose
liveness or startup probe failed (restartPolicy Always).
"""

from __future__ import annotations

import pytest

from engine.api.meta import timestamp
from engine.kubelet.prober import ProbeManager
from engine.runtime.containerd import RuntimeService
from engine.runtime.cri import (
    CONTAINER_RUNNING,
    ContainerConfig,
    ContainerMetadata,
    PodSandboxConfig,
    PodSandboxMetadata,
)
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all
from engine.runtime.runc import linux_resources
from engine.sim.loop import Loop

IMAGES = ("busybox", "registry.k8s.io/busybox", "registry.k8s.io/liveness", "nginx:1.14.2", "registry.k8s.io/e2e-test-images/agnhost:2.39")


class Recorder:
    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.events: list[tuple[float, str, str, str, str]] = []

    def event(self, obj: dict, type_: str, reason: str, message: str, *, field_path: str = "", **_: object) -> None:
        self.events.append((self.loop.now, type_, reason, message, field_path))

    def messages(self, reason: str | None = None) -> list[str]:
        return [e[3] for e in self.events if reason is None or e[2] == reason]


@pytest.fixture
def loop() -> Loop:
    return Loop(seed=7)


@pytest.fixture
def node(loop: Loop) -> RuntimeService:
    runtime = RuntimeService(loop, register_all(Registry()))
    for image in IMAGES:
        runtime.images.pull_image(image)
    loop.run_for(60)
    return runtime


@pytest.fixture
def recorder(loop: Loop) -> Recorder:
    return Recorder(loop)


class PodRunner:
    def __init__(self, loop: Loop, node: RuntimeService, recorder: Recorder, pod: dict, **manager_options) -> None:
        self.loop, self.node, self.pod = loop, node, pod
        self.updates: list[float] = []
        self.manager = ProbeManager(loop, node, recorder, lambda uid: self.updates.append(loop.now),
                                    **manager_options)
        meta = pod["metadata"]
        self.sandbox = node.run_pod_sandbox(PodSandboxConfig(PodSandboxMetadata(meta["name"], "default",
                                                                                meta["uid"])))
        self.ids: dict[str, str] = {}
        self.restarts: dict[str, int] = {}
        self.status: dict = {}
        self.manager.add_pod(pod)
        for container in pod["spec"]["containers"]:
            self.restarts[container["name"]] = 0
            self._start(container)
        self._sync()

    def _start(self, container: dict) -> None:
        name = container["name"]
        config = ContainerConfig(ContainerMetadata(name, self.restarts[name]), container["image"],
                                 command=container.get("command") or [], args=container.get("args") or [],
                                 resources=linux_resources(container.get("resources")))
        self.ids[name] = self.node.create_container(self.sandbox, config)
        self.node.start_container(self.ids[name])

    def _sync(self) -> None:
        for container in self.pod["spec"]["containers"]:
            cid = self.ids[container["name"]]
            running = self.node.container_status(cid).state == CONTAINER_RUNNING
            if running and (self.manager.liveness_failed(cid) or self.manager.startup_failed(cid)):
                self.node.stop_container(cid, 0)
            if not running or self.node.container_status(cid).state != CONTAINER_RUNNING:
                self.restarts[container["name"]] += 1
                self._start(container)
        self.status = self.build_status()
        self.manager.update_pod_status(self.pod, self.status)
        self.loop.call_later(1.0, self._sync)

    def build_status(self) -> dict:
        statuses = []
        for container in self.pod["spec"]["containers"]:
            record = self.node.container_status(self.ids[container["name"]])
            state = ({"running": {"startedAt": timestamp(record.started_at / 1e9)}}
                     if record.state == CONTAINER_RUNNING else {"terminated": {"exitCode": record.exit_code}})
            statuses.append({"name": container["name"], "containerID": f"containerd://{record.id}",
                             "state": state, "restartCount": self.restarts[container["name"]]})
        return {"phase": "Running", "podIP": "10.244.0.5", "containerStatuses": statuses}

    def container(self, name: str = "") -> dict:
        return next(c for c in self.status["containerStatuses"] if not name or c["name"] == name)


@pytest.fixture
def run_pod(loop: Loop, node: RuntimeService, recorder: Recorder):
    def run(pod: dict, **manager_options) -> PodRunner:
        return PodRunner(loop, node, recorder, pod, **manager_options)
    return run
