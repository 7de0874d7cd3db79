"""A container's environment and its expanded command line (``makeEnvironmentVariables`` in kubelet_pods.go).

What the kubelet hands the runtime as a container's variables, in the real order:

1. ``envFrom``: every key of each ConfigMap / Secret named (``prefix`` prepended;
   keys that are not valid variable names are skipped with an
   ``InvalidEnvironmentVariableNames`` event; ``optional: true`` tolerates a
   missing object); a later source overrides an earlier one.
2. ``env`` in order: a ``value`` has its ``$(VAR)`` references expanded against
   the variables defined so far, then the Service variables; ``valueFrom`` reads
   a ``fieldRef`` (the downward API), a ``resourceFieldRef`` (requests / limits,
   divided by ``divisor`` and rounded up; an unset limit is the node's
   allocatable), a ``configMapKeyRef`` or a ``secretKeyRef``.
3. The Service variables (``engine.kubelet.envvars``) the container did not set.

Then ``command`` and ``args`` are expanded with the result
(``ExpandContainerCommandAndArgs``): ``$(VAR)`` becomes the variable's value,
``$$(VAR)`` stays ``$(VAR)`` literally, and an unknown ``$(VAR)`` is left as
written. A missing ConfigMap, Secret or key that is not optional fails the
container with ``CreateContainerConfigError`` and the real message
(``configmap "special-config" not found``, ``couldn't find key k in ConfigMap
default/special-config``).

What it never does: talk to the API server itself (the kubelet passes a
``get_object(resource, namespace, name)`` that reads through its client).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.api import errors
from engine.api.quantity import parse_quantity

ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
"""validation.IsEnvVarName: what a key from envFrom must look like to become a variable."""


class EnvError(Exception):
    """A variable that cannot be built: the container waits with CreateContainerConfigError."""


# -- $(VAR) expansion (third_party/forked/golang/expansion) --------------------------------

def expand(text: str, *contexts: Mapping[str, str]) -> str:
    """Expand ``$(VAR)`` from the first context that has it; ``$$`` escapes; unknown references stay."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1:]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                end = rest.find(")", 1)
                if end == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = rest[1:end]
                    out.append(next((c[name] for c in contexts if name in c), f"$({name})"))
                    advance = end + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def expand_command_and_args(container: dict, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """ExpandContainerCommandAndArgs: the container's command and args with its variables substituted."""
    return ([expand(str(word), env) for word in container.get("command") or []],
            [expand(str(word), env) for word in container.get("args") or []])


# -- the downward API -----------------------------------------------------------------------

def pod_field(pod: dict, path: str, *, pod_ip: str = "", host_ip: str = "") -> str:
    """podFieldSelectorRuntimeValue / ExtractFieldPathAsString: a ``fieldRef``'s value."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "spec.serviceAccountName": spec.get("serviceAccountName", ""),
              "status.podIP": pod_ip, "status.podIPs": pod_ip, "status.hostIP": host_ip, "status.hostIPs": host_ip}
    if path in simple:
        return simple[path]
    if path in ("metadata.labels", "metadata.annotations"):
        values = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{key}="{value}"' for key, value in sorted(values.items()))
    for field in ("labels", "annotations"):
        prefix = f"metadata.{field}['"
        if path.startswith(prefix) and path.endswith("']"):
            return (meta.get(field) or {}).get(path[len(prefix):-2], "")
    raise EnvError(f"unsupported fieldPath: {path}")


def resource_field(container: dict | None, resource: str, divisor: Any = None,
                   allocatable: Mapping[str, Any] | None = None) -> str:
    """ExtractContainerResourceValue: ``limits.cpu`` etc. over ``divisor``, rounded up.

    A limit the container does not set is the node's allocatable (MergeContainerResourceLimits); an unset
    request is 0.
    """
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise EnvError(f"unsupported container resource: {resource}")
    value = (((container or {}).get("resources") or {}).get(kind) or {}).get(name)
    if value is None and kind == "limits":
        value = (allocatable or {}).get(name)
    amount = parse_quantity(value if value is not None else "0").fraction
    over = parse_quantity(divisor if divisor not in (None, "", 0) else "1").fraction
    if over == 0:
        over = 1
    return str(math.ceil(amount / over))


# -- makeEnvironmentVariables ---------------------------------------------------------------

GetObject = Callable[[str, str, str], dict]
"""``get_object(resource, namespace, name)``: the kubelet's configMap / secret manager (raises NotFound)."""


def _object_data(get_object: GetObject, kind: str, namespace: str, name: str, optional: bool) -> dict[str, str] | None:
    resource = "configmaps" if kind == "configmap" else "secrets"
    try:
        obj = get_object(resource, namespace, name)
    except errors.NotFound:
        if optional:
            return None
        raise EnvError(f'{kind} "{name}" not found') from None
    if kind == "secret":
        return {key: base64.b64decode(value).decode("utf-8", "replace")
                for key, value in (obj.get("data") or {}).items()}
    return dict(obj.get("data") or {})


def make_environment_variables(pod: dict, container: dict, *, pod_ip: str, host_ip: str,
                               service_env: Mapping[str, str] | None, get_object: GetObject | None,
                               allocatable: Mapping[str, Any] | None = None,
                               warn: Callable[[str, str], None] | None = None) -> dict[str, str]:
    """The container's variables, in the order the kubelet builds them (see the module docstring).

    ``warn(reason, message)`` records a Warning event on the pod.
    """
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    services = dict(service_env or {})
    env: dict[str, str] = {}

    def lookup(kind: str, name: str, optional: bool) -> dict[str, str] | None:
        if get_object is None:
            raise EnvError(f"couldn't get {kind} {namespace}/{name}, no kubeClient defined")
        return _object_data(get_object, kind, namespace, name, optional)

    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = source.get(key)
            if not ref:
                continue
            data = lookup(kind, ref.get("name", ""), bool(ref.get("optional")))
            if data is None:
                continue
            invalid = []
            for name, value in data.items():
                variable = prefix + name
                if not ENV_VAR_NAME.match(variable):
                    invalid.append(variable)
                    continue
                env[variable] = value
            if invalid and warn is not None:
                label = "configMap" if kind == "configmap" else "secret"
                warn("InvalidEnvironmentVariableNames",
                     f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom {label} {namespace}/{ref.get('name', '')} "
                     "were skipped since they are considered invalid environment variable names.")

    for item in container.get("env") or []:
        name = item["name"]
        source = item.get("valueFrom")
        if not source:
            env[name] = expand(str(item.get("value", "")), env, services)
            continue
        if "fieldRef" in source:
            env[name] = pod_field(pod, source["fieldRef"]["fieldPath"], pod_ip=pod_ip, host_ip=host_ip)
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            target = container
            if ref.get("containerName"):
                target = next((c for c in (pod.get("spec") or {}).get("containers") or []
                               if c["name"] == ref["containerName"]), None)
            env[name] = resource_field(target, ref["resource"], ref.get("divisor"), allocatable)
        else:
            kind, key = ("configmap", "configMapKeyRef") if "configMapKeyRef" in source else ("secret", "secretKeyRef")
            ref = source[key]
            optional = bool(ref.get("optional"))
            data = lookup(kind, ref.get("name", ""), optional)
            if data is None:
                continue
            if ref.get("key") not in data:
                if optional:
                    continue
                label = "ConfigMap" if kind == "configmap" else "Secret"
                raise EnvError(f"couldn't find key {ref.get('key')} in {label} {namespace}/{ref.get('name', '')}")
            env[name] = data[ref["key"]]
    return {**{k: v for k, v in services.items() if k not in env}, **env}
