"""RBAC: Role, ClusterRole, RoleBinding and ClusterRoleBinding.

Mirrors ``pkg/apis/rbac/validation``: names that are valid path segments,
rules with verbs and either resources or non-resource URLs (never both, and
no URLs in a namespaced Role), a ClusterRole's aggregation selectors, a role
reference to a Role or ClusterRole of the RBAC group that never changes
after creation, and subjects of the three kinds.
"""

from __future__ import annotations

from typing import Mapping

from engine.api.selectors import SelectorError, from_label_selector, go_quote
from engine.api.validation.fields import Errors, GoValue, child, get_items, get_object
from engine.api.validation.formats import is_valid_path_segment_name, name_is_dns_subdomain
from engine.api.validation.meta import (
    go_label_selector, validate_label_selector, validate_metadata, validate_object_meta, validate_object_meta_update,
)

RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_policy_rule(errs: Errors, rule: dict, namespaced: bool, path: str) -> None:
    if not rule.get("verbs"):
        errs.required(child(path, "verbs"), "verbs must contain at least one value")
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            errs.invalid(child(path, "nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs")
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            errs.invalid(child(path, "nonResourceURLs"), urls, "rules cannot apply to both regular resources and "
                         "non-resource URLs")
        return
    if not rule.get("apiGroups"):
        errs.required(child(path, "apiGroups"), "resource rules must supply at least one api group")
    if not rule.get("resources"):
        errs.required(child(path, "resources"), "resource rules must supply at least one resource")


def validate_role(obj: dict, old: dict | None, errs: Errors) -> None:
    namespaced = obj.get("kind") == "Role"
    validate_metadata(errs, obj, old, is_valid_path_segment_name, namespaced)
    for _, rule, rpath in get_items(errs, obj, "rules", "rules"):
        _validate_policy_rule(errs, rule, namespaced, rpath)
    aggregation = obj.get("aggregationRule")
    if not namespaced and isinstance(aggregation, dict):
        selectors = get_items(errs, aggregation, "clusterRoleSelectors", "aggregationRule.clusterRoleSelectors")
        if not selectors:
            errs.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if "
                          "aggregationRule is non-nil")
        for _, sel, spath in selectors:
            validate_label_selector(errs, sel, spath)
            try:
                from_label_selector(sel)
            except SelectorError:
                errs.invalid(spath, go_label_selector(sel), "invalid label selector.")


def _go_role_ref(ref: Mapping) -> GoValue:
    return GoValue(f"rbac.RoleRef{{APIGroup:{go_quote(str(ref.get('apiGroup', '')))}, "
                   f"Kind:{go_quote(str(ref.get('kind', '')))}, Name:{go_quote(str(ref.get('name', '')))}}}")


def validate_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    namespaced = obj.get("kind") == "RoleBinding"
    validate_object_meta(errs, obj.get("metadata"), namespaced, is_valid_path_segment_name)
    ref = get_object(errs, obj, "roleRef", "roleRef") or {}
    if ref.get("apiGroup") != RBAC_GROUP:
        errs.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", (RBAC_GROUP,))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind") not in kinds:
        errs.not_supported("roleRef.kind", ref.get("kind") or "", kinds)
    ref_name = str(ref.get("name") or "")
    if not ref_name:
        errs.required("roleRef.name")
    else:
        for msg in is_valid_path_segment_name(ref_name):
            errs.invalid("roleRef.name", ref_name, msg)
    for _, subject, spath in get_items(errs, obj, "subjects", "subjects"):
        name = str(subject.get("name") or "")
        if not name:
            errs.required(child(spath, "name"))
        kind, group = subject.get("kind"), subject.get("apiGroup") or ""
        if kind == "ServiceAccount":
            for msg in name_is_dns_subdomain(name, False) if name else []:
                errs.invalid(child(spath, "name"), name, msg)
            if group:
                errs.not_supported(child(spath, "apiGroup"), group, ("",))
            if not namespaced and not subject.get("namespace"):
                errs.required(child(spath, "namespace"))
        elif kind in ("User", "Group"):
            if group != RBAC_GROUP:
                errs.not_supported(child(spath, "apiGroup"), group, (RBAC_GROUP,))
        else:
            errs.not_supported(child(spath, "kind"), kind or "", ("ServiceAccount", "User", "Group"))
    if old is not None:
        validate_object_meta_update(errs, obj.get("metadata"), old.get("metadata"))
        old_ref = old.get("roleRef") if isinstance(old.get("roleRef"), dict) else {}
        if any((ref.get(f) or "") != (old_ref.get(f) or "") for f in ("apiGroup", "kind", "name")):
            errs.invalid("roleRef", _go_role_ref(ref), "cannot change roleRef")
