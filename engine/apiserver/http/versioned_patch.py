"""PATCH at a served version that is not the storage version (an ``autoscaling/v1`` HorizontalPodAutoscaler).

kube-apiserver applies a patch in the version of the request (apiserver/pkg/endpoints/handlers/patch.go:
``patcher.applyPatch`` decodes the current object into the request's version, applies the JSON, merge or
strategic merge patch to that JSON, and converts the result back to the internal version before the update).
So ``kubectl patch hpa php-apache --type merge -p '{"spec":{"targetCPUUtilizationPercentage":60}}'`` against
``/apis/autoscaling/v1`` patches the v1 shape, and a second ``kubectl apply -f hpa-v1.yaml`` with a changed
field works.

``patch_in_version(apiserver, request, served)`` does that on the loop, for any ``ServedVersion`` of
``engine.api.conversion``, in the real order: authentication (401) and authorization of ``patch`` (403) first,
then the current object (404 when missing, from the API server itself), the conversion to the request's version,
the patch with the real patch errors (400 malformed, 422 a JSON patch that does not apply, 415 an unknown patch
type, the strategic merge errors), field validation of the patched object at the request's version (a field v1
does not have is a warning, or a 400 under ``fieldValidation=Strict``), and the conversion back. The change is handed to the API server as a JSON
merge patch of the stored version (computed between the stored object and the converted result), so the write
is the same ``patch`` request through admission, validation, optimistic concurrency (a ``resourceVersion`` the
patch sets is kept as the precondition: 409 when it is stale) and the audit log as any other patch.
``server_side_apply_in_version`` is the simplified server-side apply of ``execute`` at such a version.
What it never does: write anything itself, or read an object the user may not patch.
"""

from __future__ import annotations

from typing import Any

from engine.api import conversion, errors
from engine.api.frozen import thaw
from engine.apiserver.fieldvalidation import prune_unknown
from engine.apiserver.patch import MERGE_PATCH, STRATEGIC_MERGE_PATCH, apply_patch
from engine.apiserver.rbac import Attributes, forbidden_error
from engine.apiserver.server import PRIVILEGED_GROUP, APIServer, Request


def patch_in_version(apiserver: APIServer, request: Request, served: conversion.ServedVersion,
                     patch_type: str | None = None) -> dict:
    """Serve ``request`` (a patch whose body is at ``served``'s version): the patched object, stored version."""
    _authorize_patch(apiserver, request)
    current = apiserver.cached(request.resource, request.namespace, request.name or "")
    if current is None:       # the API server itself answers: 404 (or the namespace's errors), audited
        return apiserver.handle(_storage_patch(request, {}))
    stored = thaw(current)
    base = served.from_storage(stored)
    patched = apply_patch(base, request.body, patch_type or request.patch_type or MERGE_PATCH, served.kind.kind)
    if not isinstance(patched, dict):
        raise errors.bad_request("the patch must produce an object")
    patched["apiVersion"], patched["kind"] = served.kind.api_version, served.kind.kind
    request.warnings += prune_unknown(served.kind, "patch", request.params, patched)     # decoded at its version
    converted = served.to_storage(patched)
    diff = merge_patch_between(_without_version(stored), _without_version(converted))
    version = (converted.get("metadata") or {}).get("resourceVersion")
    if version is not None and version != stored["metadata"].get("resourceVersion"):
        diff.setdefault("metadata", {})["resourceVersion"] = version     # the client's precondition: 409 if stale
    patch = _storage_patch(request, diff)
    result = apiserver.handle(patch)
    request.warnings += patch.warnings
    return result


def server_side_apply_in_version(apiserver: APIServer, request: Request,
                                 served: conversion.ServedVersion) -> tuple[int, Any]:
    """``application/apply-patch+yaml`` at ``served``'s version: create the converted manifest when missing, else
    strategic-merge the manifest into the object at that version (the simplified apply of ``execute``)."""
    body = request.body
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be an object")
    _authorize_patch(apiserver, request)
    if apiserver.cached(request.resource, request.namespace, request.name or "") is None:
        create = Request("create", request.resource, request.namespace, None, None,
                         conversion.to_storage(served, body), dict(request.params), request.token, request.group)
        created = apiserver.handle(create)
        request.warnings += create.warnings
        return 201, created
    return 200, patch_in_version(apiserver, request, served, STRATEGIC_MERGE_PATCH)


def merge_patch_between(original: Any, modified: Any) -> dict:
    """The RFC 7386 merge patch that turns ``original`` into ``modified`` (jsonmergepatch.CreateMergePatch's
    result for two documents): changed keys, ``None`` for removed ones, lists and scalars whole."""
    patch: dict = {}
    for key in original.keys() - modified.keys():
        patch[key] = None
    for key, value in modified.items():
        old = original.get(key, _MISSING)
        if old == value:
            continue
        if isinstance(old, dict) and isinstance(value, dict):
            patch[key] = merge_patch_between(old, value)
        else:
            patch[key] = value
    return patch


_MISSING = object()


def _without_version(obj: dict) -> dict:
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key != "resourceVersion"}
    return {**obj, "metadata": metadata}


def _storage_patch(request: Request, body: dict) -> Request:
    return Request("patch", request.resource, request.namespace, request.name, request.subresource, body,
                   dict(request.params), request.token, request.group, MERGE_PATCH)


def _authorize_patch(apiserver: APIServer, request: Request) -> None:
    """Authentication, then RBAC on ``patch``, before the object is read (as the handler chain runs them)."""
    user = apiserver.authenticator.authenticate(request.token)
    if PRIVILEGED_GROUP in user.groups:
        return
    attrs = Attributes(user=user, verb="patch", namespace=request.namespace or "", api_group=request.group or "",
                       resource=request.resource, subresource=request.subresource or "", name=request.name or "",
                       resource_request=True)
    decision = apiserver.authorizer.authorize(attrs)
    if not decision.allowed:
        raise forbidden_error(attrs, decision.reason)
