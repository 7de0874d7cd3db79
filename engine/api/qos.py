"""Pod QoS class: Guaranteed, Burstable or BestEffort (pkg/apis/core/helper/qos).

The API server writes ``status.qosClass`` when a pod is created, and the
kubelet uses it to decide whom to evict first under memory pressure
(BestEffort, then Burstable, then Guaranteed). The rule, over cpu and memory
of every container and init container:

- no requests and no limits anywhere: BestEffort;
- every container has cpu and memory limits, and requests equal limits
  (a request left out defaults to its limit): Guaranteed;
- anything else: Burstable.
"""

from __future__ import annotations

from engine.api.quantity import parse_quantity

_COMPUTE = ("cpu", "memory")


def qos_class(pod: dict) -> str:
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = {name: parse_quantity(value) for name, value in (resources.get("requests") or {}).items()
                    if name in _COMPUTE}
        limits = {name: parse_quantity(value) for name, value in (resources.get("limits") or {}).items()
                  if name in _COMPUTE}
        requests = {name: value for name, value in requests.items() if value.sign() != 0}
        limits = {name: value for name, value in limits.items() if value.sign() != 0}
        if requests or limits:
            any_set = True
        if set(limits) != set(_COMPUTE):
            guaranteed = False
            continue
        for name in _COMPUTE:
            if name in requests and requests[name] != limits[name]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
