"""``kubectl get`` tables: the columns the real API server's Table printers produce, per kind.

Interface:

- ``columns_and_rows(kind, objects, now, wide)``: the header names (upper case,
  as kubectl shows them) and one row of cells per object, computed only from
  object fields, exactly as ``pkg/printers/internalversion/printers.go`` does.
- ``pod_status(pod)`` / ``pod_ready(pod)`` / ``pod_restarts(pod, now)``: the
  READY, STATUS and RESTARTS cells of ``printPod``.
- ``node_status(node)`` / ``node_roles(node)``: the STATUS and ROLES cells of ``printNode``.
- ``render_table(...)``: the cells aligned as kubectl's tabwriter aligns them
  (``minwidth 6``, ``padding 3``), with the optional NAMESPACE and LABELS columns
  and ``kind/name`` names when several kinds are printed together.

Kinds without a printer here get the API server's default table: NAME and AGE.
Nothing here reads the cluster: objects and the current virtual time come in.
"""

from __future__ import annotations

from typing import Any, Callable

from engine.api.kinds import Kind
from engine.api.meta import parse_timestamp
from engine.api.selectors import SelectorError, from_label_selector
from engine.kubectl.duration import age, human_duration
from engine.kubectl.tabwriter import format_tabbed

Row = list[str]
RowFunction = Callable[[dict, float, bool], Row]

NONE = "<none>"


# -- helpers shared by several printers ---------------------------------------

def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def format_labels(labels: dict | None) -> str:
    """``labels.FormatLabels``: ``a=b,c=d`` sorted by key, ``<none>`` when empty."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """``metav1.LabelSelectorAsSelector(...).String()``."""
    try:
        return str(from_label_selector(selector))
    except SelectorError:
        return "<error>"


def _containers_and_images(template_spec: dict | None) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma-joined."""
    containers = (template_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers))


def _created(obj: dict, now: float) -> str:
    return age(now, _get(obj, "metadata", "creationTimestamp"))


def _condition(conditions: list[dict] | None, kind: str) -> dict | None:
    for condition in conditions or []:
        if condition.get("type") == kind:
            return condition
    return None


# -- pods ---------------------------------------------------------------------

def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _timestamp(text: str | None) -> float | None:
    return parse_timestamp(text) if text else None


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
        finished = _timestamp(_get(container, "lastState", "terminated", "finishedAt"))
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

    initialized = _condition(status.get("conditions"), "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            finished = _timestamp(_get(container, "lastState", "terminated", "finishedAt"))
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
            pod_ready = _condition(status.get("conditions"), "Ready")
            reason = "Running" if pod_ready is not None and pod_ready.get("status") == "True" else "NotReady"

    deleting = bool(_get(pod, "metadata", "deletionTimestamp"))
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


def _pod_row(pod: dict, now: float, wide: bool) -> Row:
    reason, ready, total, restarts, last = _pod_summary(pod)
    restarts_text = f"{restarts} ({human_duration(now - last)} ago)" if restarts and last is not None \
        else str(restarts)
    row = [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts_text, _created(pod, now)]
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
                condition = _condition(status.get("conditions"), gate.get("conditionType"))
                if condition is not None and condition.get("status") == "True":
                    true += 1
            gates_text = f"{true}/{len(gates)}"
        row += [ip, spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, gates_text]
    return row


# -- nodes --------------------------------------------------------------------

def node_status(node: dict) -> str:
    """``Ready``, ``NotReady`` or ``Unknown``, plus ``,SchedulingDisabled`` when cordoned."""
    parts = []
    ready = _condition(_get(node, "status", "conditions"), "Ready")
    if ready is not None:
        parts.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not parts:
        parts.append("Unknown")
    if _get(node, "spec", "unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def node_roles(node: dict) -> str:
    """Roles from ``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role`` labels."""
    roles = set()
    for key, value in (_get(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def node_address(node: dict, kind: str) -> str:
    for address in _get(node, "status", "addresses") or []:
        if address.get("type") == kind:
            return address.get("address", "")
    return NONE


def _node_row(node: dict, now: float, wide: bool) -> Row:
    info = _get(node, "status", "nodeInfo") or {}
    row = [node["metadata"]["name"], node_status(node), node_roles(node), _created(node, now),
           info.get("kubeletVersion", "")]
    if wide:
        row += [node_address(node, "InternalIP"), node_address(node, "ExternalIP"),
                info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
                info.get("containerRuntimeVersion") or "<unknown>"]
    return row


# -- workloads ----------------------------------------------------------------

def _template_cells(obj: dict) -> tuple[str, str]:
    return _containers_and_images(_get(obj, "spec", "template", "spec"))


def _deployment_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
           str(int(status.get("updatedReplicas") or 0)), str(int(status.get("availableReplicas") or 0)),
           _created(obj, now)]
    if wide:
        row += [*_template_cells(obj), selector_string(spec.get("selector"))]
    return row


def _replicaset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], str(int(spec.get("replicas") or 0)), str(int(status.get("replicas") or 0)),
           str(int(status.get("readyReplicas") or 0)), _created(obj, now)]
    if wide:
        row += [*_template_cells(obj), selector_string(spec.get("selector"))]
    return row


def _statefulset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"], f"{int(status.get('readyReplicas') or 0)}/{int(spec.get('replicas') or 0)}",
           _created(obj, now)]
    if wide:
        row += [*_template_cells(obj)]
    return row


def _daemonset_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = [obj["metadata"]["name"]] + [str(int(status.get(field) or 0)) for field in (
        "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
        "numberAvailable")]
    row += [format_labels(_get(obj, "spec", "template", "spec", "nodeSelector")), _created(obj, now)]
    if wide:
        row += [*_template_cells(obj), selector_string(spec.get("selector"))]
    return row


def job_status(job: dict) -> str:
    conditions = _get(job, "status", "conditions") or []

    def has(kind: str) -> bool:
        condition = _condition(conditions, kind)
        return condition is not None and condition.get("status") == "True"

    if has("Complete"):
        return "Complete"
    if has("Failed"):
        return "Failed"
    if _get(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if has(kind):
            return kind
    return "Running"


def _job_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = _timestamp(status.get("startTime")), _timestamp(status.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    row = [obj["metadata"]["name"], job_status(obj), completions, duration, _created(obj, now)]
    if wide:
        row += [*_template_cells(obj), selector_string(spec.get("selector"))]
    return row


def _cronjob_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    suspend = spec.get("suspend")
    last = status.get("lastScheduleTime")
    row = [obj["metadata"]["name"], spec.get("schedule", ""), spec.get("timeZone") or NONE,
           "<unset>" if suspend is None else ("True" if suspend else "False"),
           str(len(status.get("active") or [])), age(now, last) if last else NONE, _created(obj, now)]
    if wide:
        row += [*_containers_and_images(_get(obj, "spec", "jobTemplate", "spec", "template", "spec")),
                selector_string(_get(obj, "spec", "jobTemplate", "spec", "selector"))]
    return row


# -- services and endpoints ---------------------------------------------------

def service_ports(ports: list[dict] | None) -> str:
    """``makePortString``: ``80/TCP`` or ``80:30080/TCP``, comma-joined."""
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol", "TCP")
        if port.get("nodePort"):
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces)


def _load_balancer_ips(service: dict, wide: bool) -> str:
    ingress = _get(service, "status", "loadBalancer", "ingress") or []
    text = ",".join(entry.get("ip") or entry.get("hostname") or "" for entry in ingress
                    if entry.get("ip") or entry.get("hostname"))
    if not wide and len(text) > 16:
        text = text[:13] + "..."
    return text


def service_external_ip(service: dict, wide: bool = False) -> str:
    spec = service.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if kind == "LoadBalancer":
        balancer = _load_balancer_ips(service, wide)
        if external:
            return ",".join(([*balancer.split(",")] if balancer else []) + external)
        return balancer or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_row(obj: dict, now: float, wide: bool) -> Row:
    spec = obj.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    row = [obj["metadata"]["name"], spec.get("type", "ClusterIP"), ips[0] if ips else NONE,
           service_external_ip(obj, wide), service_ports(spec.get("ports")) or NONE, _created(obj, now)]
    if wide:
        row.append(format_labels(spec.get("selector")))
    return row


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: dict) -> str:
    """``formatEndpoints``: up to three ``ip:port``, then `` + N more...``."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return NONE
    listed: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(address.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(_host_port(address.get("ip", ""), port.get("port")))
    text = ",".join(listed)
    if more:
        return f"{text} + {count - limit} more..."
    return text or NONE


def _endpoints_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], format_endpoints(obj), _created(obj, now)]


def _endpointslice_row(obj: dict, now: float, wide: bool) -> Row:
    ports = obj.get("ports")
    if ports is None:
        ports_text = "<unset>"
    elif not ports:
        ports_text = NONE
    else:
        ports_text = ",".join("<unset>" if p.get("port") is None else str(p["port"]) for p in ports)
    endpoints = obj.get("endpoints") or []
    addresses = [address for endpoint in endpoints for address in endpoint.get("addresses") or []]
    if not endpoints:
        endpoints_text = "<unset>"
    else:
        endpoints_text = ",".join(addresses[:3])
        if len(addresses) > 3:
            endpoints_text += f" + {len(addresses) - 3} more..."
    return [obj["metadata"]["name"], obj.get("addressType", ""), ports_text, endpoints_text, _created(obj, now)]


# -- configuration, identity, policy ------------------------------------------

def _configmap_row(obj: dict, now: float, wide: bool) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [obj["metadata"]["name"], str(count), _created(obj, now)]


def _secret_row(obj: dict, now: float, wide: bool) -> Row:
    count = len(obj.get("data") or {}) + len(obj.get("stringData") or {})
    return [obj["metadata"]["name"], obj.get("type", "Opaque"), str(count), _created(obj, now)]


def _namespace_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], _get(obj, "status", "phase") or "Active", _created(obj, now)]


def _serviceaccount_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], str(len(obj.get("secrets") or [])), _created(obj, now)]


def _event_times(event: dict, now: float) -> tuple[str, str, int]:
    first_text = event.get("firstTimestamp") or event.get("eventTime")
    first = age(now, first_text)
    last = age(now, event["lastTimestamp"]) if event.get("lastTimestamp") else first
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series:
        last = age(now, series.get("lastObservedTime"))
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    return last, first, count


def event_object(event: dict) -> str:
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def _event_source(event: dict) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingController") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    if not component:
        return ""
    return component + (f", {host}" if host else "")


def _event_row(obj: dict, now: float, wide: bool) -> Row:
    last, first, count = _event_times(obj, now)
    message = (obj.get("message") or "").strip()
    if wide:
        return [last, obj.get("type", ""), obj.get("reason", ""), event_object(obj),
                _get(obj, "involvedObject", "fieldPath") or "", _event_source(obj), message, first, str(count),
                obj["metadata"]["name"]]
    return [last, obj.get("type", ""), obj.get("reason", ""), event_object(obj), message]


def _created_at(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], _get(obj, "metadata", "creationTimestamp") or ""]


def _binding_row(obj: dict, now: float, wide: bool) -> Row:
    ref = obj.get("roleRef") or {}
    row = [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", _created(obj, now)]
    if wide:
        subjects = obj.get("subjects") or []
        users = [s["name"] for s in subjects if s.get("kind") == "User"]
        groups = [s["name"] for s in subjects if s.get("kind") == "Group"]
        accounts = [f"{s.get('namespace', '')}/{s['name']}" for s in subjects if s.get("kind") == "ServiceAccount"]
        row += [", ".join(users), ", ".join(groups), ", ".join(accounts)]
    return row


def _lease_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], _get(obj, "spec", "holderIdentity") or "", _created(obj, now)]


def _access_modes(modes: list[str] | None) -> str:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(mode, mode) for mode in modes or [])


def _pv_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    return [obj["metadata"]["name"], str((spec.get("capacity") or {}).get("storage", "")),
            _access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            status.get("phase", ""), claim_text, spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""), _created(obj, now)]


def _pvc_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    phase = status.get("phase", "")
    if _get(obj, "metadata", "deletionTimestamp"):
        phase = "Terminating"
    bound = bool(spec.get("volumeName"))
    row = [obj["metadata"]["name"], phase, spec.get("volumeName", ""),
           str((status.get("capacity") or {}).get("storage", "")) if bound else "",
           _access_modes(status.get("accessModes")) if bound else "", spec.get("storageClassName") or "",
           spec.get("volumeAttributesClassName") or "<unset>", _created(obj, now)]
    if wide:
        row.append(spec.get("volumeMode") or "Filesystem")
    return row


def _storageclass_row(obj: dict, now: float, wide: bool) -> Row:
    name = obj["metadata"]["name"]
    annotations = _get(obj, "metadata", "annotations") or {}
    if annotations.get("storageclass.kubernetes.io/is-default-class") == "true" or \
            annotations.get("storageclass.beta.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    expansion = obj.get("allowVolumeExpansion")
    return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", "true" if expansion else "false", _created(obj, now)]


def _netpol_row(obj: dict, now: float, wide: bool) -> Row:
    selector = selector_string(_get(obj, "spec", "podSelector")) or NONE
    return [obj["metadata"]["name"], selector, _created(obj, now)]


def _hpa_targets(hpa: dict) -> str:
    metrics = _get(hpa, "spec", "metrics") or []
    current = _get(hpa, "status", "currentMetrics") or []
    if not metrics:
        return NONE
    pieces = []
    for index, metric in enumerate(metrics[:3]):
        if metric.get("type") == "Resource":
            target = _get(metric, "resource", "target") or {}
            now_metric = current[index] if index < len(current) else {}
            actual = "<unknown>"
            if target.get("averageUtilization") is not None:
                value = _get(now_metric, "resource", "current", "averageUtilization")
                if value is not None:
                    actual = f"{value}%"
                name = _get(metric, "resource", "name")
                pieces.append(f"{name}: {actual}/{target['averageUtilization']}%")
            else:
                value = _get(now_metric, "resource", "current", "averageValue")
                pieces.append(f"{value if value is not None else '<unknown>'}/{target.get('averageValue')}")
        else:
            pieces.append("<unknown>/<unknown>")
    text = ", ".join(pieces)
    if len(metrics) > 3:
        text += f" + {len(metrics) - 3} more..."
    return text


def _hpa_row(obj: dict, now: float, wide: bool) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", _hpa_targets(obj),
            "<unset>" if minimum is None else str(minimum), str(spec.get("maxReplicas", 0)),
            str(int(status.get("currentReplicas") or 0)), _created(obj, now)]


def _quota_row(obj: dict, now: float, wide: bool) -> Row:
    hard = _get(obj, "status", "hard") or _get(obj, "spec", "hard") or {}
    used = _get(obj, "status", "used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        piece = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits.") else requests).append(piece)
    return [obj["metadata"]["name"], _created(obj, now), ", ".join(requests), ", ".join(limits)]


def _revision_row(obj: dict, now: float, wide: bool) -> Row:
    owner = next((ref for ref in _get(obj, "metadata", "ownerReferences") or [] if ref.get("controller")), None)
    controller = NONE
    if owner:
        group = owner.get("apiVersion", "").split("/")[0] if "/" in owner.get("apiVersion", "") else ""
        kind = owner.get("kind", "").lower() + (f".{group}" if group else "")
        controller = f"{kind}/{owner.get('name', '')}"
    return [obj["metadata"]["name"], controller, str(obj.get("revision", 0)), _created(obj, now)]


def _default_row(obj: dict, now: float, wide: bool) -> Row:
    return [obj["metadata"]["name"], _created(obj, now)]


# -- the table of printers: column names as the Go TableColumnDefinitions spell them ---

PRINTERS: dict[str, tuple[list[str], list[str], RowFunction]] = {
    "Pod": (["Name", "Ready", "Status", "Restarts", "Age"], ["IP", "Node", "Nominated Node", "Readiness Gates"],
            _pod_row),
    "Node": (["Name", "Status", "Roles", "Age", "Version"],
             ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"], _node_row),
    "Deployment": (["Name", "Ready", "Up-to-date", "Available", "Age"], ["Containers", "Images", "Selector"],
                   _deployment_row),
    "ReplicaSet": (["Name", "Desired", "Current", "Ready", "Age"], ["Containers", "Images", "Selector"],
                   _replicaset_row),
    "StatefulSet": (["Name", "Ready", "Age"], ["Containers", "Images"], _statefulset_row),
    "DaemonSet": (["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"],
                  ["Containers", "Images", "Selector"], _daemonset_row),
    "Job": (["Name", "Status", "Completions", "Duration", "Age"], ["Containers", "Images", "Selector"], _job_row),
    "CronJob": (["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"],
                ["Containers", "Images", "Selector"], _cronjob_row),
    "Service": (["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"], _service_row),
    "Endpoints": (["Name", "Endpoints", "Age"], [], _endpoints_row),
    "EndpointSlice": (["Name", "AddressType", "Ports", "Endpoints", "Age"], [], _endpointslice_row),
    "ConfigMap": (["Name", "Data", "Age"], [], _configmap_row),
    "Secret": (["Name", "Type", "Data", "Age"], [], _secret_row),
    "Namespace": (["Name", "Status", "Age"], [], _namespace_row),
    "ServiceAccount": (["Name", "Secrets", "Age"], [], _serviceaccount_row),
    "Event": (["Last Seen", "Type", "Reason", "Object", "Message"], [], _event_row),
    "Lease": (["Name", "Holder", "Age"], [], _lease_row),
    "Role": (["Name", "Created At"], [], _created_at),
    "ClusterRole": (["Name", "Created At"], [], _created_at),
    "RoleBinding": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"], _binding_row),
    "ClusterRoleBinding": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"], _binding_row),
    "LimitRange": (["Name", "Created At"], [], _created_at),
    "ResourceQuota": (["Name", "Age", "Request", "Limit"], [], _quota_row),
    "PersistentVolume": (["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
                          "VolumeAttributesClass", "Reason", "Age"], [], _pv_row),
    "PersistentVolumeClaim": (["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                               "VolumeAttributesClass", "Age"], ["VolumeMode"], _pvc_row),
    "StorageClass": (["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"],
                     [], _storageclass_row),
    "NetworkPolicy": (["Name", "Pod-Selector", "Age"], [], _netpol_row),
    "HorizontalPodAutoscaler": (["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"], [],
                                _hpa_row),
    "ControllerRevision": (["Name", "Controller", "Revision", "Age"], [], _revision_row),
}

_EVENT_WIDE = ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count",
               "Name"]


def columns_and_rows(kind: Kind, objects: list[dict], now: float, wide: bool = False) -> tuple[list[str], list[Row]]:
    """Headers (upper case) and rows for ``objects`` of one kind."""
    columns, wide_columns, row_function = PRINTERS.get(kind.kind, (["Name", "Age"], [], _default_row))
    if kind.kind == "Event" and wide:
        headers = _EVENT_WIDE
    else:
        headers = columns + (wide_columns if wide else [])
    return [header.upper() for header in headers], [row_function(obj, now, wide) for obj in objects]


def resource_prefix(kind: Kind) -> str:
    """``pod``, ``deployment.apps``: how kubectl names a kind before ``/name``."""
    return kind.kind.lower() + (f".{kind.group}" if kind.group else "")


def render_table(kind: Kind, objects: list[dict], now: float, *, wide: bool = False, namespace_column: bool = False,
                 show_labels: bool = False, with_kind: bool = False, no_headers: bool = False) -> str:
    """One aligned table, as the human-readable printer writes it (ends with a newline)."""
    headers, rows = columns_and_rows(kind, objects, now, wide)
    name_index = headers.index("NAME") if "NAME" in headers else None
    lines: list[list[str]] = []
    if not no_headers:
        lines.append((["NAMESPACE"] if namespace_column else []) + headers + (["LABELS"] if show_labels else []))
    for obj, row in zip(objects, rows):
        row = list(row)
        if with_kind and name_index is not None:
            row[name_index] = f"{resource_prefix(kind)}/{row[name_index]}"
        if namespace_column:
            row.insert(0, _get(obj, "metadata", "namespace") or "")
        if show_labels:
            row.append(format_labels(_get(obj, "metadata", "labels")))
        lines.append(row)
    return format_tabbed("".join("\t".join(line) + "\n" for line in lines))
