"""LimitRanger admission: defaults and bounds from the namespace's LimitRanges.

Mutating phase: a container that sets no cpu or memory request or limit
gets the ``defaultRequest`` and ``default`` of each ``type: Container`` item,
and the pod is annotated with what was set (``kubernetes.io/limit-ranger``).
Validating phase: every container, and for ``type: Pod`` the pod's sum,
must lie within ``min`` and ``max`` and respect ``maxLimitRequestRatio``;
PersistentVolumeClaims must ask for storage within ``min`` and ``max``.
Messages are the real plugin's (``maximum cpu usage per Container is 1, but
limit is 2``).
"""

from __future__ import annotations

from engine.api import errors
from engine.api.quantity import Quantity, parse_quantity
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

ANNOTATION = "kubernetes.io/limit-ranger"


def _items(context: AdmissionContext, namespace: str | None, type_: str) -> list[dict]:
    return [item for limit_range in context.cached_list("limitranges", namespace)
            for item in (limit_range.get("spec") or {}).get("limits") or [] if item.get("type") == type_]


def _quantities(values: dict | None) -> dict[str, Quantity]:
    return {name: parse_quantity(value) for name, value in (values or {}).items()}


class LimitRanger(Plugin):
    name = "LimitRanger"
    admits = frozenset({"Pod"})
    validates = frozenset({"Pod", "PersistentVolumeClaim"})

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "Pod" or attrs.operation != "CREATE" or attrs.subresource:
            return
        items = _items(context, attrs.namespace, "Container")
        if not items:
            return
        pod = attrs.object
        notes: list[str] = []
        for container in [*pod["spec"].get("initContainers", []), *pod["spec"].get("containers", [])]:
            resources = container.setdefault("resources", {})
            for item in items:
                default_request = item.get("defaultRequest") or item.get("default") or {}
                for resource_name, value in default_request.items():
                    requests = resources.setdefault("requests", {})
                    limits = resources.get("limits") or {}
                    if resource_name not in requests and resource_name not in limits:
                        requests[resource_name] = value
                        notes.append(f"{resource_name} request for container {container['name']}")
                    elif resource_name not in requests:
                        requests[resource_name] = limits[resource_name]
                for resource_name, value in (item.get("default") or {}).items():
                    limits = resources.setdefault("limits", {})
                    if resource_name not in limits:
                        limits[resource_name] = value
                        notes.append(f"{resource_name} limit for container {container['name']}")
            for section in ("requests", "limits"):
                if section in resources and not resources[section]:
                    del resources[section]
        if notes:
            annotations = pod["metadata"].setdefault("annotations", {})
            annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.operation != "CREATE" or attrs.subresource:
            return
        problems: list[str] = []
        if attrs.kind.kind == "Pod":
            spec = attrs.object.get("spec") or {}
            for item in _items(context, attrs.namespace, "Container"):
                for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
                    resources = container.get("resources") or {}
                    problems += _check("Container", item, _quantities(resources.get("requests")),
                                       _quantities(resources.get("limits")))
            pod_items = _items(context, attrs.namespace, "Pod")
            if pod_items:
                from engine.api.resources import pod_limits, pod_requests
                for item in pod_items:
                    problems += _check("Pod", item, pod_requests(attrs.object), pod_limits(attrs.object))
        elif attrs.kind.kind == "PersistentVolumeClaim":
            requests = _quantities(((attrs.object.get("spec") or {}).get("resources") or {}).get("requests"))
            for item in _items(context, attrs.namespace, "PersistentVolumeClaim"):
                problems += _check("PersistentVolumeClaim", item, requests, requests)
        if problems:
            reason = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            raise errors.forbidden(attrs.kind.plural, attrs.name, reason, attrs.kind.group)


def _check(scope: str, item: dict, requests: dict[str, Quantity], limits: dict[str, Quantity]) -> list[str]:
    problems = []
    for resource_name, bound in _quantities(item.get("min")).items():
        request = requests.get(resource_name)
        if request is None:
            problems.append(f"minimum {resource_name} usage per {scope} is {bound}.  No request is specified")
        elif request < bound:
            problems.append(f"minimum {resource_name} usage per {scope} is {bound}, but request is {request}")
    for resource_name, bound in _quantities(item.get("max")).items():
        limit = limits.get(resource_name)
        if limit is None:
            problems.append(f"maximum {resource_name} usage per {scope} is {bound}.  No limit is specified")
        elif limit > bound:
            problems.append(f"maximum {resource_name} usage per {scope} is {bound}, but limit is {limit}")
    for resource_name, ratio in _quantities(item.get("maxLimitRequestRatio")).items():
        limit, request = limits.get(resource_name), requests.get(resource_name)
        if limit is None or request is None or request.milli_value() == 0:
            continue
        actual = limit.milli_value() / request.milli_value()
        if actual > ratio.milli_value() / 1000:
            problems.append(f"{resource_name} max limit to request ratio per {scope} is {ratio}, "
                            f"but provided ratio is {actual:f}")
    return problems
