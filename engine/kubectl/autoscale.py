"""``kubectl autoscale``: a HorizontalPodAutoscaler for a Deployment, ReplicaSet, StatefulSet or ReplicationController.

Interface: ``autoscale(invocation) -> str``. As kubectl 1.32 (``pkg/cmd/autoscale``): ``TYPE NAME``,
``TYPE/NAME`` or ``-f FILE`` names the targets (each is read first, so a missing one is the server's
NotFound, and one without a ``scale`` subresource is "cannot autoscale a Pod: ..."); ``--max`` is required
(at least 1, not below ``--min``); ``--min`` and ``--cpu-percent`` are left out unless given (-1, their
default, means "let the server default": minReplicas 1, and the 80 % cpu target). The object built is kubectl
1.32's ``autoscaling/v1`` HorizontalPodAutoscaler (``targetCPUUtilizationPercentage``), named after the
target unless ``--name``; it is created with field manager ``kubectl-autoscale`` through the conversion the
API server applies to an ``autoscaling/v1`` request (stored as ``autoscaling/v2``: a cpu Utilization metric),
and kubectl prints ``horizontalpodautoscaler.autoscaling/NAME autoscaled``. ``--dry-run=client|server`` and
``-o yaml|json|name`` print as kubectl does (``-o`` shows the v1 object).
"""

from __future__ import annotations

from engine.api.conversion import hpa_v1_to_v2, hpa_v2_to_v1
from engine.kubectl.cli import Invocation, KubectlError, resolve_kind, scope_of
from engine.kubectl.discovery import served_kinds
from engine.kubectl.verbs import display, objects_from_files

HPA_V1 = "autoscaling/v1"


def _targets(invocation: Invocation) -> list[tuple[str, str, str | None]]:
    """(plural, name, namespace) of each object to autoscale."""
    if invocation.filenames():
        found = []
        for obj in objects_from_files(invocation):
            kind = served_kinds().for_object(obj)
            found.append((kind.plural, obj["metadata"]["name"],
                          obj["metadata"].get("namespace") or scope_of(invocation, kind)))
        return found
    args = invocation.args
    if not args:
        raise KubectlError("You must provide one or more resources by argument or filename.\n"
                           "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                           "   '<resource> <name>'\n   '<resource>'")
    if "/" in args[0]:
        pairs = []
        for word in args:
            type_name, _, name = word.partition("/")
            pairs.append((type_name, name))
    else:
        if len(args) < 2:
            raise KubectlError("resource(s) were provided, but no name was specified")
        pairs = [(args[0], name) for name in args[1:]]
    found = []
    for type_name, name in pairs:
        kind = resolve_kind(type_name)
        found.append((kind.plural, name, scope_of(invocation, kind)))
    return found


def _int_flag(invocation: Invocation, name: str) -> int:
    value = invocation.flag_int(name)
    return -1 if value is None else value


def hpa_for(target: dict, max_replicas: int, min_replicas: int = -1, cpu_percent: int = -1,
            name: str | None = None) -> dict:
    """createHorizontalPodAutoscaler: the autoscaling/v1 object kubectl 1.32 sends for ``target``."""
    spec: dict = {"scaleTargetRef": {"kind": target["kind"], "name": target["metadata"]["name"],
                                     "apiVersion": target["apiVersion"]}}
    if min_replicas > 0:
        spec["minReplicas"] = min_replicas
    spec["maxReplicas"] = max_replicas
    if cpu_percent >= 0:
        spec["targetCPUUtilizationPercentage"] = cpu_percent
    return {"kind": "HorizontalPodAutoscaler", "apiVersion": HPA_V1,
            "metadata": {"name": name or target["metadata"]["name"], "creationTimestamp": None}, "spec": spec,
            "status": {"currentReplicas": 0, "desiredReplicas": 0}}


def autoscale(invocation: Invocation) -> str:
    """``kubectl autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10``."""
    if invocation.flags.get("max") is None:
        raise KubectlError('required flag(s) "max" not set')
    max_replicas, min_replicas = _int_flag(invocation, "max"), _int_flag(invocation, "min")
    cpu_percent = _int_flag(invocation, "cpu-percent")
    if max_replicas < 1:
        raise KubectlError(f"--max=MAXPODS is required and must be at least 1, max: {max_replicas}")
    if max_replicas < min_replicas:
        raise KubectlError(f"--max=MAXPODS must be larger or equal to --min=MINPODS, max: {max_replicas}, "
                           f"min: {min_replicas}")
    dry_run = str(invocation.flags.get("dry-run") or "none").lower()
    output = invocation.flags.get("output")
    lines = []
    for plural, name, namespace in _targets(invocation):
        kind = served_kinds().lookup(plural)
        target = invocation.client.get(plural, name, namespace)
        if "scale" not in kind.subresources:
            gvr = f"{kind.group}/{kind.version}, Resource={kind.plural}"
            raise KubectlError(f"cannot autoscale a {kind.kind}: could not find scale subresource for {gvr} in "
                               f"discovery information")
        hpa = hpa_for(target, max_replicas, min_replicas, cpu_percent, invocation.flags.get("name"))
        if dry_run in ("client", "true"):
            lines.append(_shown(hpa, output, "created (dry run)"))
            continue
        stored = hpa_v1_to_v2(hpa)
        stored["metadata"].pop("creationTimestamp", None)
        stored["metadata"]["namespace"] = namespace
        created = invocation.client.create(stored, dry_run=dry_run == "server")
        lines.append(_shown(hpa_v2_to_v1(created), output,
                            "autoscaled (server dry run)" if dry_run == "server" else "autoscaled"))
    if not lines:
        raise KubectlError("no objects passed to autoscale")
    return "\n".join(lines)


def _shown(hpa: dict, output: str | None, operation: str) -> str:
    from engine.kubectl import output as printers
    if output == "yaml":
        return printers.to_yaml(hpa).rstrip("\n")
    if output == "json":
        return printers.to_json(hpa).rstrip("\n")
    kind = served_kinds().lookup("horizontalpodautoscalers")
    if output == "name":
        return display(kind, hpa["metadata"]["name"], "").rstrip()
    return display(kind, hpa["metadata"]["name"], operation)
