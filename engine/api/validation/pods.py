"""Pods: ``ValidatePodSpec``, pod templates, Pod create and Pod update.

Mirrors ``pkg/apis/core/validation`` for the pod as a whole: volumes and
containers (from ``volumes`` and ``containers``), restartPolicy, dnsPolicy
and dnsConfig, hostNetwork ports, scheduling constraints (nodeSelector,
affinity, tolerations, topologySpreadConstraints), names of the service
account, node and priority class, and the OS.

``validate_pod_template`` keeps Go's quirk of reporting template labels at
``<path>.labels``. On update only the fields Go lets change may change
(images, activeDeadlineSeconds downwards, added tolerations); any other
change is refused with the list of updatable fields and a diff.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from engine.api.selectors import is_label_key, is_label_value
from engine.api.validation.containers import (
    validate_container, validate_containers, validate_init_containers, validate_security_context,
)
from engine.api.validation.fields import Errors, child, get_int, get_items, get_string, index, spec_diff
from engine.api.validation.formats import is_dns1123_label, name_is_dns_subdomain
from engine.api.validation.meta import (
    validate_annotations, validate_label_selector, validate_labels, validate_object_meta, validate_object_meta_update,
)
from engine.api.validation.volumes import validate_volumes

_MAX_INT32 = 2**31 - 1


def _validate_tolerations(errs: Errors, spec: Mapping, path: str) -> None:
    for _, tol, tol_path in get_items(errs, spec, "tolerations", path):
        tkey = get_string(errs, tol, "key", child(tol_path, "key"))
        for msg in is_label_key(tkey) if tkey else []:
            errs.invalid(child(tol_path, "key"), tkey, msg)
        operator = tol.get("operator") or ""
        if not tkey and operator != "Exists":
            errs.invalid(child(tol_path, "operator"), operator,
                         "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
        effect = tol.get("effect") or ""
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.invalid(child(tol_path, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        value = tol.get("value") or ""
        if operator in ("Equal", ""):
            if msgs := is_label_value(value):
                errs.invalid(child(tol_path, "operator"), value, ";".join(msgs))
        elif operator == "Exists":
            if value:
                errs.invalid(child(tol_path, "operator"), value, "value must be empty when `operator` is 'Exists'")
        else:
            errs.not_supported(child(tol_path, "operator"), operator, ("Equal", "Exists"))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.not_supported(child(tol_path, "effect"), effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))


def _validate_node_selector_requirement(errs: Errors, req: dict, path: str) -> None:
    operator = req.get("operator")
    values = req.get("values") or []
    if operator in ("In", "NotIn"):
        if not values:
            errs.required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.forbidden(child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            errs.required(child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")
    else:
        errs.invalid(child(path, "operator"), operator if operator is not None else "", "not a valid selector operator")
    rkey = str(req.get("key") or "")
    for msg in is_label_key(rkey):
        errs.invalid(child(path, "key"), rkey, msg)
    for j, v in enumerate(values):
        for msg in is_label_value(str(v)):
            errs.invalid(index(child(path, "values"), j), v, msg)


def _validate_affinity(errs: Errors, affinity: Any, path: str) -> None:
    if not isinstance(affinity, dict):
        return
    node = affinity.get("nodeAffinity")
    if isinstance(node, dict):
        npath = child(path, "nodeAffinity")
        required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
        if isinstance(required, dict):
            rpath = child(child(npath, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms")
            terms = get_items(errs, required, "nodeSelectorTerms", rpath)
            if not terms:
                errs.required(rpath, "must have at least one node selector term")
            for _, term, tpath in terms:
                for _, req, qpath in get_items(errs, term, "matchExpressions", child(tpath, "matchExpressions")):
                    _validate_node_selector_requirement(errs, req, qpath)
        ppath = child(npath, "preferredDuringSchedulingIgnoredDuringExecution")
        for _, pref, item_path in get_items(errs, node, "preferredDuringSchedulingIgnoredDuringExecution", ppath):
            weight = pref.get("weight")
            if not isinstance(weight, int) or not 1 <= weight <= 100:
                errs.invalid(child(item_path, "weight"), weight, "must be in the range 1-100")
            preference = pref.get("preference") if isinstance(pref.get("preference"), dict) else {}
            for _, req, qpath in get_items(errs, preference, "matchExpressions",
                                        child(child(item_path, "preference"), "matchExpressions")):
                _validate_node_selector_requirement(errs, req, qpath)
    for kind in ("podAffinity", "podAntiAffinity"):
        pod = affinity.get(kind)
        if not isinstance(pod, dict):
            continue
        kpath = child(path, kind)
        for _, term, tpath in get_items(errs, pod, "requiredDuringSchedulingIgnoredDuringExecution",
                                     child(kpath, "requiredDuringSchedulingIgnoredDuringExecution")):
            _validate_pod_affinity_term(errs, term, tpath)
        for _, wterm, wpath in get_items(errs, pod, "preferredDuringSchedulingIgnoredDuringExecution",
                                      child(kpath, "preferredDuringSchedulingIgnoredDuringExecution")):
            weight = wterm.get("weight")
            if not isinstance(weight, int) or not 1 <= weight <= 100:
                errs.invalid(child(wpath, "weight"), weight, "must be in the range 1-100")
            if isinstance(wterm.get("podAffinityTerm"), dict):
                _validate_pod_affinity_term(errs, wterm["podAffinityTerm"], child(wpath, "podAffinityTerm"))


def _validate_pod_affinity_term(errs: Errors, term: dict, path: str) -> None:
    validate_label_selector(errs, term.get("labelSelector"), child(path, "labelSelector"))
    validate_label_selector(errs, term.get("namespaceSelector"), child(path, "namespaceSelector"))
    topology_key = str(term.get("topologyKey") or "")
    if not topology_key:
        errs.required(child(path, "topologyKey"), "can not be empty")
    else:
        for msg in is_label_key(topology_key):
            errs.invalid(child(path, "topologyKey"), topology_key, msg)


def _validate_topology_spread(errs: Errors, spec: Mapping, path: str) -> None:
    constraints = get_items(errs, spec, "topologySpreadConstraints", path)
    for n, (_, c, cpath) in enumerate(constraints):
        max_skew = c.get("maxSkew")
        if not isinstance(max_skew, int) or max_skew <= 0:
            errs.invalid(child(cpath, "maxSkew"), max_skew if max_skew is not None else 0, "must be greater than zero")
        if not c.get("topologyKey"):
            errs.required(child(cpath, "topologyKey"), "can not be empty")
        action = c.get("whenUnsatisfiable")
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.not_supported(child(cpath, "whenUnsatisfiable"), action if action is not None else "",
                               ("DoNotSchedule", "ScheduleAnyway"))
        for _, later, _ in constraints[n + 1:]:
            if (later.get("topologyKey"), later.get("whenUnsatisfiable")) == (c.get("topologyKey"), action):
                errs.duplicate(child(cpath, "{topologyKey, whenUnsatisfiable}"),
                               f"{{{c.get('topologyKey')}, {action}}}")
                break
        validate_label_selector(errs, c.get("labelSelector"), child(cpath, "labelSelector"))


def validate_pod_spec(errs: Errors, spec: Any, path: str, is_pod: bool, extra_volumes: Iterable[str] = ()) -> None:
    if not isinstance(spec, dict):
        if spec is not None:
            errs.type_invalid(path, spec, "object")
        spec = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.required(child(path, "terminationGracePeriodSeconds"))
    else:
        get_int(errs, spec, "terminationGracePeriodSeconds", child(path, "terminationGracePeriodSeconds"))
    volumes = validate_volumes(errs, spec, child(path, "volumes"))
    for name in extra_volumes:  # a StatefulSet's volumeClaimTemplates
        volumes.setdefault(name, {"persistentVolumeClaim": {"claimName": name}})
    names = validate_containers(errs, spec, volumes, child(path, "containers"))
    validate_init_containers(errs, spec, volumes, names, child(path, "initContainers"))
    for _, ctr, ctr_path in get_items(errs, spec, "ephemeralContainers", child(path, "ephemeralContainers")):
        validate_container(errs, ctr, volumes, ctr_path)
    if spec.get("hostNetwork") is True:
        for _, ctr, ctr_path in get_items(Errors(), spec, "containers", child(path, "containers")):
            for j, port in enumerate(p for p in ctr.get("ports") or [] if isinstance(p, dict)):
                host, cport = port.get("hostPort") or 0, port.get("containerPort") or 0
                if (is_pod or host != 0) and host != cport:
                    errs.invalid(child(index(child(ctr_path, "ports"), j), "hostPort"), host,
                                 "must match `containerPort` when `hostNetwork` is true")
    restart = get_string(errs, spec, "restartPolicy", child(path, "restartPolicy"))
    if not restart:
        errs.required(child(path, "restartPolicy"))
    elif restart not in ("Always", "OnFailure", "Never"):
        errs.not_supported(child(path, "restartPolicy"), restart, ("Always", "OnFailure", "Never"))
    dns = get_string(errs, spec, "dnsPolicy", child(path, "dnsPolicy"))
    dns_values = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
    if not dns:
        errs.required(child(path, "dnsPolicy"))
    elif dns not in dns_values:
        errs.not_supported(child(path, "dnsPolicy"), dns, dns_values)
    validate_labels(errs, spec.get("nodeSelector"), child(path, "nodeSelector"))
    validate_security_context(errs, spec.get("securityContext"), child(path, "securityContext"), pod_level=True)
    _validate_affinity(errs, spec.get("affinity"), child(path, "affinity"))
    if dns == "None":
        config = spec.get("dnsConfig")
        if not isinstance(config, dict):
            errs.required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
        elif not config.get("nameservers"):
            errs.required(child(child(path, "dnsConfig"), "nameservers"),
                          "must provide at least one DNS nameserver when `dnsPolicy` is None")
    _validate_topology_spread(errs, spec, child(path, "topologySpreadConstraints"))
    for field_name, fn in (("serviceAccountName", name_is_dns_subdomain), ("nodeName", name_is_dns_subdomain)):
        value = get_string(errs, spec, field_name, child(path, field_name))
        for msg in fn(value, False) if value else []:
            errs.invalid(child(path, field_name), value, msg)
    deadline = get_int(errs, spec, "activeDeadlineSeconds", child(path, "activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.invalid(child(path, "activeDeadlineSeconds"), deadline, "must be between 1 and 2147483647, inclusive")
    for field_name in ("hostname", "subdomain"):
        value = get_string(errs, spec, field_name, child(path, field_name))
        for msg in is_dns1123_label(value) if value else []:
            errs.invalid(child(path, field_name), value, msg)
    _validate_tolerations(errs, spec, child(path, "tolerations"))
    pc_name = get_string(errs, spec, "priorityClassName", child(path, "priorityClassName"))
    for msg in name_is_dns_subdomain(pc_name, False) if pc_name else []:
        errs.invalid(child(path, "priorityClassName"), pc_name, msg)
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in ("PreemptLowerPriority", "Never"):
        errs.not_supported(child(path, "preemptionPolicy"), preemption, ("PreemptLowerPriority", "Never"))
    os_spec = spec.get("os")
    if isinstance(os_spec, dict):
        if not os_spec.get("name"):
            errs.required(child(child(path, "os"), "name"), "cannot be empty")
        elif os_spec["name"] not in ("linux", "windows"):
            errs.not_supported(child(path, "os"), os_spec["name"], ("linux", "windows"))


def validate_pod_template(errs: Errors, template: Any, path: str, extra_volumes: Iterable[str] = ()) -> None:
    """ValidatePodTemplateSpec: note the quirk that template labels are reported at ``<path>.labels``."""
    if not isinstance(template, dict):
        if template is not None:
            errs.type_invalid(path, template, "object")
        template = {}
    meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    validate_labels(errs, meta.get("labels"), child(path, "labels"))
    validate_annotations(errs, meta.get("annotations"), child(path, "annotations"))
    spec = template.get("spec")
    validate_pod_spec(errs, spec, child(path, "spec"), is_pod=False, extra_volumes=extra_volumes)
    if isinstance(spec, dict) and spec.get("ephemeralContainers"):
        errs.forbidden(child(child(path, "spec"), "ephemeralContainers"), "ephemeral containers not allowed in pod template")


def validate_pod(obj: dict, old: dict | None, errs: Errors) -> None:
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
    validate_object_meta(errs, obj.get("metadata"), True, name_is_dns_subdomain)
    spec = obj.get("spec")
    validate_pod_spec(errs, spec, "spec", is_pod=True)
    spec = spec if isinstance(spec, dict) else {}
    for key_name in ("containers", "initContainers"):
        for _, ctr, ctr_path in get_items(Errors(), spec, key_name, child("spec", key_name)):
            image = ctr.get("image")
            if isinstance(image, str) and image != image.strip():
                errs.invalid(child(ctr_path, "image"), image, "must not have leading or trailing whitespace")
    if old is None:
        if spec.get("ephemeralContainers"):
            errs.forbidden("spec.ephemeralContainers", "cannot be set on create")
    else:
        _validate_pod_update(errs, spec, old.get("spec") if isinstance(old.get("spec"), dict) else {})


UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def _validate_pod_update(errs: Errors, new: dict, old: dict) -> None:
    for key_name in ("containers", "initContainers"):
        new_ctrs, old_ctrs = new.get(key_name) or [], old.get(key_name) or []
        if len(new_ctrs) != len(old_ctrs):
            errs.forbidden(child("spec", key_name), "pod updates may not add or remove containers")
            return
        for i, ctr in enumerate(new_ctrs):
            if isinstance(ctr, dict) and not ctr.get("image"):
                errs.required(child(index(child("spec", key_name), i), "image"))
    new_deadline, old_deadline = new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not 0 <= new_deadline <= _MAX_INT32:
            errs.invalid("spec.activeDeadlineSeconds", new_deadline, "must be between 0 and 2147483647, inclusive")
            return
        if old_deadline is not None and old_deadline < new_deadline:
            errs.invalid("spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value")
            return
    elif old_deadline is not None:
        errs.invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
    def plain(toleration: dict) -> dict:
        return {k: v for k, v in toleration.items() if v not in (None, "")}
    new_tolerations = [plain(t) for t in new.get("tolerations") or [] if isinstance(t, dict)]
    for old_toleration in old.get("tolerations") or []:
        if not isinstance(old_toleration, dict):
            continue
        if not any(plain({**old_toleration, "tolerationSeconds": t.get("tolerationSeconds")}) == t
                   for t in new_tolerations):
            errs.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            break
    if new == old:
        return
    munged = json.loads(json.dumps(new))
    for key_name in ("containers", "initContainers"):
        for ctr, old_ctr in zip(munged.get(key_name) or [], old.get(key_name) or []):
            if isinstance(ctr, dict) and isinstance(old_ctr, dict):
                ctr["image"] = old_ctr.get("image")
    for key_name in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged.pop(key_name, None)
        if key_name in old:
            munged[key_name] = old[key_name]
    old_grace = old.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if munged != old:
        errs.forbidden("spec", "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_SPEC_FIELDS)
                       + "\n" + spec_diff(old, munged, "core.PodSpec"))
