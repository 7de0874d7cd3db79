"""``kubectl describe``: the describers of ``kubectl/pkg/describe/describe.go``, field for field.

Interface:

- ``run_describe(invocation)``: ``describe KIND [NAME...]`` / ``KIND/NAME`` / ``-l``.
- ``describe_object(kind, obj, client, now) -> str``: one object's text; pods,
  nodes, deployments, replicasets, daemonsets, statefulsets, jobs, services,
  namespaces, configmaps, secrets, serviceaccounts and RBAC roles and
  bindings have their own describers, every other kind gets the generic
  one (Name, Namespace, Labels, Annotations, then every other field with
  "smart" labels such as ``API Version``). Roles and bindings print their
  PolicyRule and Subjects tables.
- ``pod_template_text(template)``: the ``Pod Template:`` block (used by rollout history).

Each describer writes lines the way the Go code does (``Label:\\tvalue`` at
two-space levels) and the whole text goes through Go's tabwriter
(``minwidth 0, padding 2``), so alignment follows the same column blocks as
the real output. The Events table is aligned on its own, as ``DescribeEvents``
flushes the writer first. Events are found by ``involvedObject`` fields.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any, Callable

from engine.api import errors
from engine.api.kinds import REGISTRY, Kind
from engine.api.meta import EPOCH, parse_timestamp
from engine.api.qos import qos_class
from engine.api.quantity import parse_quantity
from engine.api.selectors import format_label_selector
from engine.kubectl.duration import age
from engine.kubectl.printers import format_endpoints, format_labels, node_roles
from engine.kubectl.tabwriter import DESCRIBE_MINWIDTH, DESCRIBE_PADDING, format_tabbed

if TYPE_CHECKING:
    from engine.client.client import Client
    from engine.kubectl.cli import Invocation

LEVELS = ("", "  ", "    ", "      ", "        ")
MAX_ANNOTATION_LEN = 140
SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}


class Writer:
    """describe's PrefixWriter over a tabwriter; ``flush`` ends a block of alignment."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.pending: list[str] = []

    def write(self, level: int, text: str) -> None:
        self.pending.append(LEVELS[level] + text)

    def line(self, text: str) -> None:
        self.pending.append(text + "\n")

    def flush(self) -> None:
        if self.pending:
            self.done.append(format_tabbed("".join(self.pending), DESCRIBE_MINWIDTH, DESCRIBE_PADDING))
            self.pending = []

    def text(self) -> str:
        self.flush()
        return "".join(self.done)


# -- small formatters -----------------------------------------------------------

def rfc1123z(timestamp: str | None) -> str:
    """Go's ``time.RFC1123Z`` of a virtual timestamp: ``Wed, 01 Jan 2025 00:00:05 +0000``."""
    if not timestamp:
        return "<unset>"
    moment = EPOCH + _dt.timedelta(seconds=parse_timestamp(timestamp))
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def go_bool(value: Any) -> str:
    return "true" if value else "false"


def print_labels(w: Writer, title: str, labels: dict | None, initial_indent: str = "") -> None:
    """``printLabelsMultilineWithIndent``: one ``key=value`` per line, continuation lines aligned."""
    w.write(0, f"{initial_indent}{title}:\t")
    if not labels:
        w.line("<none>")
        return
    for index, key in enumerate(sorted(labels)):
        if index:
            w.write(0, f"{initial_indent}\t")
        w.write(0, f"{key}={labels[key]}\n")


def print_annotations(w: Writer, title: str, annotations: dict | None) -> None:
    """``printAnnotationsMultiline``: long or multi-line values go below their key."""
    w.write(0, f"{title}:\t")
    keys = sorted(key for key in annotations or {} if key not in SKIP_ANNOTATIONS)
    if not keys:
        w.line("<none>")
        return
    for index, key in enumerate(keys):
        if index:
            w.write(0, "\t")
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shortened = part if len(part) <= MAX_ANNOTATION_LEN - 2 else part[:MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {shortened}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def print_tolerations(w: Writer, title: str, tolerations: list[dict] | None, initial_indent: str = "") -> None:
    w.write(0, f"{initial_indent}{title}:\t")
    if not tolerations:
        w.line("<none>")
        return
    for index, toleration in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        if index:
            w.write(0, f"{initial_indent}\t")
        text = toleration.get("key", "")
        if toleration.get("value"):
            text += f"={toleration['value']}"
        if toleration.get("effect"):
            text += f":{toleration['effect']}"
        if toleration.get("operator") == "Exists" and not toleration.get("value"):
            text += " op=Exists" if toleration.get("key") or toleration.get("effect") else "op=Exists"
        if toleration.get("tolerationSeconds") is not None:
            text += f" for {toleration['tolerationSeconds']}s"
        w.write(0, text + "\n")


def print_taints(w: Writer, title: str, taints: list[dict] | None) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.line("<none>")
        return
    for index, taint in enumerate(sorted(taints, key=lambda t: (t.get("effect", ""), t.get("key", "")))):
        if index:
            w.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        w.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def controller_text(obj: dict) -> str:
    for ref in _get(obj, "metadata", "ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind', '')}/{ref.get('name', '')}"
    return ""


# -- events ---------------------------------------------------------------------

def find_events(client: "Client", obj: dict) -> list[dict]:
    """Events about ``obj``: ``involvedObject`` name, namespace, kind and uid, oldest first."""
    metadata = obj.get("metadata") or {}
    selector = [f"involvedObject.name={metadata.get('name', '')}", f"involvedObject.kind={obj.get('kind', '')}"]
    if metadata.get("namespace"):
        selector.append(f"involvedObject.namespace={metadata['namespace']}")
    if metadata.get("uid"):
        selector.append(f"involvedObject.uid={metadata['uid']}")
    events = client.list("events", metadata.get("namespace"), field_selector=",".join(selector))["items"]

    def moment(event: dict) -> float:
        text = event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
        return parse_timestamp(text) if text else 0.0

    return sorted(events, key=moment)


def describe_events(w: Writer, events: list[dict], now: float) -> None:
    """``DescribeEvents``: the Type / Reason / Age / From / Message table, or ``Events:  <none>``."""
    w.flush()
    if not events:
        w.write(0, "Events:\t<none>\n")
        w.flush()
        return
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in events:
        first = age(now, event.get("eventTime")) if event.get("eventTime") else age(now, event.get("firstTimestamp"))
        count = int(event.get("count") or 0)
        if count > 1:
            interval = f"{age(now, event.get('lastTimestamp'))} (x{count} over {first})"
        else:
            interval = first
        source = _get(event, "source", "component") or event.get("reportingController") or ""
        w.write(1, f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t"
                   f"{(event.get('message') or '').strip()}\n")
    w.flush()


# -- containers and volumes -------------------------------------------------------

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
        if volume.get("hostPath") is not None:
            source = volume["hostPath"]
            w.write(2, f"Type:\tHostPath (bare host directory volume)\n    Path:\t{source.get('path', '')}\n"
                       f"    HostPathType:\t{source.get('type') or '<none>'}\n")
        elif volume.get("emptyDir") is not None:
            source = volume["emptyDir"]
            w.write(2, f"Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                       f"    Medium:\t{source.get('medium', '')}\n    SizeLimit:\t{source.get('sizeLimit') or '<unset>'}\n")
        elif volume.get("configMap") is not None:
            source = volume["configMap"]
            w.write(2, f"Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{source.get('name', '')}\n"
                       f"    Optional:\t{go_bool(source.get('optional'))}\n")
        elif volume.get("secret") is not None:
            source = volume["secret"]
            w.write(2, f"Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t"
                       f"{source.get('secretName', '')}\n    Optional:\t{go_bool(source.get('optional'))}\n")
        elif volume.get("persistentVolumeClaim") is not None:
            source = volume["persistentVolumeClaim"]
            w.write(2, f"Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                       f"namespace)\n    ClaimName:\t{source.get('claimName', '')}\n"
                       f"    ReadOnly:\t{go_bool(source.get('readOnly'))}\n")
        elif volume.get("projected") is not None:
            w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
            for source in volume["projected"].get("sources") or []:
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
    w = Writer()
    describe_pod_template(w, template)
    return w.text().rstrip("\n")


# -- the describers -----------------------------------------------------------------

Describer = Callable[[dict, "Client", float], str]


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
    seccomp = _get(spec, "securityContext", "seccompProfile")
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


def _owned(client: "Client", owner: dict, plural: str) -> list[dict]:
    uid = owner["metadata"].get("uid")
    items = client.list(plural, owner["metadata"].get("namespace"))["items"]
    return [item for item in items if any(ref.get("controller") and ref.get("uid") == uid
                                          for ref in item["metadata"].get("ownerReferences") or [])]


def _template_without_hash(template: dict) -> dict:
    import copy
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop("pod-template-hash", None)
    return template


def _replicasets_text(replicasets: list[dict]) -> str:
    texts = [f"{rs['metadata']['name']} ({int(_get(rs, 'status', 'replicas') or 0)}/"
             f"{int(_get(rs, 'spec', 'replicas') or 0)} replicas created)" for rs in replicasets]
    return ", ".join(texts) or "<none>"


def describe_deployment(deployment: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = deployment["metadata"], deployment.get("spec") or {}, deployment.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{int(spec.get('replicas') or 0)} desired | {int(status.get('updatedReplicas') or 0)} "
               f"updated | {int(status.get('replicas') or 0)} total | {int(status.get('availableReplicas') or 0)} "
               f"available | {int(status.get('unavailableReplicas') or 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{int(spec.get('minReadySeconds') or 0)}\n")
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        w.write(0, f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable', '25%')} max unavailable, "
                   f"{rolling.get('maxSurge', '25%')} max surge\n")
    describe_pod_template(w, spec.get("template"))
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')} \t{c.get('status', '')}\t{c.get('reason', '')}\n")
    owned = sorted(_owned(client, deployment, "replicasets"),
                   key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]))
    wanted = _template_without_hash(spec.get("template"))
    new = next((rs for rs in owned if _template_without_hash(rs["spec"].get("template")) == wanted), None)
    old = [rs for rs in owned if rs is not new and int(_get(rs, "spec", "replicas") or 0) != 0]
    w.write(0, f"OldReplicaSets:\t{_replicasets_text(old)}\n")
    w.write(0, f"NewReplicaSet:\t{_replicasets_text([new] if new else [])}\n")
    describe_events(w, find_events(client, deployment), now)
    return w.text()


def describe_replicaset(rs: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = rs["metadata"], rs.get("spec") or {}, rs.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    controlled = controller_text(rs)
    if controlled:
        w.write(0, f"Controlled By:\t{controlled}\n")
    w.write(0, f"Replicas:\t{int(status.get('replicas') or 0)} current / {int(spec.get('replicas') or 0)} desired\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, rs)}\n")
    describe_pod_template(w, spec.get("template"))
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type', '')} \t{c.get('status', '')}\t{c.get('reason', '')}\n")
    describe_events(w, find_events(client, rs), now)
    return w.text()


def _pods_status(client: "Client", owner: dict) -> str:
    """``getPodStatusForController``: the owner's pods by phase."""
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in _owned(client, owner, "pods"):
        phase = _get(pod, "status", "phase")
        if phase in counts:
            counts[phase] += 1
    return (f"{counts['Running']} Running / {counts['Pending']} Waiting / {counts['Succeeded']} Succeeded / "
            f"{counts['Failed']} Failed")


def describe_daemonset(daemon: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = daemon["metadata"], daemon.get("spec") or {}, daemon.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    w.write(0, f"Node-Selector:\t{format_labels(_get(spec, 'template', 'spec', 'nodeSelector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    for label, key in (("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
                       ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
                       ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
                       ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
                       ("Number of Nodes Misscheduled", "numberMisscheduled")):
        w.write(0, f"{label}: {int(status.get(key) or 0)}\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, daemon)}\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, find_events(client, daemon), now)
    return w.text()


def describe_statefulset(stateful: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec, status = stateful["metadata"], stateful.get("spec") or {}, stateful.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Replicas:\t{int(spec.get('replicas') or 0)} desired | {int(status.get('replicas') or 0)} total\n")
    strategy = spec.get("updateStrategy") or {}
    w.write(0, f"Update Strategy:\t{strategy.get('type', '')}\n")
    rolling = strategy.get("rollingUpdate") or {}
    if rolling.get("partition") is not None:
        w.write(1, f"Partition:\t{rolling['partition']}\n")
        if rolling.get("maxUnavailable") is not None:
            w.write(1, f"MaxUnavailable:\t{rolling['maxUnavailable']}\n")
    w.write(0, f"Pods Status:\t{_pods_status(client, stateful)}\n")
    describe_pod_template(w, spec.get("template"))
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        w.write(0, "Volume Claims:\t<none>\n")
    else:
        w.write(0, "Volume Claims:\n")
        for claim in claims:
            claim_spec = claim.get("spec") or {}
            w.write(1, f"Name:\t{_get(claim, 'metadata', 'name') or ''}\n")
            w.write(1, f"StorageClass:\t{claim_spec.get('storageClassName') or ''}\n")
            print_labels(w, "Labels", _get(claim, "metadata", "labels"), "  ")
            w.write(1, "Annotations:\t")
            annotations = _get(claim, "metadata", "annotations") or {}
            w.line(",".join(f"{k}={annotations[k]}" for k in sorted(annotations)) or "<none>")
            w.write(1, f"Capacity:\t{_get(claim_spec, 'resources', 'requests', 'storage') or '<default>'}\n")
            w.write(1, f"Access Modes:\t{_go_list(claim_spec.get('accessModes'))}\n")
    describe_events(w, find_events(client, stateful), now)
    return w.text()


def describe_job(job: dict, client: "Client", now: float) -> str:
    from engine.kubectl.duration import human_duration
    w = Writer()
    metadata, spec, status = job["metadata"], job.get("spec") or {}, job.get("status") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_label_selector(spec.get('selector'))}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    controlled = controller_text(job)
    if controlled:
        w.write(0, f"Controlled By:\t{controlled}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    w.write(0, f"Completions:\t{spec['completions'] if spec.get('completions') is not None else '<unset>'}\n")
    if spec.get("completionMode"):
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend"):
        w.write(0, "Suspend:\ttrue\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    if status.get("completionTime"):
        w.write(0, f"Completed At:\t{rfc1123z(status['completionTime'])}\n")
    if status.get("startTime") and status.get("completionTime"):
        elapsed = parse_timestamp(status["completionTime"]) - parse_timestamp(status["startTime"])
        w.write(0, f"Duration:\t{human_duration(elapsed)}\n")
    if spec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    active, succeeded, failed = (int(status.get(key) or 0) for key in ("active", "succeeded", "failed"))
    if status.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")
    else:
        w.write(0, f"Pods Statuses:\t{active} Active ({status['ready']} Ready) / {succeeded} Succeeded / "
                   f"{failed} Failed\n")
    describe_pod_template(w, spec.get("template"))
    describe_events(w, find_events(client, job), now)
    return w.text()


def describe_service(service: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata, spec = service["metadata"], service.get("spec") or {}
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{format_labels(spec.get('selector')) if spec.get('selector') else ''}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.write(0, f"IP:\t{spec['loadBalancerIP']}\n")
    ingress = _get(service, "status", "loadBalancer", "ingress") or []
    if ingress:
        w.write(0, f"LoadBalancer Ingress:\t{', '.join(i.get('ip') or i.get('hostname', '') for i in ingress)}\n")
    try:
        endpoints = client.get("endpoints", metadata["name"], metadata.get("namespace"))
    except errors.ApiError:
        endpoints = None
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{protocol}\n")
        w.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{protocol}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        text = "<none>"
        if endpoints is not None:
            filtered = {"subsets": [dict(subset, ports=[p for p in subset.get("ports") or []
                                                        if p.get("name", "") == port.get("name", "")])
                                    for subset in endpoints.get("subsets") or []]}
            filtered["subsets"] = [s for s in filtered["subsets"] if s["ports"]]
            text = format_endpoints(filtered)
        w.write(0, f"Endpoints:\t{text}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    if spec.get("healthCheckNodePort"):
        w.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    describe_events(w, find_events(client, service), now)
    return w.text()


def describe_namespace(namespace: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = namespace["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Status:\t{_get(namespace, 'status', 'phase') or 'Active'}\n")
    quotas = client.list("resourcequotas", metadata["name"])["items"]
    w.write(0, "\n")
    if not quotas:
        w.write(0, "No resource quota.\n")
    for quota in quotas:
        w.write(0, f"Resource Quotas\n  Name:\t{quota['metadata']['name']}\n  Resource\tUsed\tHard\n"
                   f"  --------\t---\t---\n")
        hard = _get(quota, "status", "hard") or _get(quota, "spec", "hard") or {}
        used = _get(quota, "status", "used") or {}
        for name in sorted(hard):
            w.write(1, f"{name}\t{used.get(name, '0')}\t{hard[name]}\n")
    ranges = client.list("limitranges", metadata["name"])["items"]
    w.write(0, "\n")
    if not ranges:
        w.write(0, "No LimitRange resource.\n")
    for limit_range in ranges:
        w.write(0, f"Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\t"
                   f"Max Limit/Request Ratio\n ----\t--------\t---\t---\t---------------\t-------------\t"
                   f"-----------------------\n")
        for item in _get(limit_range, "spec", "limits") or []:
            names = set()
            for key in ("min", "max", "default", "defaultRequest", "maxLimitRequestRatio"):
                names.update((item.get(key) or {}).keys())
            for name in sorted(names):
                cells = [str((item.get(key) or {}).get(name, "-"))
                         for key in ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio")]
                w.write(0, f" {item.get('type', '')}\t{name}\t" + "\t".join(cells) + "\n")
    return w.text()


def describe_configmap(configmap: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = configmap["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "\nData\n====\n")
    for key in sorted(configmap.get("data") or {}):
        w.write(0, f"{key}:\n----\n")
        w.write(0, f"{configmap['data'][key]}\n")
    w.write(0, "\nBinaryData\n====\n")
    for key in sorted(configmap.get("binaryData") or {}):
        import base64
        w.write(0, f"{key}: {len(base64.b64decode(configmap['binaryData'][key]))} bytes\n")
    w.write(0, "\n")
    describe_events(w, find_events(client, configmap), now)
    return w.text()


def describe_secret(secret: dict, client: "Client", now: float) -> str:
    import base64
    w = Writer()
    metadata = secret["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"\nType:\t{secret.get('type', 'Opaque')}\n")
    w.write(0, "\nData\n====\n")
    for key in sorted(secret.get("data") or {}):
        value = base64.b64decode(secret["data"][key])
        if key == "token" and secret.get("type") == "kubernetes.io/service-account-token":
            w.write(0, f"{key}:\t{value.decode(errors='replace')}\n")
        else:
            w.write(0, f"{key}:\t{len(value)} bytes\n")
    return w.text()


def describe_serviceaccount(account: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = account["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    for title, entries in (("Image pull secrets", account.get("imagePullSecrets")),
                           ("Mountable secrets", account.get("secrets"))):
        names = [entry.get("name", "") for entry in entries or []]
        w.write(0, f"{title}:\t{names[0] if names else '<none>'}\n")
        for name in names[1:]:
            w.write(0, f"\t{name}\n")
    w.write(0, "Tokens:\t<none>\n")
    describe_events(w, find_events(client, account), now)
    return w.text()


def _go_list(values: list[str] | None) -> str:
    return "[" + " ".join(values or []) + "]"


def _breakdown(rules: list[dict]) -> list[dict]:
    """``BreakdownRule`` then ``CompactRules``: one row per group/resource, verbs merged."""
    rows: dict[tuple, dict] = {}
    order: list[tuple] = []
    for rule in rules:
        verbs = list(rule.get("verbs") or [])
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    key = (group, resource, name)
                    if key not in rows:
                        rows[key] = {"apiGroups": [group], "resources": [resource],
                                     "resourceNames": [name] if name else [], "verbs": []}
                        order.append(key)
                    rows[key]["verbs"] += [verb for verb in verbs if verb not in rows[key]["verbs"]]
        for url in rule.get("nonResourceURLs") or []:
            key = ("", "", url)
            if key not in rows:
                rows[key] = {"nonResourceURLs": [url], "verbs": []}
                order.append(key)
            rows[key]["verbs"] += [verb for verb in verbs if verb not in rows[key]["verbs"]]
    return sorted((rows[key] for key in order), key=lambda r: (r.get("apiGroups", []), r.get("resources", []),
                                                               r.get("resourceNames", []),
                                                               r.get("nonResourceURLs", [])))


def _resource_group(rule: dict) -> str:
    """``CombineResourceGroup``: ``pods``, ``deployments.apps``, ``pods/log``."""
    resources = rule.get("resources") or []
    if not resources:
        return ""
    resource, _, sub = resources[0].partition("/")
    groups = rule.get("apiGroups") or []
    combined = resource + (f".{groups[0]}" if groups and groups[0] else "")
    return combined + (f"/{sub}" if sub else "")


def describe_role(role: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = role["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    w.write(0, "PolicyRule:\n")
    w.write(1, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n")
    w.write(1, "---------\t-----------------\t--------------\t-----\n")
    for rule in _breakdown(role.get("rules") or []):
        w.write(1, f"{_resource_group(rule)}\t{_go_list(rule.get('nonResourceURLs'))}\t"
                   f"{_go_list(rule.get('resourceNames'))}\t{_go_list(rule.get('verbs'))}\n")
    return w.text()


def describe_binding(binding: dict, client: "Client", now: float) -> str:
    w = Writer()
    metadata = binding["metadata"]
    w.write(0, f"Name:\t{metadata['name']}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    ref = binding.get("roleRef") or {}
    w.write(0, "Role:\n")
    w.write(1, f"Kind:\t{ref.get('kind', '')}\n")
    w.write(1, f"Name:\t{ref.get('name', '')}\n")
    w.write(0, "Subjects:\n")
    w.write(1, "Kind\tName\tNamespace\n")
    w.write(1, "----\t----\t---------\n")
    for subject in binding.get("subjects") or []:
        w.write(1, f"{subject.get('kind', '')}\t{subject.get('name', '')}\t{subject.get('namespace', '')}\n")
    return w.text()


_ACRONYMS = {"API", "URL", "UID", "OSB", "GUID"}


def smart_label(field: str) -> str:
    """``smartLabelFor``: ``apiVersion`` reads ``API Version``, ``creationTimestamp`` ``Creation Timestamp``."""
    if any(not (char.isalpha() or char == "-") for char in field):
        return field
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|-", field)
    words = []
    for part in parts:
        words.append(part.upper() if part.upper() in _ACRONYMS else part[:1].upper() + part[1:])
    return " ".join(words)


def _unstructured(w: Writer, level: int, content: dict, prefix: str, skip: set[str]) -> None:
    for field in sorted(content):
        value = content[field]
        expression = f"{prefix}.{field}"
        if expression in skip:
            continue
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            _unstructured(w, level + 1, value, expression, skip)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _unstructured(w, level + 1, child, expression, skip)
                else:
                    w.write(level + 1, f"{_go(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{_go(value)}\n")


def _go(value: Any) -> str:
    if isinstance(value, bool):
        return go_bool(value)
    if value is None:
        return "<nil>"
    return str(value)


def describe_generic(obj: dict, client: "Client", now: float) -> str:
    """The generic describer: every field of the object, with events when there are any."""
    w = Writer()
    metadata = obj.get("metadata") or {}
    w.write(0, f"Name:\t{metadata.get('name', '')}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    print_labels(w, "Labels", metadata.get("labels"))
    print_annotations(w, "Annotations", metadata.get("annotations"))
    _unstructured(w, 0, obj, "", {".metadata.name", ".metadata.namespace", ".metadata.labels",
                                  ".metadata.annotations"})
    describe_events(w, find_events(client, obj), now)
    return w.text()


DESCRIBERS: dict[str, Describer] = {
    "Pod": describe_pod, "Node": describe_node, "Deployment": describe_deployment,
    "ReplicaSet": describe_replicaset, "Service": describe_service, "Namespace": describe_namespace,
    "ConfigMap": describe_configmap, "Secret": describe_secret, "ServiceAccount": describe_serviceaccount,
    "DaemonSet": describe_daemonset, "StatefulSet": describe_statefulset, "Job": describe_job,
    "Role": describe_role, "ClusterRole": describe_role, "RoleBinding": describe_binding,
    "ClusterRoleBinding": describe_binding,
}


def describe_object(kind: Kind, obj: dict, client: "Client", now: float) -> str:
    """The describe text of one object (ends with a newline)."""
    return DESCRIBERS.get(kind.kind, describe_generic)(obj, client, now)


def run_describe(invocation: "Invocation") -> str:
    """``kubectl describe``: several objects are separated by a blank line, as kubectl does."""
    from engine.kubectl.cli import KubectlError, fetch, resolve_targets
    if not invocation.args:
        raise KubectlError("You must specify the type of resource to describe. Use \"kubectl api-resources\" for "
                           "a complete list of supported resources.")
    texts: list[str] = []
    problems: list[str] = []
    for kind, names in resolve_targets(invocation.args):
        if names:
            # describe matches names by prefix when no exact object exists, as kubectl does.
            objects, missing = fetch(invocation, kind, names)
            if missing:
                listed, _ = fetch(invocation, kind, [])
                for name, problem in zip([n for n in names if n not in {o['metadata']['name'] for o in objects}],
                                         missing):
                    matches = [o for o in listed if o["metadata"]["name"].startswith(name)]
                    if matches:
                        objects.extend(matches)
                    else:
                        problems.append(problem)
        else:
            objects, _ = fetch(invocation, kind, [])
        for obj in objects:
            texts.append(describe_object(kind, obj, invocation.client, invocation.now))
    if not texts and not problems:
        if invocation.all_namespaces:
            return "No resources found"
        return f"No resources found in {invocation.namespace} namespace."
    return "\n\n".join(texts) + "".join(problem + "\n" for problem in problems)
