"""A pod's effective requests and limits (k8s.io/component-helpers/resource).

The scheduler, the kubelet's admission, ResourceQuota and LimitRanger all ask
"how much does this pod need?", and Kubernetes answers it one way:
init containers run one after another before the app containers, so a pod
needs the larger of (the sum of its app containers) and (its largest init
container), resource by resource, plus ``spec.overhead``. Sidecars (init
containers with ``restartPolicy: Always``) keep running, so they add to
everything after them.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from engine.api.quantity import Quantity, parse_quantity

V = TypeVar("V")


def _container_values(container: dict, field: str) -> dict[str, Quantity]:
    values = ((container.get("resources") or {}).get(field)) or {}
    return {name: parse_quantity(value) for name, value in values.items()}


def _add(total: dict[str, V], values: dict[str, V]) -> None:
    for name, value in values.items():
        total[name] = total[name] + value if name in total else value


def _max(total: dict[str, V], values: dict[str, V]) -> None:
    for name, value in values.items():
        if name not in total or value > total[name]:
            total[name] = value


def combine(spec: dict, container_values: Callable[[dict], dict[str, V]], overhead: dict[str, V]) -> dict[str, V]:
    """The rule itself, over any addable values (Quantities here, integer millis in the scheduler)."""
    total: dict[str, V] = {}
    for container in spec.get("containers") or []:
        _add(total, container_values(container))
    sidecars: dict[str, V] = {}
    init_peak: dict[str, V] = {}
    for container in spec.get("initContainers") or []:
        values = container_values(container)
        if container.get("restartPolicy") == "Always":
            _add(sidecars, values)
            continue
        running = dict(sidecars)
        _add(running, values)
        _max(init_peak, running)
    _add(total, sidecars)
    _max(total, init_peak)
    _add(total, overhead)
    return total


def pod_resources(pod: dict, field: str = "requests") -> dict[str, Quantity]:
    """The pod's effective ``requests`` (or ``limits``) per resource name."""
    spec = pod.get("spec") or {}
    overhead = {name: parse_quantity(value) for name, value in (spec.get("overhead") or {}).items()}
    return combine(spec, lambda container: _container_values(container, field), overhead)


def pod_requests(pod: dict) -> dict[str, Quantity]:
    return pod_resources(pod, "requests")


def pod_limits(pod: dict) -> dict[str, Quantity]:
    return pod_resources(pod, "limits")
