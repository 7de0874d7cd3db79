"""The pod status the kubelet reports: phase, conditions and container statuses (``kubelet_pods.go``).

``generate_api_pod_status`` turns what the runtime says about a pod (its
sandboxes and containers, newest first) plus the reasons the last sync left
behind (ErrImagePull, CrashLoopBackOff, ...) into ``pod.status`` in the real
shape. The rules, as upstream:

- every container starts as ``waiting: ContainerCreating`` (``PodInitializing``
  in a pod with init containers, for them and the app containers); the newest runtime
  container gives ``running`` / ``terminated``, the one before it
  ``lastState``; a container that will be restarted and has a sync reason
  shows ``waiting`` with that reason, its last run moved to ``lastState``;
- ``restartCount`` is the newest container's restart-count annotation;
- ``pod_phase`` is ``getPhase``: Pending / Running / Succeeded / Failed from
  the restart policy and the container states (a pure function of plain
  data, the seam a lab replaces with ``options["pod_phase"]``);
- conditions PodReadyToStartContainers, Initialized, Ready, ContainersReady
  (and the scheduler's PodScheduled kept), with the real reasons and messages.

What it never does: talk to the API server (the status manager writes), or
decide anything about restarts beyond reading the restart policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from engine.api.meta import timestamp
from engine.runtime import cri

CONTAINER_CREATING = "ContainerCreating"
POD_INITIALIZING = "PodInitializing"
CONTAINER_ID_PREFIX = "containerd://"

LABEL_POD_NAME = "io.kubernetes.pod.name"
LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace"
LABEL_POD_UID = "io.kubernetes.pod.uid"
LABEL_CONTAINER_NAME = "io.kubernetes.container.name"
ANNOTATION_RESTART_COUNT = "io.kubernetes.container.restartCount"
ANNOTATION_CONTAINER_KIND = "io.kubernetes.container.kind"   # "init" for init containers (our marker)

PhaseFunction = Callable[[dict, list, list, bool], str]


@dataclass
class RuntimePodStatus:
    """What the runtime knows about one pod, newest first (kubecontainer.PodStatus)."""

    uid: str
    sandboxes: list[cri.PodSandboxStatus] = field(default_factory=list)
    containers: list[cri.ContainerStatus] = field(default_factory=list)

    @property
    def ip(self) -> str:
        ready = [s for s in self.sandboxes if s.state == cri.SANDBOX_READY]
        return ready[0].ip if ready else ""

    def by_name(self, name: str) -> list[cri.ContainerStatus]:
        return [c for c in self.containers if c.labels.get(LABEL_CONTAINER_NAME) == name]

    def latest(self, name: str) -> cri.ContainerStatus | None:
        found = self.by_name(name)
        return found[0] if found else None


def restart_count(status: cri.ContainerStatus) -> int:
    return int(status.annotations.get(ANNOTATION_RESTART_COUNT, "0") or 0)


def _stamp(nanos: int) -> str:
    return timestamp(nanos / 1_000_000_000)


def terminated_state(status: cri.ContainerStatus) -> dict:
    state = {"containerID": CONTAINER_ID_PREFIX + status.id, "exitCode": status.exit_code,
             "finishedAt": _stamp(status.finished_at), "reason": status.reason or "Error",
             "startedAt": _stamp(status.started_at or status.created_at)}
    if status.message:
        state["message"] = status.message
    return state


def should_restart(container: dict, restart_policy: str, latest: cri.ContainerStatus | None) -> bool:
    """ShouldContainerBeRestarted for a container that is not running."""
    if latest is None:
        return True
    if latest.state in (cri.CONTAINER_RUNNING, cri.CONTAINER_CREATED):
        return False
    if restart_policy == "Never":
        return False
    if restart_policy == "OnFailure" and latest.exit_code == 0:
        return False
    return True


def container_statuses(containers: list[dict], runtime: RuntimePodStatus, restart_policy: str,
                       reasons: dict[str, tuple[str, str]], default_waiting: str, terminating: bool) -> list[dict]:
    """convertToAPIContainerStatuses for one list of containers (app or init)."""
    result = []
    for container in containers:
        name = container["name"]
        runs = runtime.by_name(name)[:2]
        status: dict[str, Any] = {"image": container.get("image", ""), "imageID": "", "lastState": {},
                                  "name": name, "ready": False, "restartCount": 0, "started": False,
                                  "state": {"waiting": {"reason": default_waiting}}}
        if runs:
            latest = runs[0]
            status["containerID"] = CONTAINER_ID_PREFIX + latest.id
            status["image"] = latest.image
            status["imageID"] = latest.image_ref
            status["restartCount"] = restart_count(latest)
            if latest.state == cri.CONTAINER_RUNNING:
                status["state"] = {"running": {"startedAt": _stamp(latest.started_at)}}
                status["started"] = True
                status["ready"] = True
            elif latest.state == cri.CONTAINER_EXITED:
                status["state"] = {"terminated": terminated_state(latest)}
            else:
                status["state"] = {"waiting": {"reason": CONTAINER_CREATING}}
            if len(runs) > 1 and runs[1].state == cri.CONTAINER_EXITED:
                status["lastState"] = {"terminated": terminated_state(runs[1])}
        reason = reasons.get(name)
        latest = runs[0] if runs else None
        if reason and not terminating and should_restart(container, restart_policy, latest):
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            waiting = {"reason": reason[0]}
            if reason[1]:
                waiting["message"] = reason[1]
            status["state"] = {"waiting": waiting}
        ordered = {"containerID": status.get("containerID")} if "containerID" in status else {}
        ordered.update({k: status[k] for k in ("image", "imageID", "lastState", "name", "ready", "restartCount",
                                              "started", "state")})
        result.append(ordered)
    return result


def pod_phase(spec: dict, init_statuses: list[dict], statuses: list[dict], pod_is_terminal: bool = False) -> str:
    """getPhase: the pod's phase from its restart policy and its containers' states."""
    restart_policy = spec.get("restartPolicy", "Always")
    by_name = {s["name"]: s for s in [*init_statuses, *statuses]}
    pending_init = failed_init = 0
    for container in spec.get("initContainers") or []:
        status = by_name.get(container["name"])
        if status is None:
            pending_init += 1
            continue
        state, last = status.get("state") or {}, (status.get("lastState") or {}).get("terminated")
        if "running" in state:
            pending_init += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode", 0) != 0:
                failed_init += 1
        elif "waiting" in state and last is not None:
            if last.get("exitCode", 0) != 0:
                failed_init += 1
        else:
            pending_init += 1
    unknown = running = waiting = stopped = succeeded = 0
    for container in spec.get("containers") or []:
        status = by_name.get(container["name"])
        if status is None:
            unknown += 1
            continue
        state, last = status.get("state") or {}, (status.get("lastState") or {}).get("terminated")
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
        elif "waiting" in state:
            if last is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if failed_init > 0 and restart_policy == "Never":
        return "Failed"
    if pending_init > 0 or waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _condition(type_: str, ok: bool, reason: str = "", message: str = "") -> dict:
    condition: dict[str, Any] = {"lastProbeTime": None, "lastTransitionTime": None, "status": "True" if ok else "False",
                                 "type": type_}
    if not ok or reason:
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
    return condition


KUBELET_CONDITIONS = frozenset({"PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready",
                                "ContainersReady"})
"""PodConditionsByKubelet: the pod conditions the kubelet writes; it keeps every other one."""
SHARED_CONDITIONS = frozenset({"DisruptionTarget"})
"""PodConditionsSharedByKubelet: written by others, and by the kubelet when it evicts a pod itself."""


def conditions(spec: dict, phase: str, init_statuses: list[dict], statuses: list[dict], sandbox_ready: bool,
               scheduled: dict | None) -> list[dict]:
    """PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled (in kubectl's order)."""
    incomplete = [s["name"] for s in init_statuses
                  if not ("terminated" in s["state"] and s["state"]["terminated"].get("exitCode") == 0)]
    unready = [s["name"] for s in statuses if not s.get("ready")]
    result = [_condition("PodReadyToStartContainers", sandbox_ready)]
    if phase == "Succeeded":
        result.append(_condition("Initialized", True, "PodCompleted"))
    elif incomplete:
        result.append(_condition("Initialized", False, "ContainersNotInitialized",
                                 f"containers with incomplete status: [{' '.join(incomplete)}]"))
    else:
        result.append(_condition("Initialized", True))
    if phase in ("Succeeded", "Failed"):
        ready = [_condition("Ready", False, "PodCompleted"), _condition("ContainersReady", False, "PodCompleted")]
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        ready = [_condition("Ready", False, "ContainersNotReady", message),
                 _condition("ContainersReady", False, "ContainersNotReady", message)]
    else:
        ready = [_condition("Ready", True), _condition("ContainersReady", True)]
    result.extend(ready)
    result.append(dict(scheduled) if scheduled else _condition("PodScheduled", True))
    return result


def generate_api_pod_status(pod: dict, runtime: RuntimePodStatus, reasons: dict[str, tuple[str, str]], *,
                            host_ip: str, now: float, terminating: bool = False,
                            phase_function: PhaseFunction = pod_phase,
                            readiness: Callable[[dict], None] | None = None) -> dict:
    """The whole ``pod.status`` the kubelet would write now (transition times are the status manager's).

    ``readiness(status)`` may set each container status's ``ready`` and ``started`` (the prober manager's
    UpdatePodStatus) before the conditions are worked out from them.
    """
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    restart_policy = spec.get("restartPolicy", "Always")
    init_specs = spec.get("initContainers") or []
    init_statuses = container_statuses(init_specs, runtime, "OnFailure" if restart_policy == "Always"
                                       else restart_policy, reasons, POD_INITIALIZING, terminating)
    app_default = POD_INITIALIZING if init_specs else CONTAINER_CREATING
    statuses = container_statuses(spec.get("containers") or [], runtime, restart_policy, reasons, app_default,
                                  terminating)
    phase = phase_function(spec, init_statuses, statuses, terminating)
    sandbox_ready = any(s.state == cri.SANDBOX_READY for s in runtime.sandboxes)
    scheduled = next((c for c in old.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    status: dict[str, Any] = {
        "conditions": [],
        "containerStatuses": statuses,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "phase": phase,
        "startTime": old.get("startTime") or timestamp(now),
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    ip = runtime.ip
    if spec.get("hostNetwork") and not ip:
        ip = host_ip        # hostNetwork pods inherit the node's IPs as their pod IPs
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    if old.get("qosClass"):
        status["qosClass"] = old["qosClass"]
    if readiness is not None:
        readiness(status)
    if phase in ("Succeeded", "Failed"):
        for container in statuses:
            container["ready"] = False
    status["conditions"] = conditions(spec, phase, init_statuses, statuses, sandbox_ready, scheduled)
    return status
