"""kubectl's read-only helpers: top, version, api-resources, cluster-info, auth can-i, explain.

Interface: one function per command, ``command(invocation) -> str``.

- ``logs`` lives in ``engine.kubectl.logs``.
- ``top``: node and pod usage from the ``metrics.k8s.io`` API, with kubectl's
  columns; ``error: Metrics API not available`` while no such API is registered.
- ``auth can-i``: asks the API server's RBAC authorizer, for the admin or ``--as`` someone.
"""

from __future__ import annotations

from engine.kubectl.discovery import served_kinds
from engine.api.quantity import parse_quantity
from engine.apiserver.rbac import Attributes
from engine.apiserver.server import Request
from engine.kubectl.cli import Invocation, KubectlError
from engine.kubectl.tabwriter import format_tabbed

CLIENT_VERSION = "v1.31.0"
KUSTOMIZE_VERSION = "v5.4.2"
SERVER_VERSION = "v1.31.0"
CONTROL_PLANE_URL = "https://127.0.0.1:6443"


# -- top ----------------------------------------------------------------------

METRICS_GROUP = "metrics.k8s.io"


def _metrics(invocation: Invocation, resource: str, namespace: str | None) -> list[dict]:
    """NodeMetrics or PodMetrics from the metrics API (served once metrics-server is registered)."""
    if served_kinds().by_resource(METRICS_GROUP, resource) is None:
        raise KubectlError("Metrics API not available")
    params = {"labelSelector": invocation.flags["selector"]} if invocation.flags.get("selector") else {}
    listing = invocation.client.server.handle(Request("list", resource, namespace=namespace, group=METRICS_GROUP,
                                                      params=params, token=invocation.client.token))
    return listing["items"]


def _cpu(value: object) -> str:
    return f"{parse_quantity(value).scaled_value(-3)}m"


def _memory(value: object) -> str:
    return f"{parse_quantity(value).value() // (1024 * 1024)}Mi"


def top(invocation: Invocation) -> str:
    """``kubectl top nodes|pods``: usage from the metrics API, as ``kubectl top`` prints it."""
    words = invocation.verb.split()[1:] + invocation.args
    if not words or words[0] not in ("node", "nodes", "no", "pod", "pods", "po"):
        raise KubectlError("you must specify a resource: node or pod")
    names = words[1:]
    if words[0].startswith("no"):
        return _top_nodes(invocation, names)
    return _top_pods(invocation, names)


def _top_nodes(invocation: Invocation, names: list[str]) -> str:
    metrics = {item["metadata"]["name"]: item for item in _metrics(invocation, "nodes", None)}
    nodes = invocation.client.list("nodes", label_selector=invocation.flags.get("selector"))["items"]
    nodes = [node for node in nodes if not names or node["metadata"]["name"] in names]
    if not metrics:
        raise KubectlError("metrics not available yet")
    lines = ["NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\n"]
    missing = []
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        if name not in metrics:
            missing.append(name)
            continue
        usage = metrics[name].get("usage") or {}
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        cpu, memory = parse_quantity(usage.get("cpu", 0)), parse_quantity(usage.get("memory", 0))
        cpu_total = parse_quantity(allocatable.get("cpu", 0)).scaled_value(-3)
        memory_total = parse_quantity(allocatable.get("memory", 0)).value()
        cpu_percent = int(cpu.scaled_value(-3) / cpu_total * 100) if cpu_total else 0
        memory_percent = int(memory.value() / memory_total * 100) if memory_total else 0
        lines.append(f"{name}\t{_cpu(cpu)}\t{cpu_percent}%\t{_memory(memory)}\t{memory_percent}%\n")
    for name in missing:
        lines.append(f"{name}\t<unknown>\t<unknown>\t<unknown>\t<unknown>\n")
    return format_tabbed("".join(lines))


def _top_pods(invocation: Invocation, names: list[str]) -> str:
    namespace = None if invocation.all_namespaces else invocation.namespace
    items = [item for item in _metrics(invocation, "pods", namespace)
             if not names or item["metadata"]["name"] in names]
    if not items:
        if names:
            raise KubectlError("metrics not available yet")
        return f"No resources found in {invocation.namespace} namespace." if namespace else "No resources found"
    header = ["NAMESPACE"] if invocation.all_namespaces else []
    header += ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    lines = ["\t".join(header) + "\n"]
    for item in sorted(items, key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"])):
        cpu, memory = parse_quantity(0), parse_quantity(0)
        for container in item.get("containers") or []:
            usage = container.get("usage") or {}
            cpu = cpu + parse_quantity(usage.get("cpu", 0))
            memory = memory + parse_quantity(usage.get("memory", 0))
        row = [item["metadata"].get("namespace", "")] if invocation.all_namespaces else []
        row += [item["metadata"]["name"], _cpu(cpu), _memory(memory)]
        lines.append("\t".join(row) + "\n")
    return format_tabbed("".join(lines))


# -- version, api-resources, cluster-info -------------------------------------

def version(invocation: Invocation) -> str:
    """``kubectl version``."""
    if invocation.flag_bool("client"):
        return f"Client Version: {CLIENT_VERSION}\nKustomize Version: {KUSTOMIZE_VERSION}"
    return (f"Client Version: {CLIENT_VERSION}\nKustomize Version: {KUSTOMIZE_VERSION}\n"
            f"Server Version: {SERVER_VERSION}")


def api_resources(invocation: Invocation) -> str:
    """``kubectl api-resources``: the registry as discovery lists it, sorted by API group."""
    kinds = sorted(served_kinds(), key=lambda kind: (kind.group, kind.plural))
    namespaced = invocation.flags.get("namespaced")
    if namespaced is not None:
        wanted = invocation.flag_bool("namespaced")
        kinds = [kind for kind in kinds if kind.namespaced == wanted]
    if invocation.flags.get("output") == "name":
        return "\n".join(kind.group_resource for kind in kinds)
    lines = ["NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n"]
    for kind in kinds:
        lines.append(f"{kind.plural}\t{','.join(kind.short_names)}\t{kind.api_version}\t"
                     f"{'true' if kind.namespaced else 'false'}\t{kind.kind}\n")
    return format_tabbed("".join(lines))


def cluster_info(invocation: Invocation) -> str:
    """``kubectl cluster-info``: the control plane, and each ``kubernetes.io/cluster-service`` Service."""
    lines = [f"Kubernetes control plane is running at {CONTROL_PLANE_URL}"]
    services = invocation.client.list("services", "kube-system",
                                      label_selector="kubernetes.io/cluster-service=true")["items"]
    for service in services:
        labels = service["metadata"].get("labels") or {}
        name = labels.get("kubernetes.io/name") or service["metadata"]["name"]
        ports = (service.get("spec") or {}).get("ports") or []
        port = ports[0].get("name") or str(ports[0].get("port")) if ports else ""
        link = f"{CONTROL_PLANE_URL}/api/v1/namespaces/kube-system/services/{service['metadata']['name']}"
        link += f":{port}/proxy" if port else "/proxy"
        lines.append(f"{name} is running at {link}")
    lines.append("")
    lines.append("To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")
    return "\n".join(lines)


# -- auth can-i ---------------------------------------------------------------

def auth_can_i(invocation: Invocation) -> str:
    """``kubectl auth can-i VERB RESOURCE[/SUBRESOURCE] [NAME] [--as USER]``: yes or no."""
    if len(invocation.args) < 2:
        raise KubectlError("you must specify two arguments: verb resource or verb resource/resourceName.")
    verb, resource = invocation.args[0], invocation.args[1]
    name = invocation.args[2] if len(invocation.args) > 2 else ""
    subresource = ""
    if "/" in resource:
        resource, _, rest = resource.partition("/")
        if served_kinds().find(resource) is not None and rest in served_kinds().lookup(resource).subresources:
            subresource = rest
        else:
            name = rest
    group = ""
    plural = resource
    kind = served_kinds().find(resource)
    prefix = ""
    if kind is not None:
        group, plural = kind.group, kind.plural
        namespace = "" if not kind.namespaced or invocation.all_namespaces else invocation.namespace
    else:
        prefix = f"Warning: the server doesn't have a resource type '{resource}'\n\n"
        namespace = "" if invocation.all_namespaces else invocation.namespace
    user = invocation.impersonated
    if user is None:
        return prefix + "yes"
    attrs = Attributes(user=user, verb=verb, namespace=namespace, api_group=group, resource=plural,
                       subresource=subresource, name=name)
    if "system:masters" in user.groups:
        return prefix + "yes"
    decision = invocation.cluster.apiserver.authorizer.authorize(attrs)
    return prefix + ("yes" if decision.allowed else "no")


def explain(invocation: Invocation) -> str:
    """``kubectl explain KIND[.field]``: see ``engine.kubectl.explain``."""
    from engine.kubectl.explain import explain_text
    if not invocation.args:
        raise KubectlError("You must specify the type of resource to explain. Use \"kubectl api-resources\" for "
                           "a complete list of supported resources.")
    return explain_text(invocation.args[0])
