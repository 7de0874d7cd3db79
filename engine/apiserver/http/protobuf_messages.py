"""The protobuf messages the HTTP front can read: field numbers and JSON rules from upstream ``generated.proto``.

Kubernetes generates a ``generated.proto`` for each API package (k8s.io/api
``rbac/v1``, apimachinery ``pkg/apis/meta/v1``, ``pkg/runtime``) from the Go
types; client-go's typed clients marshal objects with them. This module copies
the field numbers of the messages the engine decodes, one table per message:
``{number: Field}``, in the Go struct's order (the order the JSON has).

Besides its number and name, a ``Field`` records how Go's ``encoding/json``
would write the decoded struct, so a protobuf body becomes exactly the dict a
JSON body of the same object is: a plain value with ``omitempty`` disappears
when it is the zero value (gogo-protobuf writes non-pointer fields even when
empty: ``ObjectMeta.generateName`` arrives as an empty string), a plain value
without it is always there (``RoleRef.kind`` is ``""`` when absent), a pointer
is there exactly when it was sent, a nested struct is always there, and a zero
``Time`` is ``null`` (``"creationTimestamp": null``, as kubectl's JSON has it).

``KINDS`` maps ``(apiVersion, kind)`` to the message of that kind: the kinds a
protobuf body may hold. Today that is ``rbac.authorization.k8s.io/v1``, the
group whose typed client kubectl v1.32 uses with protobuf (``kubectl create
rolebinding`` / ``clusterrolebinding``); every other kind is JSON or YAML only.
"""

from __future__ import annotations

from dataclasses import dataclass

STRING, BYTES, INT, BOOL, TIME, MAP, FIELDS = "string", "bytes", "int", "bool", "time", "map", "fieldsV1"
"""Scalar and special field types; any other ``Field.type`` names a message of ``MESSAGES``."""
SCALARS = (STRING, BYTES, INT, BOOL)


@dataclass(frozen=True)
class Field:
    """One field of a message: its JSON name, its type and how Go's JSON encoder writes it."""

    name: str
    type: str
    repeated: bool = False
    omitempty: bool = True
    pointer: bool = False


def _f(name: str, type_: str, *, repeated: bool = False, omitempty: bool = True, pointer: bool = False) -> Field:
    return Field(name, type_, repeated, omitempty, pointer)


OBJECT_META = {
    1: _f("name", STRING), 2: _f("generateName", STRING), 3: _f("namespace", STRING), 4: _f("selfLink", STRING),
    5: _f("uid", STRING), 6: _f("resourceVersion", STRING), 7: _f("generation", INT),
    8: _f("creationTimestamp", TIME), 9: _f("deletionTimestamp", TIME, pointer=True),
    10: _f("deletionGracePeriodSeconds", INT, pointer=True), 11: _f("labels", MAP), 12: _f("annotations", MAP),
    13: _f("ownerReferences", "meta.v1.OwnerReference", repeated=True), 14: _f("finalizers", STRING, repeated=True),
    17: _f("managedFields", "meta.v1.ManagedFieldsEntry", repeated=True),
}
OWNER_REFERENCE = {
    5: _f("apiVersion", STRING, omitempty=False), 1: _f("kind", STRING, omitempty=False),
    3: _f("name", STRING, omitempty=False), 4: _f("uid", STRING, omitempty=False),
    6: _f("controller", BOOL, pointer=True), 7: _f("blockOwnerDeletion", BOOL, pointer=True),
}
MANAGED_FIELDS_ENTRY = {
    1: _f("manager", STRING), 2: _f("operation", STRING), 3: _f("apiVersion", STRING),
    4: _f("time", TIME, pointer=True), 6: _f("fieldsType", STRING), 7: _f("fieldsV1", FIELDS, pointer=True),
    8: _f("subresource", STRING),
}
LABEL_SELECTOR = {
    1: _f("matchLabels", MAP), 2: _f("matchExpressions", "meta.v1.LabelSelectorRequirement", repeated=True),
}
LABEL_SELECTOR_REQUIREMENT = {
    1: _f("key", STRING, omitempty=False), 2: _f("operator", STRING, omitempty=False),
    3: _f("values", STRING, repeated=True),
}

POLICY_RULE = {
    1: _f("verbs", STRING, repeated=True, omitempty=False), 2: _f("apiGroups", STRING, repeated=True),
    3: _f("resources", STRING, repeated=True), 4: _f("resourceNames", STRING, repeated=True),
    5: _f("nonResourceURLs", STRING, repeated=True),
}
SUBJECT = {
    1: _f("kind", STRING, omitempty=False), 2: _f("apiGroup", STRING), 3: _f("name", STRING, omitempty=False),
    4: _f("namespace", STRING),
}
ROLE_REF = {1: _f("apiGroup", STRING, omitempty=False), 2: _f("kind", STRING, omitempty=False),
            3: _f("name", STRING, omitempty=False)}
AGGREGATION_RULE = {1: _f("clusterRoleSelectors", "meta.v1.LabelSelector", repeated=True)}
ROLE = {1: _f("metadata", "meta.v1.ObjectMeta"), 2: _f("rules", "rbac.v1.PolicyRule", repeated=True, omitempty=False)}
CLUSTER_ROLE = {**ROLE, 3: _f("aggregationRule", "rbac.v1.AggregationRule", pointer=True)}
ROLE_BINDING = {1: _f("metadata", "meta.v1.ObjectMeta"), 2: _f("subjects", "rbac.v1.Subject", repeated=True),
                3: _f("roleRef", "rbac.v1.RoleRef")}

MESSAGES: dict[str, dict[int, Field]] = {
    "meta.v1.ObjectMeta": OBJECT_META, "meta.v1.OwnerReference": OWNER_REFERENCE,
    "meta.v1.ManagedFieldsEntry": MANAGED_FIELDS_ENTRY, "meta.v1.LabelSelector": LABEL_SELECTOR,
    "meta.v1.LabelSelectorRequirement": LABEL_SELECTOR_REQUIREMENT,
    "rbac.v1.PolicyRule": POLICY_RULE, "rbac.v1.Subject": SUBJECT, "rbac.v1.RoleRef": ROLE_REF,
    "rbac.v1.AggregationRule": AGGREGATION_RULE, "rbac.v1.Role": ROLE, "rbac.v1.ClusterRole": CLUSTER_ROLE,
    "rbac.v1.RoleBinding": ROLE_BINDING, "rbac.v1.ClusterRoleBinding": ROLE_BINDING,
}

KINDS: dict[tuple[str, str], str] = {
    ("rbac.authorization.k8s.io/v1", "Role"): "rbac.v1.Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac.v1.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac.v1.RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac.v1.ClusterRoleBinding",
}
