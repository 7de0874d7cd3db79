"""The pod and node printers: printPod's READY, STATUS and RESTARTS; printNode's STATUS and ROLES.

Interface: ``pod_status(pod)``, ``pod_ready(pod)``, ``pod_restarts(pod, now)``,
``pod_row``; ``node_status(node)``, ``node_roles(node)``, ``node_address(node,
type)``, ``node_row``. The status walk is ``printPod`` step for step: the
pod's reason, then init containers (``Init:1/2``, ``Init:CrashLoopBackOff``),
then containers from last to first (waiting and terminated reasons, exit
codes, signals), ``Completed`` turning back to Running or NotReady while a
container still runs, and ``Terminating`` / ``Unknown`` for pods being deleted.
"""

from __future__ import annotations

from engine.kubectl.duration import human_duration
from engine.kubectl.printers.cells import NONE, Row, created_age, dig, find_condition, parse_time


def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _pod_summary(pod: dict) -> tuple[str, int, int, int, float | None]:
    """printPod's walk over container statuses: (reason, ready, total, restarts, last restart time)."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))
    init_count = len(spec.get("initContainers") or [])

    initializing = False
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(container.get("restartCount") or 0)
        finished = parse_time(dig(container, "lastState", "terminated", "finishedAt"))
        if finished is not None and (last_restart is None or finished > last_restart):
            last_restart = finished
        restartable = _is_restartable_init(init_specs.get(container.get("name")))
        if restartable:
            sidecar_restarts += int(container.get("restartCount") or 0)
            if finished is not None and (last_sidecar_restart is None or finished > last_sidecar_restart):
                last_sidecar_restart = finished
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if restartable and container.get("started"):
            if container.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{init_count}"
        initializing = True
        break

    initialized = find_condition(status.get("conditions"), "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            finished = parse_time(dig(container, "lastState", "terminated", "finishedAt"))
            if finished is not None and (last_restart is None or finished > last_restart):
                last_restart = finished
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = find_condition(status.get("conditions"), "Ready")
            reason = "Running" if pod_ready is not None and pod_ready.get("status") == "True" else "NotReady"

    deleting = bool(dig(pod, "metadata", "deletionTimestamp"))
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def pod_status(pod: dict) -> str:
    """The STATUS column of ``kubectl get pods``."""
    return _pod_summary(pod)[0]


def pod_ready(pod: dict) -> str:
    """The READY column: ready containers over containers (sidecars count)."""
    _, ready, total, _, _ = _pod_summary(pod)
    return f"{ready}/{total}"


def pod_restarts(pod: dict, now: float) -> str:
    """The RESTARTS column: ``3 (52s ago)`` when the last restart time is known."""
    _, _, _, restarts, last = _pod_summary(pod)
    if restarts and last is not None:
        return f"{restarts} ({human_duration(now - last)} ago)"
    return str(restarts)


def pod_row(pod: dict, now: float, wide: bool) -> Row:
    reason, ready, total, restarts, last = _pod_summary(pod)
    restarts_text = f"{restarts} ({human_duration(now - last)} ago)" if restarts and last is not None \
        else str(restarts)
    row = [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts_text, created_age(pod, now)]
    if wide:
        status = pod.get("status") or {}
        spec = pod.get("spec") or {}
        ips = status.get("podIPs") or []
        ip = (ips[0].get("ip") if ips else "") or NONE
        gates = spec.get("readinessGates") or []
        gates_text = NONE
        if gates:
            true = 0
            for gate in gates:
                condition = find_condition(status.get("conditions"), gate.get("conditionType"))
                if condition is not None and condition.get("status") == "True":
                    true += 1
            gates_text = f"{true}/{len(gates)}"
        row += [ip, spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, gates_text]
    return row


def node_status(node: dict) -> str:
    """``Ready``, ``NotReady`` or ``Unknown``, plus ``,SchedulingDisabled`` when cordoned."""
    parts = []
    ready = find_condition(dig(node, "status", "conditions"), "Ready")
    if ready is not None:
        parts.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not parts:
        parts.append("Unknown")
    if dig(node, "spec", "unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def node_roles(node: dict) -> str:
    """Roles from ``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role`` labels."""
    roles = set()
    for key, value in (dig(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def node_address(node: dict, kind: str) -> str:
    for address in dig(node, "status", "addresses") or []:
        if address.get("type") == kind:
            return address.get("address", "")
    return NONE


def node_row(node: dict, now: float, wide: bool) -> Row:
    info = dig(node, "status", "nodeInfo") or {}
    row = [node["metadata"]["name"], node_status(node), node_roles(node), created_age(node, now),
           info.get("kubeletVersion", "")]
    if wide:
        row += [node_address(node, "InternalIP"), node_address(node, "ExternalIP"),
                info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
                info.get("containerRuntimeVersion") or "<unknown>"]
    return row
