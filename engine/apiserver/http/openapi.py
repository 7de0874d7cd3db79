"""OpenAPI documents: the schemas ``kubectl explain`` prints and ``kubectl apply`` checks against.

The real API server publishes ``/openapi/v2`` (one Swagger document) and
``/openapi/v3`` (an index of one OpenAPI 3 document per group version, each
fetched at ``/openapi/v3/apis/{group}/{version}?hash=...``). kubectl 1.32 uses
the v3 documents for three things, and this module serves what each needs:

- ``kubectl explain``: each kind's schema in ``components.schemas``, found by its
  ``x-kubernetes-group-version-kind``, with descriptions, and properties reached
  through ``allOf: [{$ref}]`` as in the real documents. The spec types a course
  explains most (Pod, Deployment, ReplicaSet, Service, Job and their parts) list
  their fields; the others are objects that keep unknown fields.
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
from engine.apiserver.http.discovery import VERSION_INFO, kinds_of, served_group_versions

_PACKAGES = {"": "core", "apps": "apps", "batch": "batch", "coordination.k8s.io": "coordination",
             "discovery.k8s.io": "discovery", "rbac.authorization.k8s.io": "rbac", "autoscaling": "autoscaling",
             "networking.k8s.io": "networking", "storage.k8s.io": "storage", "policy": "policy",
             "authorization.k8s.io": "authorization", "authentication.k8s.io": "authentication"}
META = "io.k8s.apimachinery.pkg.apis.meta.v1"

_KIND_DESCRIPTIONS = {
    "Pod": "Pod is a collection of containers that can run on a host. This resource is created by clients and "
           "scheduled onto hosts.",
    "Node": "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
    "Namespace": "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
    "Service": "Service is a named abstraction of software service (for example, mysql) consisting of local port "
               "(for example 3306) that the proxy listens on, and the selector that determines which pods will "
               "answer requests sent through the proxy.",
    "ConfigMap": "ConfigMap holds configuration data for pods to consume.",
    "Secret": "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be "
              "less than MaxSecretSize bytes.",
    "Deployment": "Deployment enables declarative updates for Pods and ReplicaSets.",
    "ReplicaSet": "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
    "StatefulSet": "StatefulSet represents a set of pods with consistent identities.",
    "DaemonSet": "DaemonSet represents the configuration of a daemon set.",
    "Job": "Job represents the configuration of a single job.",
    "CronJob": "CronJob represents the configuration of a single cron job.",
    "Lease": "Lease defines a lease concept.",
}

_F = dict[str, tuple[str, str]]
"""field -> (type or ``#Ref``, description)."""

_TYPES: dict[str, tuple[str, _F]] = {
    "DeploymentSpec": ("DeploymentSpec is the specification of the desired behavior of the Deployment.", {
        "minReadySeconds": ("integer", "Minimum number of seconds for which a newly created pod should be ready "
                            "without any of its container crashing, for it to be considered available. Defaults to 0 "
                            "(pod will be considered available as soon as it is ready)"),
        "paused": ("boolean", "Indicates that the deployment is paused."),
        "progressDeadlineSeconds": ("integer", "The maximum time in seconds for a deployment to make progress before "
                                    "it is considered to be failed. Defaults to 600s."),
        "replicas": ("integer", "Number of desired pods. This is a pointer to distinguish between explicit zero and "
                     "not specified. Defaults to 1."),
        "revisionHistoryLimit": ("integer", "The number of old ReplicaSets to retain to allow rollback. Defaults "
                                 "to 10."),
        "selector": ("#LabelSelector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this "
                     "will be the ones affected by this deployment. It must match the pod template's labels."),
        "strategy": ("#DeploymentStrategy", "The deployment strategy to use to replace existing pods with new ones."),
        "template": ("#PodTemplateSpec", "Template describes the pods that will be created. The only allowed "
                     "template.spec.restartPolicy value is \"Always\"."),
    }),
    "DeploymentStrategy": ("DeploymentStrategy describes how to replace existing pods with new ones.", {
        "rollingUpdate": ("object", "Rolling update config params. Present only if DeploymentStrategyType = "
                          "RollingUpdate."),
        "type": ("string", "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is RollingUpdate."),
    }),
    "ReplicaSetSpec": ("ReplicaSetSpec is the specification of a ReplicaSet.", {
        "minReadySeconds": ("integer", "Minimum number of seconds for which a newly created pod should be ready "
                            "without any of its container crashing, for it to be considered available."),
        "replicas": ("integer", "Replicas is the number of desired pods. Defaults to 1."),
        "selector": ("#LabelSelector", "Selector is a label query over pods that should match the replica count."),
        "template": ("#PodTemplateSpec", "Template is the object that describes the pod that will be created if "
                     "insufficient replicas are detected."),
    }),
    "JobSpec": ("JobSpec describes how the job execution will look like.", {
        "activeDeadlineSeconds": ("integer", "Specifies the duration in seconds relative to the startTime that the "
                                  "job may be continuously active before the system tries to terminate it."),
        "backoffLimit": ("integer", "Specifies the number of retries before marking this job failed. Defaults to 6"),
        "completions": ("integer", "Specifies the desired number of successfully finished pods the job should be "
                        "run with."),
        "parallelism": ("integer", "Specifies the maximum desired number of pods the job should run at any given "
                        "time."),
        "selector": ("#LabelSelector", "A label query over pods that should match the pod count."),
        "template": ("#PodTemplateSpec", "Describes the pod that will be created when executing a job."),
        "ttlSecondsAfterFinished": ("integer", "ttlSecondsAfterFinished limits the lifetime of a Job that has "
                                    "finished execution (either Complete or Failed)."),
    }),
    "ServiceSpec": ("ServiceSpec describes the attributes that a user creates on a service.", {
        "clusterIP": ("string", "clusterIP is the IP address of the service and is usually assigned randomly."),
        "clusterIPs": ("array", "ClusterIPs is a list of IP addresses assigned to this service."),
        "externalTrafficPolicy": ("string", "externalTrafficPolicy describes how nodes distribute service traffic "
                                  "they receive on one of the Service's \"externally-facing\" addresses."),
        "ports": ("array", "The list of ports that are exposed by this service."),
        "selector": ("object", "Route service traffic to pods with label keys and values matching this selector."),
        "sessionAffinity": ("string", "Supports \"ClientIP\" and \"None\". Used to maintain session affinity."),
        "type": ("string", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
                 "ExternalName, ClusterIP, NodePort, and LoadBalancer."),
    }),
    "PodTemplateSpec": ("PodTemplateSpec describes the data a pod should have when created from a template", {
        "metadata": (f"#{META}.ObjectMeta", "Standard object's metadata."),
        "spec": ("#PodSpec", "Specification of the desired behavior of the pod."),
    }),
    "PodSpec": ("PodSpec is a description of a pod.", {
        "affinity": ("object", "If specified, the pod's scheduling constraints"),
        "containers": ("array", "List of containers belonging to the pod. Containers cannot currently be added or "
                       "removed. There must be at least one container in a Pod. Cannot be updated."),
        "initContainers": ("array", "List of initialization containers belonging to the pod."),
        "nodeName": ("string", "NodeName indicates in which node this pod is scheduled."),
        "nodeSelector": ("object", "NodeSelector is a selector which must be true for the pod to fit on a node."),
        "restartPolicy": ("string", "Restart policy for all containers within the pod. One of Always, OnFailure, "
                          "Never. Default to Always."),
        "schedulerName": ("string", "If specified, the pod will be dispatched by specified scheduler."),
        "serviceAccountName": ("string", "ServiceAccountName is the name of the ServiceAccount to use to run this "
                               "pod."),
        "terminationGracePeriodSeconds": ("integer", "Optional duration in seconds the pod needs to terminate "
                                          "gracefully. Defaults to 30 seconds."),
        "tolerations": ("array", "If specified, the pod's tolerations."),
        "volumes": ("array", "List of volumes that can be mounted by containers belonging to the pod."),
    }),
    "LabelSelector": ("A label selector is a label query over a set of resources.", {
        "matchExpressions": ("array", "matchExpressions is a list of label selector requirements. The requirements "
                             "are ANDed."),
        "matchLabels": ("object", "matchLabels is a map of {key,value} pairs."),
    }),
}
_REQUIRED = {"DeploymentSpec": ["selector", "template"], "ReplicaSetSpec": ["selector"], "JobSpec": ["template"],
             "PodSpec": ["containers"]}
_SPEC_TYPES = {"Deployment": "DeploymentSpec", "ReplicaSet": "ReplicaSetSpec", "Job": "JobSpec",
               "Service": "ServiceSpec", "Pod": "PodSpec"}
_TYPE_PACKAGE = {"DeploymentSpec": "apps", "DeploymentStrategy": "apps", "ReplicaSetSpec": "apps",
                 "JobSpec": "batch", "LabelSelector": "meta"}

_OBJECT_META = {
    "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects "
                   "users must create.",
    "type": "object",
    "properties": {
        "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""},
                        "description": "Annotations is an unstructured key value map stored with a resource."},
        "creationTimestamp": {"type": "string", "format": "date-time",
                              "description": "CreationTimestamp is a timestamp representing the server time when "
                                             "this object was created."},
        "finalizers": {"type": "array", "items": {"type": "string", "default": ""},
                       "description": "Must be empty before the object is deleted from the registry."},
        "generateName": {"type": "string", "description": "GenerateName is an optional prefix, used by the server, "
                                                          "to generate a unique name ONLY IF the Name field has not "
                                                          "been provided."},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""},
                   "description": "Map of string keys and values that can be used to organize and categorize "
                                  "(scope and select) objects."},
        "name": {"type": "string", "description": "Name must be unique within a namespace."},
        "namespace": {"type": "string", "description": "Namespace defines the space within which each name must be "
                                                       "unique."},
        "resourceVersion": {"type": "string", "description": "An opaque value that represents the internal version "
                                                             "of this object."},
        "uid": {"type": "string", "description": "UID is the unique in time and space value for this object."},
    },
    "x-kubernetes-preserve-unknown-fields": True,
}


def schema_name(kind: Kind) -> str:
    """``io.k8s.api.apps.v1.Deployment``: the definition name the real documents use."""
    return f"io.k8s.api.{_PACKAGES.get(kind.group, kind.group.split('.')[0])}.{kind.version}.{kind.kind}"


def _type_name(name: str, kind: Kind) -> str:
    if name.startswith("io.k8s."):
        return name
    package = _TYPE_PACKAGE.get(name, "core")
    if package == "meta":
        return f"{META}.{name}"
    return f"io.k8s.api.{package}.v1.{name}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _property(type_: str, description: str, kind: Kind, refs: set[str]) -> dict[str, Any]:
    if type_.startswith("#"):
        target = _type_name(type_[1:], kind)
        refs.add(type_[1:])
        return {"allOf": [_ref(target)], "default": {}, "description": description}
    prop: dict[str, Any] = {"type": type_, "description": description}
    if type_ == "array":
        prop["items"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    elif type_ == "object":
        prop["x-kubernetes-preserve-unknown-fields"] = True
    return prop


def _named_type(name: str, kind: Kind, refs: set[str]) -> dict[str, Any]:
    description, fields = _TYPES[name]
    schema: dict[str, Any] = {"description": description, "type": "object",
                              "properties": {field: _property(t, d, kind, refs) for field, (t, d) in sorted(fields.items())}}
    if name in _REQUIRED:
        schema["required"] = _REQUIRED[name]
    return schema


def _kind_schema(kind: Kind, refs: set[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this "
                                                        "representation of an object."},
        "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this "
                                                  "object represents."},
        "metadata": {"allOf": [_ref(f"{META}.ObjectMeta")], "default": {},
                     "description": "Standard object's metadata."},
    }
    if kind.has_spec:
        spec_type = _SPEC_TYPES.get(kind.kind)
        if spec_type:
            refs.add(spec_type)
            properties["spec"] = {"allOf": [_ref(_type_name(spec_type, kind))], "default": {},
                                  "description": f"Specification of the desired behavior of the {kind.kind}."}
        else:
            properties["spec"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                  "description": f"Specification of the desired behavior of the {kind.kind}."}
        properties["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                "description": f"Most recently observed status of the {kind.kind}. Populated by "
                                               f"the system. Read-only."}
    schema: dict[str, Any] = {
        "description": _KIND_DESCRIPTIONS.get(kind.kind, f"{kind.kind} is a Kubernetes {kind.api_version} object."),
        "type": "object", "properties": properties,
        "x-kubernetes-group-version-kind": [{"group": kind.group, "kind": kind.kind, "version": kind.version}],
    }
    if not kind.has_spec:
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
    schemas: dict[str, Any] = {f"{META}.ObjectMeta": _OBJECT_META}
    paths: dict[str, Any] = {}
    for kind in kinds:
        refs: set[str] = set()
        schemas[schema_name(kind)] = _kind_schema(kind, refs)
        paths.update(_paths(kind))
        pending = sorted(refs)
        while pending:
            name = pending.pop()
            full = _type_name(name, kind)
            if full in schemas or name not in _TYPES:
                continue
            nested: set[str] = set()
            schemas[full] = _named_type(name, kind, nested)
            pending.extend(sorted(nested))
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
