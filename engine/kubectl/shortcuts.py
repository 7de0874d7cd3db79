"""kubectl's shortcut verbs: ``set image``, ``expose`` and ``taint``.

Interface: ``set_image(invocation)``, ``expose(invocation)``, ``taint(invocation)``,
each returning kubectl's one-line messages (``deployment.apps/web image updated``,
``service/web exposed``, ``node/node-1 tainted``).

Each is a small client-side computation ending in one ordinary write, as in
kubectl: ``set image`` patches the pod template's containers by name,
``expose`` builds a Service whose selector is the workload's pod selector,
``taint`` rewrites ``spec.taints`` of each node.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.api.errors import ApiError
from engine.client.client import STRATEGIC_MERGE_PATCH
from engine.kubectl.cli import Invocation, KubectlError, resolve_kind, scope_of
from engine.kubectl.printers import resource_prefix

_TEMPLATE_PATHS = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}


def _split_target(args: list[str]) -> tuple[str, str, list[str]]:
    if not args:
        raise KubectlError("you must provide one or more resources by argument or filename")
    if "/" in args[0]:
        type_name, _, name = args[0].partition("/")
        return type_name, name, args[1:]
    if len(args) < 2:
        raise KubectlError("resource(s) were provided, but no name was specified")
    return args[0], args[1], args[2:]


def _nest(path: tuple[str, ...], leaf: dict) -> dict:
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


def set_image(invocation: Invocation) -> str:
    """``kubectl set image deployment/web nginx=nginx:1.26`` (``*=IMAGE`` sets every container)."""
    type_name, name, pairs = _split_target(invocation.args)
    kind = resolve_kind(type_name)
    if not pairs:
        raise KubectlError("at least one image update is required")
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(kind.plural, name, namespace)
    path = _TEMPLATE_PATHS.get(kind.kind, ("spec", "template", "spec"))
    spec: Any = obj
    for key in path:
        spec = (spec or {}).get(key) or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    updates: dict[str, str] = {}
    for pair in pairs:
        container, sep, image = pair.partition("=")
        if not sep or not image:
            raise KubectlError(f"invalid image update {pair}, expected container=image")
        if container == "*":
            updates.update({c["name"]: image for c in containers})
        elif container not in {c["name"] for c in containers}:
            raise KubectlError(f'unable to find container named "{container}"')
        else:
            updates[container] = image
    patch_spec: dict[str, Any] = {}
    for field in ("initContainers", "containers"):
        changed = [{"name": c["name"], "image": updates[c["name"]]} for c in spec.get(field) or []
                   if c["name"] in updates and c.get("image") != updates[c["name"]]]
        if changed:
            patch_spec[field] = changed
    if patch_spec:
        invocation.client.patch(kind.plural, name, _nest(path, patch_spec), namespace,
                                patch_type=STRATEGIC_MERGE_PATCH)
    return f"{resource_prefix(kind)}/{name} image updated"


def _selector_of(kind_name: str, obj: dict) -> dict[str, str]:
    if kind_name == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    if kind_name == "Service":
        return dict((obj.get("spec") or {}).get("selector") or {})
    selector = (obj.get("spec") or {}).get("selector") or {}
    if selector.get("matchExpressions"):
        raise KubectlError("couldn't convert expressions - \"matchExpressions\" to map-based selector format")
    return dict(selector.get("matchLabels") or {})


def _ports_of(kind_name: str, obj: dict) -> list[dict]:
    spec = (obj.get("spec") or {})
    if kind_name != "Pod":
        spec = ((spec.get("template") or {}).get("spec") or {})
    return [port for container in spec.get("containers") or [] for port in container.get("ports") or []]


def expose(invocation: Invocation) -> str:
    """``kubectl expose deployment web --port=80 [--target-port=8080] [--type=NodePort] [--name=NAME]``."""
    type_name, name, _ = _split_target(invocation.args)
    kind = resolve_kind(type_name)
    if kind.kind not in ("Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        raise KubectlError(f"cannot expose a {kind.kind}")
    namespace = scope_of(invocation, kind)
    obj = invocation.client.get(kind.plural, name, namespace)
    selector = _selector_of(kind.kind, obj)
    if not selector:
        raise KubectlError(f"couldn't retrieve selectors via --selector flag or introspection: the {kind.kind} "
                           f"has no selector")
    port_text = invocation.flags.get("port")
    if port_text:
        container_ports = [{"containerPort": invocation.flag_int("port"), "protocol": invocation.flags.get("protocol", "TCP")}]
    else:
        container_ports = _ports_of(kind.kind, obj)
        if not container_ports:
            raise KubectlError("couldn't find port via --port flag or introspection")
    ports = []
    for index, port in enumerate(container_ports):
        entry: dict[str, Any] = {"port": int(port.get("containerPort") or port.get("port")),
                                 "protocol": port.get("protocol", "TCP")}
        if len(container_ports) > 1:
            entry["name"] = f"port-{index + 1}"
        target = invocation.flags.get("target-port")
        entry["targetPort"] = (int(target) if str(target).isdigit() else target) if target else entry["port"]
        ports.append(entry)
    service: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": invocation.flags.get("name") or name, "namespace": obj["metadata"].get("namespace"),
                     "labels": copy.deepcopy((obj.get("metadata") or {}).get("labels") or {})},
        "spec": {"ports": ports, "selector": selector},
    }
    if invocation.flags.get("type"):
        service["spec"]["type"] = invocation.flags["type"]
    created = invocation.client.create(service)
    return f"service/{created['metadata']['name']} exposed"


def _parse_taint(spec: str) -> tuple[dict[str, str], bool]:
    """``key=value:Effect`` (add) or ``key:Effect-`` / ``key-`` (remove)."""
    remove = spec.endswith("-")
    text = spec[:-1] if remove else spec
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    if not key or (not remove and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute")):
        raise KubectlError(f"unknown taint spec: {spec}")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint, remove


def taint(invocation: Invocation) -> str:
    """``kubectl taint nodes NODE key=value:NoSchedule`` and ``key:NoSchedule-`` to remove."""
    type_name, name, specs = _split_target(invocation.args)
    if resolve_kind(type_name).kind != "Node":
        raise KubectlError("taint only applies to nodes")
    if not specs:
        raise KubectlError("at least one taint update is required")
    node = invocation.client.get("nodes", name)
    taints = list((node.get("spec") or {}).get("taints") or [])
    removed = added = False
    for spec in specs:
        wanted, remove = _parse_taint(spec)
        if remove:
            kept = [t for t in taints if not (t.get("key") == wanted["key"]
                                              and (not wanted["effect"] or t.get("effect") == wanted["effect"]))]
            if len(kept) == len(taints):
                raise KubectlError(f'taint "{spec[:-1]}" not found')
            taints, removed = kept, True
            continue
        same = [t for t in taints if t.get("key") == wanted["key"] and t.get("effect") == wanted["effect"]]
        if same and not invocation.flag_bool("overwrite"):
            raise KubectlError(f"node {name} already has {wanted['key']} taint(s) with same effect(s) and "
                               f"--overwrite is false")
        taints = [t for t in taints if t not in same] + [wanted]
        added = True
    invocation.client.patch("nodes", name, {"spec": {"taints": taints or None}})
    return f"node/{name} {'modified' if added and removed else 'untainted' if removed else 'tainted'}"


def _drain_problems(pods: list[dict], invocation: Invocation) -> tuple[list[dict], list[str], list[str]]:
    """kubectl drain's filters: which pods go, the errors that stop it, the warnings it prints."""
    to_delete: list[dict] = []
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    for pod in pods:
        metadata, spec = pod["metadata"], pod.get("spec") or {}
        key = f"{metadata.get('namespace', '')}/{metadata['name']}"
        if "kubernetes.io/config.mirror" in (metadata.get("annotations") or {}):
            continue
        owner = next((ref for ref in metadata.get("ownerReferences") or [] if ref.get("controller")), None)
        phase = (pod.get("status") or {}).get("phase")
        if owner is not None and owner.get("kind") == "DaemonSet" and phase not in ("Succeeded", "Failed"):
            if invocation.flag_bool("ignore-daemonsets"):
                warnings.setdefault("ignoring DaemonSet-managed Pods", []).append(key)
            else:
                errors.setdefault("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
                                  []).append(key)
            continue
        if owner is None and phase not in ("Succeeded", "Failed"):
            if invocation.flag_bool("force"):
                warnings.setdefault("deleting Pods that declare no controller", []).append(key)
            else:
                errors.setdefault("cannot delete Pods that declare no controller (use --force to override)",
                                  []).append(key)
                continue
        if any("emptyDir" in volume for volume in spec.get("volumes") or []) and \
                not invocation.flag_bool("delete-emptydir-data"):
            errors.setdefault("cannot delete Pods with local storage (use --delete-emptydir-data to override)",
                              []).append(key)
            continue
        to_delete.append(pod)
    return (to_delete, [f"{text}: {', '.join(keys)}" for text, keys in errors.items()],
            [f"{text}: {', '.join(keys)}" for text, keys in warnings.items()])


def drain(invocation: Invocation) -> str:
    """``kubectl drain NODE [--ignore-daemonsets] [--force] [--delete-emptydir-data]``: cordon, then evict.

    Each pod is evicted through the Eviction API, so PodDisruptionBudgets decide
    (``--disable-eviction`` deletes instead). The real kubectl retries a refused
    eviction every 5 s until ``--timeout``; this one runs inside a notebook cell,
    where virtual time stands still, so it reports the refusal as kubectl does
    when its time is up: run the cluster on and drain again.
    """
    if not invocation.args:
        raise KubectlError("USAGE: drain NODE [flags]")
    name = invocation.args[0]
    node = invocation.client.get("nodes", name)
    lines = []
    if not (node.get("spec") or {}).get("unschedulable"):
        invocation.client.patch("nodes", name, {"spec": {"unschedulable": True}})
        lines.append(f"node/{name} cordoned")
    else:
        lines.append(f"node/{name} already cordoned")
    pods = invocation.client.list("pods", None, field_selector=f"spec.nodeName={name}")["items"]
    to_delete, problems, warnings = _drain_problems(pods, invocation)
    if problems:
        lines.append(f'error: unable to drain node "{name}" due to error: {", ".join(problems)}, '
                     f"continuing command...")
        lines.append("There are pending nodes to be drained:")
        lines.append(f" {name}")
        lines += [f"error: {problem}" for problem in problems]
        return "\n".join(lines)
    lines += [f"Warning: {warning}" for warning in warnings]
    grace = invocation.flag_int("grace-period")
    for pod in to_delete:
        lines.append(f"evicting pod {pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}")
    grace = grace if grace is not None and grace >= 0 else None
    refused = []
    for pod in to_delete:
        pod_name, namespace = pod["metadata"]["name"], pod["metadata"].get("namespace")
        if invocation.flag_bool("disable-eviction"):
            invocation.client.delete("pods", pod_name, namespace, grace_period_seconds=grace)
        else:
            try:
                invocation.client.evict(namespace, pod_name, grace_period_seconds=grace)
            except ApiError as error:
                if error.code != 429:
                    raise
                lines.append(f'error when evicting pods/"{pod_name}" -n "{namespace}" (will retry after 5s): '
                             f"{error.message}")
                refused.append(f'error when evicting pods/"{pod_name}" -n "{namespace}": {error.message}')
                continue
        lines.append(f"pod/{pod_name} evicted")
    if refused:
        lines.append(f'error: unable to drain node "{name}" due to error: {", ".join(refused)}, continuing command...')
        lines += ["There are pending nodes to be drained:", f" {name}", *(f"error: {text}" for text in refused)]
        return "\n".join(lines)
    lines.append(f"node/{name} drained")
    return "\n".join(lines)
