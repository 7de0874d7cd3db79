"""Scheduling: PriorityClass (scheduling.k8s.io/v1).

Mirrors ``pkg/apis/scheduling/validation`` (``ValidatePriorityClass`` and
``ValidatePriorityClassUpdate``): a name with the ``system-`` prefix must be
one of the two system classes, with their exact value and globalDefault
(``IsKnownSystemPriorityClass``); any other class may not exceed
1000000000 (HighestUserDefinablePriority); ``preemptionPolicy`` is
``PreemptLowerPriority`` or ``Never``; ``value`` and ``preemptionPolicy``
never change. The one-global-default rule needs the other classes, so the
Priority admission plugin checks it (``engine.apiserver.admission.priority``).
"""

from __future__ import annotations

from engine.api.validation.fields import Errors, child
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.meta import validate_object_meta, validate_object_meta_update

SYSTEM_PRIORITY_CLASS_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": (SYSTEM_CRITICAL_PRIORITY + 1000,
                             "Used for system critical pods that must not be moved from their current node."),
    "system-cluster-critical": (SYSTEM_CRITICAL_PRIORITY,
                                "Used for system critical pods that must run in the cluster, but can be moved to "
                                "another node if necessary."),
}
"""scheduling.SystemPriorityClasses: name -> (value, description); neither is a global default."""
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")


def known_system_priority_class_error(name: str, value: int, global_default: bool) -> str:
    """IsKnownSystemPriorityClass: "" when the class is a system class exactly, else why not."""
    known = SYSTEM_PRIORITY_CLASSES.get(name)
    if known is None:
        return f"{name} is not a known system priority class"
    if value != known[0]:
        return f"value of {name} PriorityClass must be {known[0]}"
    if global_default:
        return f"globalDefault of {name} PriorityClass must be false"
    return ""


def validate_preemption_policy(errs: Errors, policy: object, path: str) -> None:
    """ValidatePreemptionPolicy (shared with the PodSpec's field)."""
    if policy == "":
        errs.required(path)
    elif policy not in PREEMPTION_POLICIES:
        errs.not_supported(path, policy, PREEMPTION_POLICIES)


def validate_priority_class(obj: dict, old: dict | None, errs: Errors) -> None:
    value = obj.get("value") or 0
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        if value != (old.get("value") or 0):
            errs.forbidden("value", "may not be changed in an update.")
        if obj.get("preemptionPolicy") != old.get("preemptionPolicy"):
            errs.invalid("preemptionPolicy", obj.get("preemptionPolicy"), "field is immutable")
        return
    validate_object_meta(errs, obj.get("metadata"), False, name_is_dns_subdomain)
    name = (obj.get("metadata") or {}).get("name") or ""
    if name.startswith(SYSTEM_PRIORITY_CLASS_PREFIX):
        error = known_system_priority_class_error(name, value, bool(obj.get("globalDefault")))
        if error:
            errs.forbidden(child("metadata", "name"), f"priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' "
                                                      f"prefix are reserved for system use only. error: {error}")
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.forbidden("value", f"maximum allowed value of a user defined priority is "
                                f"{HIGHEST_USER_DEFINABLE_PRIORITY}")
    if obj.get("preemptionPolicy") is not None:
        validate_preemption_policy(errs, obj["preemptionPolicy"], "preemptionPolicy")
