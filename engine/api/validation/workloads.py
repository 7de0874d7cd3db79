"""Workloads: Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet and ControllerRevision.

Mirrors ``pkg/apis/apps/validation``: a required, non-empty selector that
matches the template's labels, a template whose pods always restart, the
rollout strategies (maxSurge and maxUnavailable as integers or percentages,
not both zero), the StatefulSet's fields that never change, and the apps/v1
strategies' rule that a selector is immutable after creation.

Also ``int_or_percent``, Go's ``intstr.GetScaledValueFromIntOrPercent``, which
the Deployment and DaemonSet controllers use to turn maxSurge and
maxUnavailable into numbers of pods.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from engine.api.selectors import SelectorError, from_label_selector, go_quote
from engine.api.validation.fields import Errors, GoValue, child, get_int, get_items, get_object, get_spec
from engine.api.validation.formats import is_valid_percent, name_is_dns_label, name_is_dns_subdomain
from engine.api.validation.meta import go_label_selector, normal_selector, validate_label_selector, validate_metadata
from engine.api.validation.pods import validate_pod_template


def int_or_percent(value: int | str | None, total: int, round_up: bool) -> int:
    """An IntOrString as a number: ints as they are, ``"25%"`` of ``total`` rounded up or down.

    Exactly Go's ``intstr.GetScaledValueFromIntOrPercent``, with its errors as ``ValueError``.
    """
    if value is None:
        raise ValueError("nil value for IntOrString")
    if isinstance(value, bool):
        raise ValueError("invalid value for IntOrString: invalid type: neither int nor percentage")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise ValueError("invalid value for IntOrString: invalid type: neither int nor percentage")
    if not value.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    digits = value[:-1]
    if not re.fullmatch(r"[+-]?[0-9]+", digits):
        raise ValueError(f'invalid value for IntOrString: invalid value "{value}": strconv.Atoi: parsing '
                         f'{go_quote(digits)}: invalid syntax')
    percent = int(digits)
    scaled = percent * total
    return -((-scaled) // 100) if round_up else scaled // 100


def _int_or_string_value(value: Any) -> tuple[int, bool]:
    """getIntOrPercentValue: (value, is_percent) of an IntOrString, 0 for anything unparsable."""
    if isinstance(value, str):
        if not is_valid_percent(value):
            return int(value[:-1]), True
        return 0, False
    if isinstance(value, int) and not isinstance(value, bool):
        return value, False
    return 0, False


def _positive_int_or_percent(errs: Errors, value: Any, path: str) -> None:
    if isinstance(value, str):
        for msg in is_valid_percent(value):
            errs.invalid(path, GoValue(value), msg)
    elif isinstance(value, int) and not isinstance(value, bool):
        errs.nonnegative(path, value)
    else:
        errs.invalid(path, GoValue(str(value)), "must be an integer or percentage (e.g '5%%')")


def _not_more_than_100_percent(errs: Errors, value: Any, path: str) -> None:
    number, is_percent = _int_or_string_value(value)
    if is_percent and number > 100:
        errs.invalid(path, GoValue(str(value)), "must not be greater than 100%")


def _go_strategy(type_name: str, strategy: Mapping, rolling_type: str) -> GoValue:
    rolling = "(nil)" if strategy.get("rollingUpdate") is None else "(0xc000a1b2c0)"
    return GoValue(f"apps.{type_name}{{Type:{go_quote(str(strategy.get('type', '')))}, "
                   f"RollingUpdate:(*apps.{rolling_type}){rolling}}}")


def _template_selector(errs: Errors, selector: Any, template: Any, invalid_detail: str) -> bool:
    """Convert the selector and check it matches the template labels; False if it cannot be converted."""
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
    except SelectorError:
        errs.invalid("spec.selector", go_label_selector(selector), invalid_detail)
        return False
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    if not sel.empty and not sel.matches(labels if isinstance(labels, dict) else {}):
        errs.invalid("spec.template.metadata.labels", labels if labels is not None else GoValue("map[string]string(nil)"),
                     "`selector` does not match template `labels`")
    return True


def _required_selector(errs: Errors, selector: Any, empty_word: str) -> None:
    if selector is None:
        errs.required("spec.selector")
        return
    validate_label_selector(errs, selector, "spec.selector")
    if isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.invalid("spec.selector", go_label_selector(selector), f"empty selector is invalid for {empty_word}")


def _template_restart_always(errs: Errors, template: Any, owner: str) -> None:
    tspec = template.get("spec") if isinstance(template, dict) and isinstance(template.get("spec"), dict) else {}
    if tspec.get("restartPolicy") != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", tspec.get("restartPolicy") or "", ("Always",))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.forbidden("spec.template.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {owner} is not Supported")


def _replica_set_template(errs: Errors, spec: dict) -> None:
    """The selector and ValidatePodTemplateSpecForReplicaSet, shared by Deployment and ReplicaSet."""
    selector, template = spec.get("selector"), spec.get("template")
    _required_selector(errs, selector, "deployment")  # sic: ReplicaSets say "deployment" too
    if not _template_selector(errs, selector, template, "invalid label selector"):
        return
    if template is None:
        errs.required("spec.template")
        return
    validate_pod_template(errs, template, "spec.template")
    _template_restart_always(errs, template, "ReplicaSet")


def validate_deployment(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    replicas = get_int(errs, spec, "replicas", "spec.replicas")
    if replicas is not None:
        errs.nonnegative("spec.replicas", replicas)
    _replica_set_template(errs, spec)
    strategy = get_object(errs, spec, "strategy", "spec.strategy") or {}
    stype = strategy.get("type")
    if stype == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")
        else:
            path = "spec.strategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(errs, unavailable, child(path, "maxUnavailable"))
            _positive_int_or_percent(errs, surge, child(path, "maxSurge"))
            if _int_or_string_value(unavailable)[0] == 0 and _int_or_string_value(surge)[0] == 0:
                errs.invalid(child(path, "maxUnavailable"), GoValue(str(unavailable)), "may not be 0 when `maxSurge` is 0")
            _not_more_than_100_percent(errs, unavailable, child(path, "maxUnavailable"))
    else:
        errs.not_supported("spec.strategy", _go_strategy("DeploymentStrategy", strategy, "RollingUpdateDeployment"),
                           ("Recreate", "RollingUpdate"))
    min_ready = get_int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0
    errs.nonnegative("spec.minReadySeconds", min_ready)
    history = get_int(errs, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    if history is not None:
        errs.nonnegative("spec.revisionHistoryLimit", history)
    deadline = get_int(errs, spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds")
    if deadline is not None:
        errs.nonnegative("spec.progressDeadlineSeconds", deadline)
        if deadline <= min_ready:
            errs.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
    _selector_immutable(errs, obj, old)


def validate_replica_set(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    replicas = get_int(errs, spec, "replicas", "spec.replicas")
    if replicas is not None:
        errs.nonnegative("spec.replicas", replicas)
    errs.nonnegative("spec.minReadySeconds", get_int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    _replica_set_template(errs, spec)
    _selector_immutable(errs, obj, old)


def validate_replication_controller(obj: dict, old: dict | None, errs: Errors) -> None:
    """ValidateReplicationControllerSpec (core/v1): a map selector, required and non-empty, matching the template."""
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    errs.nonnegative("spec.minReadySeconds", get_int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else {}
    if not selector:
        errs.required("spec.selector")
    replicas = get_int(errs, spec, "replicas", "spec.replicas")
    if replicas is not None:
        errs.nonnegative("spec.replicas", replicas)
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.required("spec.template")
        return
    if selector:
        _template_selector(errs, {"matchLabels": selector}, template, "invalid label selector")
    validate_pod_template(errs, template, "spec.template")
    _template_restart_always(errs, template, "ReplicationController")


def validate_daemon_set(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    spec = get_spec(errs, obj)
    selector = spec.get("selector")
    validate_label_selector(errs, selector, "spec.selector")
    template = spec.get("template")
    try:
        sel = from_label_selector(selector if isinstance(selector, dict) else None)
        labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
        if not sel.matches(labels if isinstance(labels, dict) else {}):
            errs.invalid("spec.template.metadata.labels", labels if labels is not None else
                         GoValue("map[string]string(nil)"), "`selector` does not match template `labels`")
    except SelectorError:
        pass
    if isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.invalid("spec.selector", go_label_selector(selector), "empty selector is invalid for daemonset")
    validate_pod_template(errs, template, "spec.template")
    _template_restart_always(errs, template, "DaemonSet")
    errs.nonnegative("spec.minReadySeconds", get_int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    strategy = get_object(errs, spec, "updateStrategy", "spec.updateStrategy") or {}
    if strategy.get("type") == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.required("spec.updateStrategy.rollingUpdate")
        else:
            path = "spec.updateStrategy.rollingUpdate"
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(errs, unavailable, child(path, "maxUnavailable"))
            _positive_int_or_percent(errs, surge, child(path, "maxSurge"))
            _not_more_than_100_percent(errs, unavailable, child(path, "maxUnavailable"))
            _not_more_than_100_percent(errs, surge, child(path, "maxSurge"))
            has_unavailable = _int_or_string_value(unavailable)[0] != 0
            has_surge = _int_or_string_value(surge)[0] != 0
            if has_unavailable and has_surge:
                errs.invalid(child(path, "maxSurge"), GoValue(str(surge)), "may not be set when maxUnavailable is non-zero")
            elif not has_unavailable and not has_surge:
                errs.required(child(path, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    elif strategy.get("type") != "OnDelete":
        errs.not_supported("spec.updateStrategy", _go_strategy("DaemonSetUpdateStrategy", strategy,
                                                                "RollingUpdateDaemonSet"), ("RollingUpdate", "OnDelete"))
    history = get_int(errs, spec, "revisionHistoryLimit", "spec.revisionHistoryLimit")
    if history is not None:
        errs.nonnegative("spec.revisionHistoryLimit", history)
    _selector_immutable(errs, obj, old)


def validate_stateful_set(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_label)
    spec = get_spec(errs, obj)
    policy = spec.get("podManagementPolicy") or ""
    if not policy:
        errs.required("spec.podManagementPolicy")
    elif policy not in ("OrderedReady", "Parallel"):
        errs.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
    strategy = get_object(errs, spec, "updateStrategy", "spec.updateStrategy") or {}
    stype = strategy.get("type") or ""
    if not stype:
        errs.required("spec.updateStrategy")
    elif stype == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            errs.invalid("spec.updateStrategy.rollingUpdate", GoValue("&apps.RollingUpdateStatefulSetStrategy{...}"),
                         "only allowed for updateStrategy 'RollingUpdate'")
    elif stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, dict):
            partition = get_int(errs, rolling, "partition", "spec.updateStrategy.rollingUpdate.partition")
            errs.nonnegative("spec.updateStrategy.rollingUpdate.partition", partition or 0)
            unavailable = rolling.get("maxUnavailable")
            if unavailable is not None:
                path = "spec.updateStrategy.rollingUpdate.maxUnavailable"
                _positive_int_or_percent(errs, unavailable, path)
                if _int_or_string_value(unavailable)[0] == 0:
                    errs.invalid(path, GoValue(str(unavailable)), "cannot be 0")
                _not_more_than_100_percent(errs, unavailable, path)
    else:
        errs.invalid("spec.updateStrategy", _go_strategy("StatefulSetUpdateStrategy", strategy,
                                                         "RollingUpdateStatefulSetStrategy"),
                     "must be 'RollingUpdate' or 'OnDelete'")
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for when in ("whenDeleted", "whenScaled"):
            if retention.get(when) not in ("Retain", "Delete"):
                errs.not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{when}", retention.get(when) or "",
                                   ("Retain", "Delete"))
    errs.nonnegative("spec.replicas", get_int(errs, spec, "replicas", "spec.replicas") or 0)
    errs.nonnegative("spec.minReadySeconds", get_int(errs, spec, "minReadySeconds", "spec.minReadySeconds") or 0)
    selector, template = spec.get("selector"), spec.get("template")
    _required_selector(errs, selector, "statefulset")
    claims = []
    for _, claim, _ in get_items(errs, spec, "volumeClaimTemplates", "spec.volumeClaimTemplates"):
        claim_meta = claim.get("metadata") if isinstance(claim.get("metadata"), dict) else {}
        if claim_meta.get("name"):
            claims.append(str(claim_meta["name"]))
    if _template_selector(errs, selector, template, ""):
        # Go checks only the template's labels and annotations here (a TODO); the whole
        # template is checked, counting volumeClaimTemplates as volumes, to catch mistakes early.
        validate_pod_template(errs, template, "spec.template", extra_volumes=claims)
    _template_restart_always(errs, template, "StatefulSet")
    if old is not None:
        new_spec = {k: v for k, v in spec.items() if k not in _STS_MUTABLE}
        old_spec = {k: v for k, v in (old.get("spec") or {}).items() if k not in _STS_MUTABLE}
        if new_spec != old_spec:
            errs.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                           "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                           "'minReadySeconds' are forbidden")


_STS_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds")


def _selector_immutable(errs: Errors, obj: dict, old: dict | None) -> None:
    """The apps/v1 strategies' rule: a controller's selector never changes after creation."""
    if old is None:
        return
    new_sel = (obj.get("spec") or {}).get("selector")
    old_sel = (old.get("spec") or {}).get("selector")
    if normal_selector(new_sel) != normal_selector(old_sel):
        errs.invalid("spec.selector", go_label_selector(new_sel), "field is immutable")


def validate_controller_revision(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, obj, old, name_is_dns_subdomain)
    if obj.get("data") is None:
        errs.required("data", "data is mandatory")
    errs.nonnegative("revision", get_int(errs, obj, "revision", "revision") or 0)
    if old is not None and obj.get("data") != old.get("data"):
        errs.invalid("data", GoValue("runtime.RawExtension{...}"), "field is immutable")
