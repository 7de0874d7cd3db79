"""ResourceQuota admission: refuse a create that would take a namespace over its quota.

For each ResourceQuota in the namespace, the plugin works out what the new
object would add to each resource the quota limits (``pods``,
``requests.cpu``, ``limits.memory``, ``services.nodeports``,
``count/deployments.apps``, ...), adds what is already used, and refuses
with the real message when a ``hard`` limit would be passed:

    exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1500m, limited: requests.cpu=2

A quota on cpu or memory also makes every container say how much it wants
(``must specify limits.memory for: nginx``). Usage is counted from the API
server's caches of the namespace's objects, exactly; the ResourceQuota
controller keeps ``status.used`` up to date for people to read.
"""

from __future__ import annotations

from typing import Callable

from engine.api import errors
from engine.api.quantity import Quantity, parse_quantity
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

_ZERO = parse_quantity("0")
_COMPUTE = {"cpu": "requests.cpu", "memory": "requests.memory", "requests.cpu": "requests.cpu",
            "requests.memory": "requests.memory", "limits.cpu": "limits.cpu", "limits.memory": "limits.memory",
            "requests.ephemeral-storage": "requests.ephemeral-storage",
            "ephemeral-storage": "requests.ephemeral-storage",
            "limits.ephemeral-storage": "limits.ephemeral-storage"}
_OBJECT_COUNTS = {"pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
                  "persistentvolumeclaims": "PersistentVolumeClaim", "resourcequotas": "ResourceQuota",
                  "replicationcontrollers": "ReplicationController"}


def _terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _pod_usage(pod: dict) -> dict[str, Quantity]:
    from engine.api.resources import pod_limits, pod_requests
    usage: dict[str, Quantity] = {"pods": parse_quantity(1), "count/pods": parse_quantity(1)}
    for name, value in pod_requests(pod).items():
        usage[f"requests.{name}"] = value
    for name, value in pod_limits(pod).items():
        usage[f"limits.{name}"] = value
    return usage


def _service_usage(service: dict) -> dict[str, Quantity]:
    spec = service.get("spec") or {}
    usage = {"services": parse_quantity(1), "count/services": parse_quantity(1)}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        usage["services.nodeports"] = parse_quantity(len(spec.get("ports") or []))
    if spec.get("type") == "LoadBalancer":
        usage["services.loadbalancers"] = parse_quantity(1)
    return usage


def _pvc_usage(claim: dict) -> dict[str, Quantity]:
    storage = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", "0")
    return {"persistentvolumeclaims": parse_quantity(1), "count/persistentvolumeclaims": parse_quantity(1),
            "requests.storage": parse_quantity(storage)}


def usage_of(kind_name: str, plural: str, group: str, obj: dict) -> dict[str, Quantity]:
    """What one object counts against a quota, by quota resource name."""
    if kind_name == "Pod":
        return {} if _terminal(obj) else _pod_usage(obj)
    if kind_name == "Service":
        return _service_usage(obj)
    if kind_name == "PersistentVolumeClaim":
        return _pvc_usage(obj)
    count_name = f"count/{plural}.{group}" if group else f"count/{plural}"
    usage = {count_name: parse_quantity(1)}
    if plural in _OBJECT_COUNTS:
        usage[plural] = parse_quantity(1)
    return usage


def _normalise(name: str) -> str:
    return _COMPUTE.get(name, name)


def _matches_scopes(quota: dict, pod: dict) -> bool:
    from engine.api.qos import qos_class
    scopes = list((quota.get("spec") or {}).get("scopes") or [])
    checks: dict[str, Callable[[dict], bool]] = {
        "BestEffort": lambda p: qos_class(p) == "BestEffort",
        "NotBestEffort": lambda p: qos_class(p) != "BestEffort",
        "Terminating": lambda p: (p.get("spec") or {}).get("activeDeadlineSeconds") is not None,
        "NotTerminating": lambda p: (p.get("spec") or {}).get("activeDeadlineSeconds") is None,
    }
    return all(checks[scope](pod) for scope in scopes if scope in checks)


class ResourceQuota(Plugin):
    name = "ResourceQuota"

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.operation != "CREATE" or attrs.subresource or not attrs.kind.namespaced:
            return
        quotas = context.cached_list("resourcequotas", attrs.namespace)
        if not quotas:
            return
        kind = attrs.kind
        delta = usage_of(kind.kind, kind.plural, kind.group, attrs.object)
        if not delta:
            return
        existing = None
        for quota in quotas:
            hard = {_normalise(name): parse_quantity(value)
                    for name, value in ((quota.get("spec") or {}).get("hard") or {}).items()}
            if kind.kind == "Pod" and not _matches_scopes(quota, attrs.object):
                continue
            if kind.kind == "Pod":
                self._require_specified(attrs, quota, hard)
            limited = sorted(name for name in hard if name in delta)
            if not limited:
                continue
            if existing is None:
                existing = self._used(context, attrs)
            used = {name: existing.get(name, _ZERO) for name in limited}
            exceeded = [name for name in limited if used[name] + delta[name] > hard[name]]
            if exceeded:
                def listing(values: dict[str, Quantity]) -> str:
                    return ",".join(f"{name}={values[name]}" for name in exceeded)
                raise errors.forbidden(kind.plural, attrs.name,
                                       f"exceeded quota: {quota['metadata']['name']}, requested: {listing(delta)}, "
                                       f"used: {listing(used)}, limited: {listing(hard)}", kind.group)

    @staticmethod
    def _used(context: AdmissionContext, attrs: Attributes) -> dict[str, Quantity]:
        kind = attrs.kind
        total: dict[str, Quantity] = {}
        for obj in context.cached_list(kind.plural, attrs.namespace):
            for name, value in usage_of(kind.kind, kind.plural, kind.group, obj).items():
                total[name] = total[name] + value if name in total else value
        return total

    @staticmethod
    def _require_specified(attrs: Attributes, quota: dict, hard: dict[str, Quantity]) -> None:
        spec = attrs.object.get("spec") or {}
        missing: list[str] = []
        for name in sorted(hard):
            if name not in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
                continue
            section, resource_name = name.split(".")
            lacking = [c["name"] for c in [*spec.get("initContainers", []), *spec.get("containers", [])]
                       if resource_name not in ((c.get("resources") or {}).get(section) or {})]
            if lacking:
                missing.append(f"{name} for: {','.join(lacking)}")
        if missing:
            raise errors.forbidden("pods", attrs.name,
                                   f"failed quota: {quota['metadata']['name']}: must specify {'; '.join(missing)}")
