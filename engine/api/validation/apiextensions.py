"""Validation of a CustomResourceDefinition (apiextensions ``ValidateCustomResourceDefinition``).

What a CRD must say before the API server stores it: its name is
``<plural>.<group>``; the group is a domain with a dot; plural, singular and
kind are well formed; the scope is ``Namespaced`` or ``Cluster``; exactly one
version is the storage version; every version has a structural
``openAPIV3Schema`` whose root is an object and whose declared fields all have
a type. On update the scope and group may not change. Messages and field paths
are the real ones (``spec.versions[0].schema.openAPIV3Schema: Required value:
schemas are required``).
"""

from __future__ import annotations

import re
from typing import Any

from engine.api.validation.fields import Errors, GoValue
from engine.api.validation.formats import is_dns1035_label, is_dns1123_label, name_is_dns_subdomain
from engine.api.validation.meta import validate_metadata

SCOPES = ("Cluster", "Namespaced")
TYPES = ("array", "boolean", "integer", "number", "object", "string")


CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _without_cleanup(obj: dict | None) -> dict | None:
    """The CRD's own finalizer is a qualified name the generic ObjectMeta rules accept (the core ones do not)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return obj
    finalizers = obj["metadata"].get("finalizers")
    if not isinstance(finalizers, list) or CLEANUP_FINALIZER not in finalizers:
        return obj
    return {**obj, "metadata": {**obj["metadata"], "finalizers": [f for f in finalizers if f != CLEANUP_FINALIZER]}}


def validate_crd(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_metadata(errs, _without_cleanup(obj), _without_cleanup(old), name_is_dns_subdomain, namespaced=False)
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    group, plural = spec.get("group") or "", names.get("plural") or ""
    name = (obj.get("metadata") or {}).get("name") or ""
    if name != f"{plural}.{group}":
        errs.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
    if not group:
        errs.required("spec.group")
    elif "." not in group:
        errs.invalid("spec.group", group, "should be a domain with at least one dot")
    _validate_names(names, errs)
    scope = spec.get("scope")
    if not scope:
        errs.required("spec.scope")
    elif scope not in SCOPES:
        errs.not_supported("spec.scope", scope, SCOPES)
    _validate_versions(spec.get("versions"), errs)
    if old is not None:
        old_spec = old.get("spec") or {}
        if old_spec.get("scope") and scope != old_spec.get("scope"):
            errs.invalid("spec.scope", scope, "field is immutable")


def _validate_names(names: dict, errs: Errors) -> None:
    for field, check in (("plural", is_dns1123_label), ("singular", is_dns1123_label),
                         ("kind", is_dns1035_label), ("listKind", is_dns1035_label)):
        value = names.get(field)
        if not value:
            if field in ("plural", "kind"):
                errs.required(f"spec.names.{field}")
            continue
        target = value.lower() if field in ("kind", "listKind") else value
        problems = check(target)
        if problems:
            errs.invalid(f"spec.names.{field}", value, "; ".join(problems))
    for index, short in enumerate(names.get("shortNames") or ()):
        problems = is_dns1123_label(short) if isinstance(short, str) else ["must be a string"]
        if problems:
            errs.invalid(f"spec.names.shortNames[{index}]", short, "; ".join(problems))


def _validate_versions(versions: Any, errs: Errors) -> None:
    if not isinstance(versions, list) or not versions:
        errs.invalid("spec.versions", GoValue("[]apiextensions.CustomResourceDefinitionVersion(nil)"),
                     "must have exactly one version marked as storage version")
        errs.required("spec.versions", "must have at least one version")
        return
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        errs.invalid("spec.versions", GoValue(f"[]apiextensions.CustomResourceDefinitionVersion{{...}} "
                                              f"({len(storage)} storage versions)"),
                     "must have exactly one version marked as storage version")
    seen: set[str] = set()
    for index, version in enumerate(versions):
        path = f"spec.versions[{index}]"
        if not isinstance(version, dict):
            errs.type_invalid(path, version, "object")
            continue
        name = version.get("name") or ""
        if not name:
            errs.required(f"{path}.name")
        elif name in seen:
            errs.duplicate(f"{path}.name", name)
        seen.add(name)
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            errs.required(f"{path}.schema.openAPIV3Schema", "schemas are required")
            continue
        _validate_schema(schema, f"{path}.schema.openAPIV3Schema", errs, root=True)


def _validate_schema(schema: dict, path: str, errs: Errors, root: bool = False) -> None:
    """The structural rules: a type everywhere (at the root, ``object``) unless unknown fields are kept."""
    type_ = schema.get("type")
    keeps = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string")
    if not type_:
        if root:
            errs.required(f"{path}.type", "must not be empty at the root")
        elif not keeps:
            errs.required(f"{path}.type", "must not be empty for specified object fields")
    elif root and type_ != "object":
        errs.not_supported(f"{path}.type", type_, ["object"])
    elif type_ not in TYPES:
        errs.not_supported(f"{path}.type", type_, TYPES)
    for key, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            _validate_schema(prop, f"{path}.properties[{key}]", errs)
    if isinstance(schema.get("items"), dict):
        _validate_schema(schema["items"], f"{path}.items", errs)
    if isinstance(schema.get("additionalProperties"), dict):
        _validate_schema(schema["additionalProperties"], f"{path}.additionalProperties", errs)
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError):
            errs.invalid(f"{path}.pattern", schema["pattern"], "must be a valid regular expression")
