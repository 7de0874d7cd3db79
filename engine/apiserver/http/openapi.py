"""OpenAPI documents: the schemas ``kubectl explain`` prints and ``kubectl apply`` checks against.

The real API server publishes ``/openapi/v2`` (one Swagger document) and
``/openapi/v3`` (an index of one OpenAPI 3 document per group version, each
fetched at ``/openapi/v3/apis/{group}/{version}?hash=...``). kubectl 1.32 uses
the v3 documents for three things, and this module serves what each needs:

- ``kubectl explain``: each kind's schema in ``components.schemas``, found by its
  ``x-kubernetes-group-version-kind``, with descriptions, and properties reached
  through ``allOf: [{$ref}]`` as in the real documents. Field tables come from
  ``engine.kubectl.explain`` (the in-process explain), plus a few types it lacks;
  a type neither knows is an object that keeps any field.
- field validation: kubectl sends ``fieldValidation=Strict`` (server-side
  validation, no client-side schema) when the PATCH operation of the kind's
  path lists that query parameter, which ours do;
- the apply patch: the PATCH request bodies offered omit the strategic merge
  type, so ``kubectl apply`` computes its strategic merge patch from its own
  compiled Go types, exactly as against a real server, instead of from these
  simplified schemas.

``/openapi/v2`` answers JSON only; a client that accepts nothing but protobuf
(kubectl's ``OpenAPISchema``) gets 406 and falls back to the documents above.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.api.kinds import Kind, KindRegistry
from engine.kubectl import explain, explain_ingress
from engine.apiserver.http.discovery import VERSION_INFO, kinds_of, served_group_versions

_PACKAGES = {"": "core", "apps": "apps", "batch": "batch", "coordination.k8s.io": "coordination",
             "discovery.k8s.io": "discovery", "rbac.authorization.k8s.io": "rbac", "autoscaling": "autoscaling",
             "networking.k8s.io": "networking", "storage.k8s.io": "storage", "policy": "policy",
             "authorization.k8s.io": "authorization", "authentication.k8s.io": "authentication"}
META = "io.k8s.apimachinery.pkg.apis.meta.v1"

# Types the explain table does not carry, in its (name, type, description) form.
_EXTRA_TYPES: dict[str, tuple[str, list[explain.Field]]] = {
    "DeploymentStrategy": ("DeploymentStrategy describes how to replace existing pods with new ones.", [
        ("rollingUpdate", "RollingUpdateDeployment", "Rolling update config params. Present only if "
         "DeploymentStrategyType = RollingUpdate."),
        ("type", "string", "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is RollingUpdate."),
    ]),
    "JobSpec": ("JobSpec describes how the job execution will look like.", [
        ("activeDeadlineSeconds", "integer", "Specifies the duration in seconds relative to the startTime that the "
         "job may be continuously active before the system tries to terminate it."),
        ("backoffLimit", "integer", "Specifies the number of retries before marking this job failed. Defaults to 6"),
        ("completions", "integer", "Specifies the desired number of successfully finished pods the job should be "
         "run with."),
        ("parallelism", "integer", "Specifies the maximum desired number of pods the job should run at any given "
         "time."),
        ("selector", "LabelSelector", "A label query over pods that should match the pod count."),
        ("template", "PodTemplateSpec", "Describes the pod that will be created when executing a job."),
        ("ttlSecondsAfterFinished", "integer", "ttlSecondsAfterFinished limits the lifetime of a Job that has "
         "finished execution (either Complete or Failed)."),
    ]),
    "LabelSelector": ("A label selector is a label query over a set of resources.", [
        ("matchExpressions", "[]LabelSelectorRequirement", "matchExpressions is a list of label selector "
         "requirements. The requirements are ANDed."),
        ("matchLabels", "map[string]string", "matchLabels is a map of {key,value} pairs."),
    ]),
}
# Fields of kinds that have no spec (ConfigMap, Secret), beside apiVersion, kind and metadata.
_ROOT_FIELDS: dict[str, list[explain.Field]] = {
    "ConfigMap": [("binaryData", "map[string]string", "BinaryData contains the binary data."),
                  ("data", "map[string]string", "Data contains the configuration data."),
                  ("immutable", "boolean", "Immutable, if set to true, ensures that data stored in the ConfigMap "
                   "cannot be updated (only object metadata can be modified).")],
    "Secret": [("data", "map[string]string", "Data contains the secret data, base64 encoded."),
               ("immutable", "boolean", "Immutable, if set to true, ensures that data stored in the Secret cannot "
                "be updated (only object metadata can be modified)."),
               ("stringData", "map[string]string", "stringData allows specifying non-binary secret data in string "
                "form. It is provided as a write-only input field for convenience."),
               ("type", "string", "Used to facilitate programmatic handling of secret data.")],
}
_REQUIRED = {"DeploymentSpec": ["selector", "template"], "ReplicaSetSpec": ["selector"], "JobSpec": ["template"],
             "PodSpec": ["containers"], "Container": ["name"], **explain_ingress.REQUIRED}
_SPEC_TYPES = {**explain.SPEC_TYPES, "Job": "JobSpec"}
_TYPE_PACKAGE = {"DeploymentSpec": "apps", "DeploymentStrategy": "apps", "RollingUpdateDeployment": "apps",
                 "ReplicaSetSpec": "apps", "JobSpec": "batch", "LabelSelector": "meta",
                 "LabelSelectorRequirement": "meta", "ObjectMeta": "meta",
                 **{name: "networking" for name in explain_ingress.NETWORKING_TYPES}}
_PRIMITIVES = ("string", "integer", "boolean", "number")


def _types() -> dict[str, tuple[str, list[explain.Field]]]:
    return {**_EXTRA_TYPES, **explain.TYPES}


def schema_name(kind: Kind) -> str:
    """``io.k8s.api.apps.v1.Deployment``: the definition name the real documents use."""
    return f"io.k8s.api.{_PACKAGES.get(kind.group, kind.group.split('.')[0])}.{kind.version}.{kind.kind}"


def _type_name(name: str, kind: Kind) -> str:
    """The full definition name of a Go type named in the tables (``LabelSelector`` -> meta/v1)."""
    package = _TYPE_PACKAGE.get(name)
    if package == "meta":
        return f"{META}.{name}"
    if package is not None:
        return f"io.k8s.api.{package}.v1.{name}"
    if name in (f"{kind.kind}Spec", f"{kind.kind}Status"):
        return f"io.k8s.api.{_PACKAGES.get(kind.group, kind.group.split('.')[0])}.{kind.version}.{name}"
    return f"io.k8s.api.core.v1.{name}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _value_schema(type_: str, kind: Kind, refs: dict[str, str]) -> dict[str, Any]:
    """The schema of one field type as the tables spell it: primitives, ``[]T``, ``map[string]string``, ``T``."""
    if type_ in _PRIMITIVES:
        return {"type": type_}
    if type_.startswith("map["):
        return {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
    if type_.startswith("[]"):
        return {"type": "array", "items": _value_schema(type_[2:], kind, refs)}
    full = _type_name(type_, kind)
    refs[type_] = full
    return {"allOf": [_ref(full)], "default": {}}


def _property(type_: str, description: str, kind: Kind, refs: dict[str, str]) -> dict[str, Any]:
    return {**_value_schema(type_, kind, refs), "description": description}


def _named_type(name: str, kind: Kind, refs: dict[str, str]) -> dict[str, Any]:
    """A named type: its fields when the tables know them, else an object that keeps any field."""
    known = _types().get(name)
    if known is None:
        return {"description": f"{name} (fields not described by this miniature).", "type": "object",
                "x-kubernetes-preserve-unknown-fields": True}
    description, fields = known
    schema: dict[str, Any] = {"description": description, "type": "object",
                              "properties": {field: _property(t, d, kind, refs) for field, t, d in sorted(fields)}}
    if name in _REQUIRED:
        schema["required"] = _REQUIRED[name]
    return schema


def _kind_schema(kind: Kind, refs: dict[str, str]) -> dict[str, Any]:
    fields: list[explain.Field] = list(explain.TOP_LEVEL) + _ROOT_FIELDS.get(kind.kind, [])
    if kind.has_spec:      # the texts of the in-process explain, so both kubectls print the same
        fields += [(name, _SPEC_TYPES.get(kind.kind, type_) if name == "spec" else type_, description)
                   for name, type_, description in explain.top_fields(kind) if name in ("spec", "status")]
    schema: dict[str, Any] = {
        "description": explain.KIND_DESCRIPTIONS.get(kind.kind, f"{kind.kind} is a Kubernetes "
                                                                f"{kind.api_version} object."),
        "type": "object", "properties": {name: _property(t, d, kind, refs) for name, t, d in sorted(fields)},
        "x-kubernetes-group-version-kind": [{"group": kind.group, "kind": kind.kind, "version": kind.version}],
    }
    if not kind.has_spec and kind.kind not in _ROOT_FIELDS:
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def _operation(kind: Kind, action: str, name: str, *, list_: bool = False, body: tuple[str, ...] = (),
               params: tuple[str, ...] = ()) -> dict[str, Any]:
    target = _ref(schema_name(kind))
    response_schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True} if list_ else target
    operation: dict[str, Any] = {
        "operationId": f"{action}{kind.kind}", "description": f"{name} {kind.kind}",
        "parameters": [{"name": param, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                       for param in params],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": response_schema}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": kind.group, "kind": kind.kind, "version": kind.version},
    }
    if body:
        operation["requestBody"] = {"content": {media: {"schema": target} for media in body}, "required": True}
    return operation


def _paths(kind: Kind) -> dict[str, Any]:
    base = f"/api/{kind.version}" if not kind.group else f"/apis/{kind.group}/{kind.version}"
    collection = f"{base}/namespaces/{{namespace}}/{kind.plural}" if kind.namespaced else f"{base}/{kind.plural}"
    writes = ("dryRun", "fieldManager", "fieldValidation")
    return {
        collection: {
            "get": _operation(kind, "list", "list or watch objects of kind", list_=True,
                              params=("labelSelector", "fieldSelector", "limit", "continue", "watch")),
            "post": _operation(kind, "post", "create a", body=("*/*",), params=writes),
            "delete": _operation(kind, "deletecollection", "delete collection of", params=("labelSelector",)),
        },
        f"{collection}/{{name}}": {
            "get": _operation(kind, "get", "read the specified"),
            "put": _operation(kind, "put", "replace the specified", body=("*/*",), params=writes),
            "patch": _operation(kind, "patch", "partially update the specified",
                                body=("application/json-patch+json", "application/merge-patch+json",
                                      "application/apply-patch+yaml"), params=(*writes, "force")),
            "delete": _operation(kind, "delete", "delete a", params=("dryRun", "gracePeriodSeconds",
                                                                     "propagationPolicy")),
        },
    }


def group_version_document(registry: KindRegistry, group: str, version: str) -> dict[str, Any] | None:
    """The OpenAPI 3 document of one group version (``/openapi/v3/apis/apps/v1``)."""
    kinds = kinds_of(registry, group, version)
    if not kinds:
        return None
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for kind in kinds:
        refs: dict[str, str] = {}
        schemas[schema_name(kind)] = _kind_schema(kind, refs)
        paths.update(_paths(kind))
        while refs:
            name, full = sorted(refs.items())[0]
            del refs[name]
            if full not in schemas:
                schemas[full] = _named_type(name, kind, refs)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}


def _path_of(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def document_hash(document: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest()[:128].upper()


def v3_index(registry: KindRegistry) -> dict[str, Any]:
    """``/openapi/v3``: where each group version's document lives (with a content hash for caching)."""
    paths = {}
    for group, version in served_group_versions(registry):
        document = group_version_document(registry, group, version)
        if document is not None:
            path = _path_of(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(document)}"}
    return {"paths": paths}


def v3_document(registry: KindRegistry, path: str) -> dict[str, Any] | None:
    """``/openapi/v3/<path>`` for ``api/v1`` or ``apis/<group>/<version>``, or None."""
    parts = [part for part in path.split("/") if part]
    if len(parts) == 2 and parts[0] == "api":
        return group_version_document(registry, "", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return group_version_document(registry, parts[1], parts[2])
    return None


def v2_document(registry: KindRegistry) -> dict[str, Any]:
    """``/openapi/v2`` as Swagger 2.0 JSON: every kind's definition, paths left out."""
    definitions: dict[str, Any] = {}
    for group, version in served_group_versions(registry):
        document = group_version_document(registry, group, version)
        if document is None:
            continue
        text = json.dumps(document["components"]["schemas"]).replace("#/components/schemas/", "#/definitions/")
        definitions.update(json.loads(text))
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
            "paths": {}, "definitions": definitions}
