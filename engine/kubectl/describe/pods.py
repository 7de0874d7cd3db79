"""describe for pods and nodes, and the container, volume and pod-template blocks they share.

Interface: ``describe_pod``, ``describe_node``, ``describe_containers``,
``describe_volumes``, ``describe_pod_template`` and ``pod_template_text``
(used by ``rollout history --revision``). Field for field as ``describePod``,
``describeNode``, ``describeContainers`` and ``DescribePodTemplate`` write them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.api import errors
from engine.api.qos import qos_class
from engine.api.quantity import parse_quantity
from engine.kubectl.describe.writer import (Writer, controller_text, describe_events, dig, find_events, go_bool,
                                            print_annotations, print_labels, print_taints, print_tolerations,
                                            rfc1123z)
from engine.kubectl.duration import age
from engine.kubectl.printers import node_roles

if TYPE_CHECKING:
    from engine.client.client import Client


def _probe(probe: dict) -> str:
    attrs = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
             f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
             f"#failure={probe.get('failureThreshold', 3)}")
    if probe.get("exec") is not None:
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attrs}"
    if probe.get("httpGet") is not None:
        get = probe["httpGet"]
        scheme = str(get.get("scheme", "HTTP")).lower()
        host = get.get("host", "")
        port = get.get("port", "")
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}" if str(port) else host
        return f"http-get {scheme}://{netloc}{get.get('path', '')} {attrs}"
    if probe.get("tcpSocket") is not None:
        return f"tcp-socket {probe['tcpSocket'].get('host', '')}:{probe['tcpSocket'].get('port', '')} {attrs}"
    if probe.get("grpc") is not None:
        return f"grpc <pod>:{probe['grpc'].get('port')} {probe['grpc'].get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _state(w: Writer, title: str, state: dict) -> None:
    if state.get("running") is not None:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{title}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        terminated = state["terminated"]
        w.write(2, f"{title}:\tTerminated\n")
        if terminated.get("reason"):
            w.write(3, f"Reason:\t{terminated['reason']}\n")
        if terminated.get("message"):
            w.write(3, f"Message:\t{terminated['message']}\n")
        w.write(3, f"Exit Code:\t{int(terminated.get('exitCode') or 0)}\n")
        if int(terminated.get("signal") or 0) > 0:
            w.write(3, f"Signal:\t{terminated['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(terminated.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(terminated.get('finishedAt'))}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")


def field_path_value(pod: dict, path: str) -> str:
    """``fieldpath.ExtractFieldPathAsString`` for the downward API paths a pod may reference."""
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    for prefix, source in (("metadata.labels['", metadata.get("labels")),
                           ("metadata.annotations['", metadata.get("annotations"))):
        if path.startswith(prefix) and path.endswith("']"):
            return str((source or {}).get(path[len(prefix):-2], ""))
    values = {"metadata.name": metadata.get("name"), "metadata.namespace": metadata.get("namespace"),
              "metadata.uid": metadata.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"), "status.podIP": status.get("podIP"),
              "status.hostIP": status.get("hostIP"),
              "status.podIPs": ",".join(ip.get("ip", "") for ip in status.get("podIPs") or []),
              "status.hostIPs": ",".join(ip.get("ip", "") for ip in status.get("hostIPs") or [])}
    return str(values.get(path) or "")


def _env(w: Writer, container: dict, pod: dict | None = None) -> None:
    if container.get("envFrom"):
        w.write(2, "Environment Variables from:\n")
        for source in container["envFrom"]:
            if source.get("configMapRef") is not None:
                origin, ref = "ConfigMap", source["configMapRef"]
            else:
                origin, ref = "Secret", source.get("secretRef") or {}
            optional = go_bool(ref.get("optional"))
            if source.get("prefix"):
                w.write(3, f"{ref.get('name', '')}\t{origin} with prefix '{source['prefix']}'\tOptional: {optional}\n")
            else:
                w.write(3, f"{ref.get('name', '')}\t{origin}\tOptional: {optional}\n")
    env = container.get("env") or []
    w.write(2, "Environment:" + ("\t<none>" if not env else "") + "\n")
    for variable in env:
        source = variable.get("valueFrom")
        if source is None:
            for index, part in enumerate(str(variable.get("value", "")).split("\n")):
                w.write(3, f"{variable['name']}:\t{part}\n" if index == 0 else f"\t{part}\n")
        elif source.get("fieldRef") is not None:
            ref = source["fieldRef"]
            value = field_path_value(pod, ref.get("fieldPath", "")) if pod is not None else ""
            w.write(3, f"{variable['name']}:\t{value} ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})\n")
        elif source.get("resourceFieldRef") is not None:
            ref = source["resourceFieldRef"]
            resource = ref.get("resource", "")
            kind, _, name = resource.partition(".")
            value = str(((container.get("resources") or {}).get(kind) or {}).get(name, "0"))
            if value == "0" and resource in ("limits.cpu", "limits.memory"):
                value = "node allocatable"
            w.write(3, f"{variable['name']}:\t{value} ({resource})\n")
        elif source.get("secretKeyRef") is not None:
            ref = source["secretKeyRef"]
            w.write(3, f"{variable['name']}:\t<set to the key '{ref.get('key', '')}' in secret '{ref.get('name', '')}'>"
                       f"\tOptional: {go_bool(ref.get('optional'))}\n")
        elif source.get("configMapKeyRef") is not None:
            ref = source["configMapKeyRef"]
            w.write(3, f"{variable['name']}:\t<set to the key '{ref.get('key', '')}' of config map "
                       f"'{ref.get('name', '')}'>\tOptional: {go_bool(ref.get('optional'))}\n")


def describe_containers(w: Writer, label: str, containers: list[dict], statuses: list[dict] | None,
                        space: str = "", pod: dict | None = None) -> None:
    """``describeContainers``: one block per container, with its status when there is one."""
    by_name = {status.get("name"): status for status in statuses or []}
    w.write(0, f"{space}{label}:{' <none>' if not containers else ''}\n")
    name_indent = " " if space else ""
    for container in containers:
        status = by_name.get(container.get("name"))
        w.write(1, f"{name_indent}{container.get('name', '')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        w.write(2, f"Image:\t{container.get('image', '')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = container.get("ports") or []
        port_text = ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports)
        host_text = ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports)
        w.write(2, f"Ports:\t{port_text}\n" if "," in port_text else f"Port:\t{port_text or '<none>'}\n")
        w.write(2, f"Host Ports:\t{host_text}\n" if "," in host_text else f"Host Port:\t{host_text or '<none>'}\n")
        if container.get("restartPolicy"):
            w.write(2, f"Restart Policy:\t{container['restartPolicy']}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            if container.get(key):
                w.write(2, f"{title}:\n")
                for item in container[key]:
                    for part in str(item).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            _state(w, "State", status.get("state") or {})
            if (status.get("lastState") or {}).get("terminated") is not None:
                _state(w, "Last State", status["lastState"])
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{int(status.get('restartCount') or 0)}\n")
        resources = container.get("resources") or {}
        for title, key in (("Limits", "limits"), ("Requests", "requests")):
            values = resources.get(key) or {}
            if values:
                w.write(2, f"{title}:\n")
                for name in sorted(values):
                    w.write(3, f"{name}:\t{parse_quantity(values[name])}\n")
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"),
                           ("Startup", "startupProbe")):
            if container.get(key) is not None:
                w.write(2, f"{title}:\t{_probe(container[key])}\n")
        _env(w, container, pod)
        mounts = sorted(container.get("volumeMounts") or [], key=lambda m: m.get("mountPath", ""))
        w.write(2, "Mounts:" + ("\t<none>" if not mounts else "") + "\n")
        for mount in mounts:
            flags = ["ro" if mount.get("readOnly") else "rw"]
            if mount.get("subPath"):
                flags.append(f'path="{mount["subPath"]}"')
            w.write(3, f"{mount.get('mountPath', '')} from {mount.get('name', '')} ({','.join(flags)})\n")


def _optional(value: Any) -> str:
    return "<nil>" if value is None else go_bool(value)


def describe_volumes(w: Writer, volumes: list[dict] | None, space: str = "") -> None:
    """``describeVolumes``: each volume's type line and its source's fields."""
    if not volumes:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    name_indent = " " if space else ""
    for volume in volumes:
        w.write(1, f"{name_indent}{volume.get('name', '')}:\n")
        describe_volume_source(w, volume)


def describe_volume_source(w: Writer, source_of: dict) -> None:
    """The source of a pod volume or a PersistentVolume (``printHostPathVolumeSource`` and friends)."""
    if source_of.get("hostPath") is not None:
        source = source_of["hostPath"]
        w.write(2, f"Type:\tHostPath (bare host directory volume)\n    Path:\t{source.get('path', '')}\n"
                   f"    HostPathType:\t{'<none>' if source.get('type') is None else source['type']}\n")
    elif source_of.get("emptyDir") is not None:
        source = source_of["emptyDir"]
        w.write(2, f"Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                   f"    Medium:\t{source.get('medium', '')}\n    SizeLimit:\t{source.get('sizeLimit') or '<unset>'}\n")
    elif source_of.get("configMap") is not None:
        source = source_of["configMap"]
        w.write(2, f"Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{source.get('name', '')}\n"
                   f"    Optional:\t{go_bool(source.get('optional'))}\n")
    elif source_of.get("secret") is not None:
        source = source_of["secret"]
        w.write(2, f"Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t"
                   f"{source.get('secretName', '')}\n    Optional:\t{go_bool(source.get('optional'))}\n")
    elif source_of.get("persistentVolumeClaim") is not None:
        source = source_of["persistentVolumeClaim"]
        w.write(2, f"Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                   f"namespace)\n    ClaimName:\t{source.get('claimName', '')}\n"
                   f"    ReadOnly:\t{go_bool(source.get('readOnly'))}\n")
    elif source_of.get("projected") is not None:
        w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
        for source in source_of["projected"].get("sources") or []:
            if source.get("secret") is not None:
                w.write(2, f"SecretName:\t{source['secret'].get('name', '')}\n"
                           f"    SecretOptionalName:\t{_optional(source['secret'].get('optional'))}\n")
            elif source.get("downwardAPI") is not None:
                w.write(2, "DownwardAPI:\ttrue\n")
            elif source.get("configMap") is not None:
                w.write(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}\n"
                           f"    ConfigMapOptional:\t{_optional(source['configMap'].get('optional'))}\n")
            elif source.get("serviceAccountToken") is not None:
                w.write(2, f"TokenExpirationSeconds:\t"
                           f"{source['serviceAccountToken'].get('expirationSeconds', 3600)}\n")
    else:
        w.write(1, "<unknown>\n")


def describe_pod_template(w: Writer, template: dict | None) -> None:
    """``DescribePodTemplate``: labels, containers, volumes, node selectors, tolerations."""
    w.write(0, "Pod Template:\n")
    if template is None:
        w.write(1, "<unset>")
        return
    metadata, spec = template.get("metadata") or {}, template.get("spec") or {}
    print_labels(w, "  Labels", metadata.get("labels"))
    if metadata.get("annotations"):
        print_annotations(w, "  Annotations", metadata["annotations"])
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], None, "  ")
    describe_containers(w, "Containers", spec.get("containers") or [], None, "  ")
    describe_volumes(w, spec.get("volumes"), "  ")
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    print_labels(w, "  Node-Selectors", spec.get("nodeSelector"))
    print_tolerations(w, "  Tolerations", spec.get("tolerations"))


def pod_template_text(template: dict) -> str:
    """The ``Pod Template:`` block as ``rollout history --revision`` prints it: tabs left unaligned."""
    w = Writer()
    describe_pod_template(w, template)
    return w.raw_text().rstrip("\n")


def describe_pod(pod: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        w.write(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP', '')}\n")
    else:
        w.write(0, "Node:\t<none>\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    phase = status.get("phase", "")
    if metadata.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {age(now, metadata['deletionTimestamp'])})\n")
        w.write(0, f"Termination Grace Period:\t{metadata.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    seccomp = dig(spec, "securityContext", "seccompProfile")
    if seccomp:
        w.write(0, f"SeccompProfile:\t{seccomp.get('type', '')}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    ips = status.get("podIPs") or []
    if not ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for entry in ips:
            w.write(1, f"IP:\t{entry.get('ip', '')}\n")
    controlled = controller_text(pod)
    if controlled:
        w.write(0, f"Controlled By:\t{controlled}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"),
                            pod=pod)
    describe_containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), pod=pod)
    gates = spec.get("readinessGates") or []
    if gates:
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in gates:
            condition = next((c for c in status.get("conditions") or []
                              if c.get("type") == gate.get("conditionType")), None)
            w.write(1, f"{gate.get('conditionType', '')} \t{condition.get('status') if condition else '<none>'} \n")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in status["conditions"]:
            w.write(1, f"{condition.get('type', '')} \t{condition.get('status', '')} \n")
    describe_volumes(w, spec.get("volumes"))
    w.write(0, f"QoS Class:\t{status.get('qosClass') or qos_class(pod)}\n")
    print_labels(w, "Node-Selectors", spec.get("nodeSelector"))
    print_tolerations(w, "Tolerations", spec.get("tolerations"))
    describe_events(w, find_events(client, pod), now)
    return w.text()


def _pod_totals(pods: list[dict]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``PodRequestsAndLimits`` summed: containers add up, init containers take the max."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for pod in pods:
        spec = pod.get("spec") or {}
        pod_requests: dict[str, Any] = {}
        pod_limits: dict[str, Any] = {}
        for container in spec.get("containers") or []:
            for target, key in ((pod_requests, "requests"), (pod_limits, "limits")):
                for name, value in ((container.get("resources") or {}).get(key) or {}).items():
                    target[name] = target.get(name, parse_quantity(0)) + parse_quantity(value)
        for container in spec.get("initContainers") or []:
            for target, key in ((pod_requests, "requests"), (pod_limits, "limits")):
                for name, value in ((container.get("resources") or {}).get(key) or {}).items():
                    quantity = parse_quantity(value)
                    if name not in target or quantity > target[name]:
                        target[name] = quantity
        for name, value in (spec.get("overhead") or {}).items():
            pod_requests[name] = pod_requests.get(name, parse_quantity(0)) + parse_quantity(value)
        for total, part in ((requests, pod_requests), (limits, pod_limits)):
            for name, value in part.items():
                total[name] = total.get(name, parse_quantity(0)) + value
    return requests, limits


def _percent(part: Any, whole: Any, milli: bool) -> int:
    whole_value = whole.scaled_value(-3) if milli else whole.value()
    if not whole_value:
        return 0
    part_value = part.scaled_value(-3) if milli else part.value()
    return int(part_value / whole_value * 100)


def describe_node(node: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Roles:\t{node_roles(node)}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    print_taints(w, "Taints", spec.get("taints"))
    w.write(0, f"Unschedulable:\t{go_bool(spec.get('unschedulable'))}\n")
    try:
        lease = client.get("leases", metadata["name"], "kube-node-lease")
    except errors.ApiError:
        lease = None
    lease_spec = (lease or {}).get("spec") or {}
    w.write(0, "Lease:\n")
    w.write(1, f"HolderIdentity:\t{lease_spec.get('holderIdentity') or '<unset>'}\n")
    w.write(1, f"AcquireTime:\t{rfc1123z(lease_spec.get('acquireTime'))}\n")
    w.write(1, f"RenewTime:\t{rfc1123z(lease_spec.get('renewTime'))}\n")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')} \t{c.get('status', '')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type', '')}:\t{address.get('address', '')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = status.get(key) or {}
        if values:
            w.write(0, f"{title}:\n")
            for name in sorted(values):
                w.write(0, f"  {name}:\t{parse_quantity(values[name])}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                       ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
        w.write(0, f"  {label}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    pods = [pod for pod in client.list("pods", None, field_selector=f"spec.nodeName={metadata['name']}")["items"]
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    allocatable = {name: parse_quantity(value) for name, value in
                   (status.get("allocatable") or status.get("capacity") or {}).items()}
    zero = parse_quantity(0)
    cpu, memory = allocatable.get("cpu", zero), allocatable.get("memory", zero)
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    for pod in pods:
        requests, limits = _pod_totals([pod])
        cells = []
        for values, name, milli, whole in ((requests, "cpu", True, cpu), (limits, "cpu", True, cpu),
                                           (requests, "memory", False, memory), (limits, "memory", False, memory)):
            quantity = values.get(name, zero)
            cells.append(f"{quantity} ({_percent(quantity, whole, milli)}%)")
        w.write(1, f"{pod['metadata'].get('namespace', '')}\t{pod['metadata']['name']}\t\t" + "\t".join(cells)
                + f"\t{age(now, pod['metadata'].get('creationTimestamp'))}\n")
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    requests, limits = _pod_totals(pods)
    for name, milli in (("cpu", True), ("memory", False), ("ephemeral-storage", False)):
        whole = allocatable.get(name, zero)
        request, limit = requests.get(name, zero), limits.get(name, zero)
        w.write(1, f"{name}\t{request} ({_percent(request, whole, milli)}%)\t{limit} "
                   f"({_percent(limit, whole, milli)}%)\n")
    for name in sorted(allocatable):
        if name.startswith("hugepages-"):
            request, limit = requests.get(name, zero), limits.get(name, zero)
            w.write(1, f"{name}\t{request} ({_percent(request, allocatable[name], False)}%)\t{limit} "
                       f"({_percent(limit, allocatable[name], False)}%)\n")
    describe_events(w, find_events(client, node), now)
    return w.text()
