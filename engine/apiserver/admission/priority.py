"""Priority admission: turn a pod's ``priorityClassName`` into its ``priority`` number.

The scheduler orders its queue and chooses preemption victims by
``spec.priority``, which no client sets directly: this plugin looks the
PriorityClass up (the two system classes always exist), falls back to the
lowest-valued ``globalDefault`` class, or 0, and fills ``preemptionPolicy``.
An unknown class is refused with the real message.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api import errors
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def default_pod_priority(pod: dict, priority_classes: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Resolve the pod's priority; raises ``LookupError`` for an unknown class."""
    spec = pod.setdefault("spec", {})
    classes: dict[str, Mapping[str, Any]] = {name: {"value": value}
                                             for name, value in SYSTEM_PRIORITY_CLASSES.items()}
    classes.update({name: dict(pc) for name, pc in (priority_classes or {}).items()})
    name = spec.get("priorityClassName") or ""
    if not name:
        defaults = sorted((pc.get("value", 0), n) for n, pc in classes.items() if pc.get("globalDefault"))
        if defaults:  # the lowest-valued global default wins
            name = defaults[0][1]
            spec["priorityClassName"] = name
    if name:
        if name not in classes:
            raise LookupError(f"no PriorityClass with name {name} was found")
        priority = int(classes[name].get("value", 0))
        policy = classes[name].get("preemptionPolicy") or "PreemptLowerPriority"
    else:
        priority, policy = 0, "PreemptLowerPriority"
    spec["priority"] = priority
    if spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = policy


class Priority(Plugin):
    name = "Priority"

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "Pod" or attrs.operation != "CREATE" or attrs.subresource:
            return
        classes = {}
        try:
            classes = {pc["metadata"]["name"]: pc for pc in context.cached_list("priorityclasses")}
        except errors.NotFound:
            pass                                  # PriorityClass is not a registered kind in this cluster
        try:
            default_pod_priority(attrs.object, classes)
        except LookupError as error:
            raise errors.forbidden("pods", attrs.name, str(error)) from None
