"""The probe manager: one worker per container per probe, and the results the kubelet reads (pkg/kubelet/prober).

Interface (what the kubelet calls):
    ProbeManager(loop, runtime, recorder, on_update, *, count_result=...)
    add_pod(pod)                  start workers for the pod's probes (idempotent)
    remove_pod(pod)               stop them
    update_pod_status(pod, status)
        sets ``started`` and ``ready`` of each container status in the status
        being built, as UpdatePodStatus does: started when running and the
        startup probe succeeded (or there is none); ready when started and
        the readiness probe succeeded (or there is none); a readiness probe
        with no success yet is triggered to run at once. Init containers are
        ready once they exited 0. The status is also what the workers read
        next (upstream they read it from the status manager).
    liveness_failed(container_id) / startup_failed(container_id)
        the kubelet restarts a container whose answer is True
``on_update(pod_uid)`` is called whenever a published result changes, so the
kubelet syncs the pod (restart on liveness failure, Ready on readiness).
Sidecars (init containers with ``restartPolicy: Always``) are probed like
app containers. ``count_result`` is the probe state machine (results.py);
labs pass their own. What it never does: restart containers or write to the
API server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.kubelet.prober.prober import Prober
from engine.kubelet.prober.results import LIVENESS, READINESS, STARTUP, SUCCESS, FAILURE, ResultsManager, count_result
from engine.kubelet.prober.worker import Worker

if TYPE_CHECKING:
    from engine.sim.loop import Loop

PROBE_FIELDS = ((STARTUP, "startupProbe"), (READINESS, "readinessProbe"), (LIVENESS, "livenessProbe"))


def container_id_of(container_id: str) -> str:
    """The runtime's ID from a status's ``containerd://<id>`` (a bare ID is left as it is)."""
    return container_id.split("://", 1)[-1]


def probed_containers(pod: dict) -> list[dict]:
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    return sidecars + list(spec.get("containers") or [])


class ProbeManager:
    """The kubelet's prober manager."""

    def __init__(self, loop: Loop, runtime: Any, recorder: Any, on_update: Callable[[str], None], *,
                 count_result: Callable[..., Any] = count_result) -> None:
        self.loop = loop
        self.runtime = runtime
        self.prober = Prober(runtime, recorder)
        self.on_update = on_update
        self.count_result = count_result
        self.started_at = loop.now
        self.results = {kind: ResultsManager(self._changed) for kind in (LIVENESS, READINESS, STARTUP)}
        self._workers: dict[tuple[str, str, str], Worker] = {}
        self._pods: dict[str, dict] = {}
        self._statuses: dict[str, dict] = {}

    # -- the kubelet's calls ----------------------------------------------------
    def add_pod(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        self._pods[uid] = pod
        for container in probed_containers(pod):
            for probe_type, field in PROBE_FIELDS:
                key = (uid, container["name"], probe_type)
                if container.get(field) and key not in self._workers:
                    worker = Worker(self, probe_type, pod, container)
                    self._workers[key] = worker
                    worker.start()

    def remove_pod(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        for key in [k for k in self._workers if k[0] == uid]:
            self._workers.pop(key).stop()
        self._pods.pop(uid, None)
        self._statuses.pop(uid, None)

    def update_pod_status(self, pod: dict, status: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._pods:
            self._pods[uid] = pod
        statuses = list(status.get("containerStatuses") or [])
        init_statuses = list(status.get("initContainerStatuses") or [])
        self._statuses[uid] = {
            "phase": status.get("phase", ""),
            "podIP": status.get("podIP", ""),
            "containers": {c["name"]: self._snapshot(c) for c in init_statuses + statuses},
        }
        sidecars = {c["name"] for c in probed_containers(pod)}
        for c in statuses:
            self._set_started_and_ready(uid, c)
        for c in init_statuses:
            if c["name"] in sidecars:
                self._set_started_and_ready(uid, c)
            else:
                c["started"] = bool((c.get("state") or {}).get("running"))
                terminated = (c.get("state") or {}).get("terminated")
                c["ready"] = bool(terminated) and terminated.get("exitCode") == 0

    def liveness_failed(self, container_id: str) -> bool:
        return self.results[LIVENESS].get(container_id_of(container_id)) == FAILURE

    def startup_failed(self, container_id: str) -> bool:
        return self.results[STARTUP].get(container_id_of(container_id)) == FAILURE

    # -- for the workers -------------------------------------------------------------
    def pod(self, uid: str) -> dict | None:
        return self._pods.get(uid)

    def pod_status(self, uid: str) -> dict | None:
        return self._statuses.get(uid)

    def started(self, uid: str, name: str, container_id: str) -> bool:
        """Started: the startup probe succeeded for this container, or there is no startup probe."""
        if (uid, name, STARTUP) not in self._workers:
            return True
        return self.results[STARTUP].get(container_id) == SUCCESS

    def _worker_done(self, worker: Worker) -> None:
        key = (worker.pod_uid, worker.container["name"], worker.probe_type)
        if self._workers.get(key) is worker:
            del self._workers[key]
        worker.stop()
        if worker.container_id:
            worker.results.remove(worker.container_id)

    def _changed(self, container_id: str, result: str, pod_uid: str) -> None:
        self.on_update(pod_uid)

    @staticmethod
    def _snapshot(container_status: dict) -> dict:
        state = container_status.get("state") or {}
        return {"containerID": container_id_of(container_status.get("containerID") or ""),
                "running": "running" in state, "terminated": "terminated" in state}

    def _set_started_and_ready(self, uid: str, c: dict) -> None:
        running = "running" in (c.get("state") or {})
        container_id = container_id_of(c.get("containerID") or "")
        started = running and self.started(uid, c["name"], container_id)
        c["started"] = started
        if not started:
            c["ready"] = False
            return
        if self.results[READINESS].get(container_id) == SUCCESS:
            c["ready"] = True
            return
        worker = self._workers.get((uid, c["name"], READINESS))
        c["ready"] = worker is None
        if worker is not None:
            worker.trigger()
