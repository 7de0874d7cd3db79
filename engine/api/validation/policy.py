"""Policy: PodDisruptionBudget (policy/v1).

Mirrors ``pkg/apis/policy/validation`` (``ValidatePodDisruptionBudgetSpec``
and ``ValidatePodDisruptionBudgetStatusUpdate``): ``minAvailable`` and
``maxUnavailable`` are each a non-negative integer or a percentage of at most
100%, never both; the selector is a valid label selector;
``unhealthyPodEvictionPolicy`` is ``IfHealthyBudget`` or ``AlwaysAllow``.
A status write keeps ``disruptionsAllowed``, ``currentHealthy``,
``desiredHealthy`` and ``expectedPods`` non-negative. Unlike most kinds, the
spec may change after creation (since policy/v1).
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.api.validation.fields import Errors, GoValue, child
from engine.api.validation.formats import name_is_dns_subdomain
from engine.api.validation.meta import validate_label_selector, validate_metadata
from engine.api.validation.workloads import _not_more_than_100_percent, _positive_int_or_percent

UNHEALTHY_POD_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
STATUS_COUNTS = ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")


def _go_spec(spec: Mapping[str, Any]) -> GoValue:
    """The spec as Go's %#v prints a PodDisruptionBudgetSpec (pointers as addresses)."""
    def pointer(type_name: str, value: Any) -> str:
        return f"(*{type_name})(nil)" if value is None else f"(*{type_name})(0xc000a1b2c0)"
    return GoValue("policy.PodDisruptionBudgetSpec{"
                   f"MinAvailable:{pointer('intstr.IntOrString', spec.get('minAvailable'))}, "
                   f"Selector:{pointer('v1.LabelSelector', spec.get('selector'))}, "
                   f"MaxUnavailable:{pointer('intstr.IntOrString', spec.get('maxUnavailable'))}, "
                   "UnhealthyPodEvictionPolicy:"
                   f"{pointer('policy.UnhealthyPodEvictionPolicyType', spec.get('unhealthyPodEvictionPolicy'))}}}")


def validate_pdb_spec(errs: Errors, spec: Mapping[str, Any], path: str = "spec") -> None:
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.invalid(path, _go_spec(spec), "minAvailable and maxUnavailable cannot be both set")
    for name, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            _positive_int_or_percent(errs, value, child(path, name))
            _not_more_than_100_percent(errs, value, child(path, name))
    validate_label_selector(errs, spec.get("selector"), child(path, "selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        errs.not_supported(child(path, "unhealthyPodEvictionPolicy"), policy, UNHEALTHY_POD_EVICTION_POLICIES)


def validate_pdb(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain, True)
    validate_pdb_spec(errs, obj.get("spec") if isinstance(obj.get("spec"), dict) else {})
    if old is not None:
        status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
        for name in STATUS_COUNTS:
            value = status.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                errs.nonnegative(child("status", name), value)
