"""A probe worker: probes one container of one pod with one probe, on a ticker (pkg/kubelet/prober/worker.go).

Timing, as upstream: the worker starts when the pod is added; if the kubelet
started less than one period ago it first waits a random part of a period
(so a restarted kubelet does not probe everything at once; the randomness is
the loop's seeded ``random``), then probes at once and every
``periodSeconds`` after that. A probe is skipped while the container has run
for less than ``initialDelaySeconds`` (whole seconds, as Go truncates), and
liveness and readiness probes are skipped until the container has started
(its startup probe succeeded); the startup probe stops once it has.

State: the published result starts at the probe type's initial value
(liveness Success, readiness Failure, startup Unknown) for every new
container ID; outcomes are counted by ``count_result`` (results.py) against
``successThreshold`` / ``failureThreshold``. After a liveness or startup
Failure is published the worker holds until the container is replaced. A
container that is not running reads as Failure. The worker ends when the pod
is finished, when a container that will not be restarted has exited, and
(for liveness and startup, publishing Success) when the pod is being deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.kubelet.prober.prober import ProbeError
from engine.kubelet.prober.results import FAILURE, LIVENESS, READINESS, STARTUP, SUCCESS, UNKNOWN, ProbeCount
from engine.runtime.cri import CriError

if TYPE_CHECKING:
    from engine.kubelet.prober.manager import ProbeManager
    from engine.sim.loop import Timer

INITIAL_VALUE = {LIVENESS: SUCCESS, READINESS: FAILURE, STARTUP: UNKNOWN}

PROBE_DEFAULTS = {"initialDelaySeconds": 0, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                  "failureThreshold": 3}
"""The API server's defaults for a probe (pkg/apis/core/v1/defaults.go SetDefaults_Probe)."""


def with_defaults(probe: dict) -> dict:
    return {**probe, **{k: probe.get(k) or v for k, v in PROBE_DEFAULTS.items()}}


class Worker:
    """One container's probe of one type; ``stop`` ends it."""

    def __init__(self, manager: ProbeManager, probe_type: str, pod: dict, container: dict) -> None:
        self.manager = manager
        self.loop = manager.loop
        self.probe_type = probe_type
        self.pod_uid = pod["metadata"]["uid"]
        self.container = container
        self.spec = with_defaults(container[{LIVENESS: "livenessProbe", READINESS: "readinessProbe",
                                             STARTUP: "startupProbe"}[probe_type]])
        self.results = manager.results[probe_type]
        self.container_id = ""
        self.on_hold = False
        self.count = ProbeCount()
        self.stopped = False
        self._timer: Timer | None = None
        self._triggered = False
        self._next_tick = 0.0

    def start(self) -> None:
        period = float(self.spec["periodSeconds"])
        delay = 0.0
        if period > self.loop.now - self.manager.started_at:
            delay = self.loop.random.random() * period
        self._next_tick = self.loop.now + delay
        self._timer = self.loop.call_at(self._next_tick, self._tick, label="prober.worker")

    def stop(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()

    def trigger(self) -> None:
        """Probe now, out of turn (UpdatePodStatus asks this of a readiness probe with no result yet)."""
        if not self.stopped and not self._triggered:
            self._triggered = True
            self.loop.call_soon(self._manual, label="prober.worker")

    def _manual(self) -> None:
        self._triggered = False
        if not self.stopped and not self.do_probe():
            self.manager._worker_done(self)

    def _tick(self) -> None:
        if self.stopped:
            return
        if not self.do_probe():
            self.manager._worker_done(self)
            return
        self._next_tick += float(self.spec["periodSeconds"])
        self._timer = self.loop.call_at(self._next_tick, self._tick, label="prober.worker")

    def do_probe(self) -> bool:
        """One round; False when the worker should end."""
        status = self.manager.pod_status(self.pod_uid)
        pod = self.manager.pod(self.pod_uid)
        if status is None or pod is None:
            return True     # the pod has no status yet
        if status["phase"] in ("Failed", "Succeeded"):
            return False
        container = status["containers"].get(self.container["name"])
        if container is None or not container["containerID"]:
            return True     # not created yet
        if container["containerID"] != self.container_id:
            if self.container_id:
                self.results.remove(self.container_id)
            self.container_id = container["containerID"]
            self.results.set(self.container_id, INITIAL_VALUE[self.probe_type], self.pod_uid)
            self.on_hold = False
        if self.on_hold:
            return True
        if not container["running"]:
            self.results.set(self.container_id, FAILURE, self.pod_uid)
            return not container["terminated"] or (pod.get("spec") or {}).get("restartPolicy") != "Never"
        if pod["metadata"].get("deletionTimestamp") and self.probe_type in (LIVENESS, STARTUP):
            self.results.set(self.container_id, SUCCESS, self.pod_uid)
            return False
        try:
            started_at = self.manager.runtime.container_status(self.container_id).started_at / 1e9
        except CriError:
            return True
        if int(self.loop.now - started_at) < int(self.spec["initialDelaySeconds"]):
            return True
        started = self.manager.started(self.pod_uid, self.container["name"], self.container_id)
        if started == (self.probe_type == STARTUP):
            return True     # startup probes stop once started; the others wait for it
        try:
            result = self.manager.prober.probe(self.probe_type, pod, status["podIP"], self.container,
                                               self.container_id, self.spec)
        except ProbeError:
            return True     # a prober error: the result is thrown away
        self.count, publish = self.manager.count_result(
            self.count, result, probe_type=self.probe_type,
            success_threshold=int(self.spec["successThreshold"]),
            failure_threshold=int(self.spec["failureThreshold"]))
        if publish is None:
            return True
        self.results.set(self.container_id, publish, self.pod_uid)
        if self.probe_type in (LIVENESS, STARTUP) and publish == FAILURE:
            self.on_hold = True     # until the kubelet replaces the container
        return True
