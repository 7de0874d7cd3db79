"""Priority admission (plugin/pkg/admission/priority): a pod's ``priorityClassName`` becomes its ``priority``.

The scheduler orders its queue and chooses preemption victims by
``spec.priority``, which no client sets itself. On a pod's CREATE this plugin:

- with no ``priorityClassName``, takes the global default class (the
  lowest-valued one, should a race have made two) and writes its name, or
  priority 0 and ``PreemptLowerPriority`` when there is none;
- with a name, looks the PriorityClass object up (the two system classes are
  objects too, created at boot); an unknown name is refused, 403
  ``no PriorityClass with name gold was found``;
- sets ``spec.priority`` and ``spec.preemptionPolicy`` from the class, and
  refuses a pod that sets either to something else (``the integer value of
  priority (5) must not be provided in pod spec; ...``).

On a pod's UPDATE it keeps the stored priority and preemptionPolicy when the
new object leaves them out. On a PriorityClass CREATE or UPDATE (validating
phase) it refuses a second ``globalDefault`` class: ``PriorityClass low is
already marked as default. Only one default can exist``. It reads classes
from the API server's cache and never writes anything; ``system_priority_classes()``
are the objects the API server creates at boot.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api import errors
from engine.api.validation.scheduling import SYSTEM_PRIORITY_CLASSES
from engine.apiserver.admission import AdmissionContext, Attributes, Plugin

DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS = 0
PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"


def system_priority_classes() -> list[dict]:
    """What the API server's post-start hook (scheduling/bootstrap-system-priority-classes) creates."""
    return [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
             "value": value, "description": description}
            for name, (value, description) in SYSTEM_PRIORITY_CLASSES.items()]


def default_priority_class(classes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """getDefaultPriorityClass: the name of the global default class with the lowest value, or None."""
    found = None
    for name in sorted(classes):
        candidate = classes[name]
        if candidate.get("globalDefault") and (found is None or classes[found].get("value", 0) > candidate.get("value", 0)):
            found = name
    return found


def default_pod_priority(pod: dict, priority_classes: Mapping[str, Mapping[str, Any]]) -> None:
    """admitPod on CREATE: resolve the pod's priority from ``priority_classes`` (name -> PriorityClass).

    Raises ``LookupError`` for an unknown class and ``ValueError`` for a pod that sets a different priority
    or preemptionPolicy; the messages are the real plugin's.
    """
    spec = pod.setdefault("spec", {})
    name = spec.get("priorityClassName") or ""
    if not name:
        default = default_priority_class(priority_classes)
        if default is not None:
            spec["priorityClassName"] = default
            found = priority_classes[default]
            priority, policy = int(found.get("value", 0)), found.get("preemptionPolicy")
        else:
            priority, policy = DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS, PREEMPT_LOWER_PRIORITY
    else:
        found = priority_classes.get(name)
        if found is None:
            raise LookupError(f"no PriorityClass with name {name} was found")
        priority, policy = int(found.get("value", 0)), found.get("preemptionPolicy")
    if spec.get("priority") is not None and spec["priority"] != priority:
        raise ValueError(f"the integer value of priority ({spec['priority']}) must not be provided in pod spec; "
                         f"priority admission controller computed {priority} from the given PriorityClass name")
    spec["priority"] = priority
    if policy is not None:
        if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
            raise ValueError(f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                             f"provided in pod spec; priority admission controller computed {policy} from the "
                             "given PriorityClass name")
        spec["preemptionPolicy"] = policy


class Priority(Plugin):
    name = "Priority"
    admits = frozenset({"Pod"})
    validates = frozenset({"PriorityClass"})

    @staticmethod
    def _classes(context: AdmissionContext) -> dict[str, Mapping[str, Any]]:
        try:
            return {pc["metadata"]["name"]: pc for pc in context.cached_list("priorityclasses")}
        except errors.NotFound:
            return {}                             # PriorityClass is not a registered kind in this cluster

    def admit(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "Pod" or attrs.subresource or attrs.object is None:
            return
        if attrs.operation == "UPDATE":
            spec, old_spec = attrs.object.setdefault("spec", {}), (attrs.old_object or {}).get("spec") or {}
            for field in ("priority", "preemptionPolicy"):
                if spec.get(field) is None and old_spec.get(field) is not None:
                    spec[field] = old_spec[field]
            return
        if attrs.operation != "CREATE":
            return
        try:
            default_pod_priority(attrs.object, self._classes(context))
        except (LookupError, ValueError) as error:
            raise errors.forbidden("pods", attrs.name, str(error)) from None

    def validate(self, attrs: Attributes, context: AdmissionContext) -> None:
        if attrs.kind.kind != "PriorityClass" or attrs.subresource or attrs.operation not in ("CREATE", "UPDATE"):
            return
        if not (attrs.object or {}).get("globalDefault"):
            return
        default = default_priority_class(self._classes(context))
        if default is not None and (attrs.operation == "CREATE" or default != attrs.name):
            raise errors.forbidden("priorityclasses", attrs.name,
                                   f"PriorityClass {default} is already marked as default. "
                                   "Only one default can exist", group="scheduling.k8s.io")
