"""The generic PLEG: one relist per second, container state changes become pod lifecycle events."""

from __future__ import annotations

import pytest

from engine.kubelet.pleg import GenericPLEG, lifecycle_events
from engine.runtime import cri
from engine.runtime.containerd import RuntimeService
from engine.runtime.images import Registry
from engine.runtime.programs.catalogue import register_all
from engine.sim.loop import Loop


@pytest.mark.parametrize("old, new, kind", [
    (None, cri.CONTAINER_RUNNING, "ContainerStarted"),
    (cri.CONTAINER_RUNNING, cri.CONTAINER_EXITED, "ContainerDied"),
    (cri.CONTAINER_EXITED, None, "ContainerRemoved"),
    (cri.CONTAINER_RUNNING, None, "ContainerDied"),
    (None, cri.CONTAINER_CREATED, "ContainerChanged"),
])
def test_each_state_change_is_one_event(old, new, kind):
    assert [e.type for e in lifecycle_events("u", "c", old, new)] == [kind]


def test_no_change_is_no_event():
    assert lifecycle_events("u", "c", cri.CONTAINER_RUNNING, cri.CONTAINER_RUNNING) == []


def test_the_pleg_relists_every_second_and_reports_a_container_that_died():
    loop = Loop(0)
    runtime = RuntimeService(loop, register_all(Registry()))
    seen = []
    pleg = GenericPLEG(loop, runtime, seen.append)
    pleg.start()
    pull = runtime.images.pull_image("course/crasher:1.0")
    loop.run_for(5)
    assert pull.done()
    sandbox = runtime.run_pod_sandbox(cri.PodSandboxConfig(cri.PodSandboxMetadata("p", "default", "u")))
    config = cri.ContainerConfig(cri.ContainerMetadata("c"), "course/crasher:1.0", args=["--after", "2"],
                                 labels={"io.kubernetes.pod.uid": "u"})
    container = runtime.create_container(sandbox, config)
    runtime.start_container(container)
    loop.run_for(1)
    assert [(e.type, e.container_id) for e in seen] == [("ContainerStarted", container)]
    loop.run_for(3)
    assert [e.type for e in seen] == ["ContainerStarted", "ContainerDied"]
    assert pleg.healthy()
