"""Reviews: the API server answering questions about the caller instead of storing objects.

``kubectl auth can-i`` POSTs a ``SelfSubjectAccessReview``, ``kubectl auth can-i
--list`` a ``SelfSubjectRulesReview`` and ``kubectl auth whoami`` a
``SelfSubjectReview``. None is stored: the server authenticates
the caller, asks its authorizer (RBAC) the question in the review's spec, and
sends the review back with a ``status``. Members of ``system:masters`` are
allowed everything, as the real privileged-group authorizer does before RBAC.
Both functions run on the loop thread (they read the RBAC caches).
"""

from __future__ import annotations

from typing import Any

from engine.api import errors
from engine.apiserver.rbac import Attributes
from engine.apiserver.server import PRIVILEGED_GROUP, APIServer


def self_subject_access_review(server: APIServer, token: str | None, body: Any) -> dict[str, Any]:
    """Answer ``create selfsubjectaccessreviews``: may I do this?"""
    user = server.authenticator.authenticate(token)
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        raise errors.bad_request("the body of the request must be a SelfSubjectAccessReview")
    spec = body["spec"]
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if resource:
        attrs = Attributes(user=user, verb=resource.get("verb", ""), namespace=resource.get("namespace", ""),
                           api_group=resource.get("group", ""), resource=resource.get("resource", ""),
                           subresource=resource.get("subresource", ""), name=resource.get("name", ""))
    elif non_resource:
        attrs = Attributes(user=user, verb=non_resource.get("verb", ""), path=non_resource.get("path", ""),
                           resource_request=False)
    else:
        raise errors.invalid("SelfSubjectAccessReview", "", [{
            "reason": "FieldValueRequired", "field": "spec.resourceAttributes",
            "message": "Required value: exactly one of nonResourceAttributes or resourceAttributes must be "
                       "specified"}], "authorization.k8s.io")
    if PRIVILEGED_GROUP in user.groups:
        status: dict[str, Any] = {"allowed": True}
    else:
        decision = server.authorizer.authorize(attrs)
        status = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
    return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}


def self_subject_review(server: APIServer, token: str | None) -> dict[str, Any]:
    """Answer ``create selfsubjectreviews``: who am I?"""
    user = server.authenticator.authenticate(token)
    info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    if user.extra:
        info["extra"] = {key: list(value) for key, value in user.extra.items()}
    return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "status": {"userInfo": info}}


def self_subject_rules_review(server: APIServer, token: str | None, body: Any) -> dict[str, Any]:
    """Answer ``create selfsubjectrulesreviews``: everything RBAC lets me do in a namespace."""
    user = server.authenticator.authenticate(token)
    spec = body.get("spec") if isinstance(body, dict) else None
    if not isinstance(spec, dict) or not spec.get("namespace"):
        raise errors.invalid("SelfSubjectRulesReview", "", [{
            "reason": "FieldValueRequired", "field": "spec.namespace", "message": "Required value"}],
            "authorization.k8s.io")
    resource_rules: list[dict[str, Any]] = []
    non_resource_rules: list[dict[str, Any]] = []
    for rule in server.authorizer.rules_for(user, spec["namespace"]):
        if rule.get("nonResourceURLs"):
            non_resource_rules.append({"verbs": list(rule.get("verbs") or []),
                                       "nonResourceURLs": list(rule["nonResourceURLs"])})
        else:
            entry: dict[str, Any] = {"verbs": list(rule.get("verbs") or []),
                                     "apiGroups": list(rule.get("apiGroups") or []),
                                     "resources": list(rule.get("resources") or [])}
            if rule.get("resourceNames"):
                entry["resourceNames"] = list(rule["resourceNames"])
            resource_rules.append(entry)
    return {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec,
            "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                       "incomplete": False}}
