"""The HTTP front's work on the loop thread: serving a decoded request, and what only HTTP needs.

Everything here runs inside ``driver.call``, on the simulation loop, like any
in-process client's request: it may read and change engine state. The HTTP
threads only parse and encode around it.

- ``execute``: the API server handles the request; the answer becomes a Table
  when the client asked for one; the status code and a DELETE's answer are the
  real handler's (201 for a create; a success Status for most immediate deletes).
- a patch at a served version that is not the storage version (``autoscaling/v1``) is applied at that
  version (``versioned_patch``).
- ``server_side_apply``: ``application/apply-patch+yaml``, simplified: create
  the object when it is missing, otherwise strategic-merge the applied
  manifest into it. No managedFields, no field-manager conflicts.
- ``authorize_path``: authentication and RBAC for non-resource paths
  (``/api``, ``/version``, ``/openapi/v3``).
- ``token_for_certificate``: a verified client certificate's identity, as a
  secret bearer token only the front knows (the x509 authenticator's result).
"""

from __future__ import annotations

import secrets
from typing import Any

from engine.api import errors
from engine.apiserver.authn import UserInfo
from engine.api.conversion import ServedVersion
from engine.apiserver.http import table, versioned_patch
from engine.apiserver.rbac import Attributes, forbidden_error
from engine.apiserver.server import PRIVILEGED_GROUP, APIServer, Request

APPLY_PATCH = "application/apply-patch+yaml"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
RETURNS_DELETED_OBJECT = ("Pod", "Service")
"""Kinds whose registry storage sets ReturnDeletedObject: their DELETE answers with the object itself."""


def execute(apiserver: APIServer, request: Request, want_table: bool, include_object: str | None,
            served: ServedVersion | None = None) -> tuple[int, Any]:
    """Serve one resource request: the status code and the answer. ``served``: the request's version when it is
    not the storage version (a patch body is at that version and is applied there; other bodies are converted)."""
    if request.verb == "patch" and served is not None:
        if request.patch_type == APPLY_PATCH:
            return versioned_patch.server_side_apply_in_version(apiserver, request, served)
        return 200, versioned_patch.patch_in_version(apiserver, request, served)
    if request.verb == "patch" and request.patch_type == APPLY_PATCH:
        return server_side_apply(apiserver, request)
    result = apiserver.handle(request)
    code = 201 if request.verb == "create" else 200
    if request.verb == "delete" and isinstance(result, dict):
        code, result = _delete_answer(apiserver, request, result)
    if want_table and isinstance(result, dict):
        kind = apiserver.registry.by_resource(request.group or "", request.resource)
        assert kind is not None
        now = apiserver.loop.now
        if request.verb == "list":
            return code, table.list_table(kind, result, now, include_object)
        return code, table.table(kind, [result], now, include_object=include_object,
                                 metadata={"resourceVersion": result["metadata"].get("resourceVersion", "")})
    return code, result


def _delete_answer(apiserver: APIServer, request: Request, result: dict) -> tuple[int, Any]:
    """What the real DELETE handler sends back.

    An object deleted at once is answered with a success ``Status`` naming it (the generic registry's
    ``finalizeDelete``), except for the kinds whose storage returns the deleted object (pods, services).
    One still waiting for finalizers or a grace period comes back as it is now: 200, or 202 when the
    client asked for cascading deletion with ``orphanDependents: false``.
    """
    metadata = result.get("metadata") or {}
    if metadata.get("deletionTimestamp") or (result.get("status") or {}).get("phase") == "Terminating":
        options = request.body if isinstance(request.body, dict) else {}
        orphan = options.get("orphanDependents", request.params.get("orphanDependents"))
        return (202 if orphan in (False, "false") else 200), result
    if result.get("kind") in RETURNS_DELETED_OBJECT:
        return 200, result
    kind = apiserver.registry.by_resource(request.group or "", request.resource)
    details: dict[str, Any] = {"name": metadata.get("name", ""), "kind": kind.plural if kind else request.resource}
    if kind is not None and kind.group:
        details["group"] = kind.group
    if metadata.get("uid"):
        details["uid"] = metadata["uid"]
    return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def server_side_apply(apiserver: APIServer, request: Request) -> tuple[int, Any]:
    """Create when missing, else strategic-merge the applied manifest (the simplified server-side apply)."""
    body = request.body
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be an object")
    get = Request("get", request.resource, request.namespace, request.name, None, None, {}, request.token,
                  request.group)
    try:
        apiserver.handle(get)
    except errors.NotFound:
        create = Request("create", request.resource, request.namespace, None, None, body, dict(request.params),
                         request.token, request.group)
        created = apiserver.handle(create)
        request.warnings += create.warnings
        return 201, created
    patch = Request("patch", request.resource, request.namespace, request.name, request.subresource, body,
                    dict(request.params), request.token, request.group, STRATEGIC_MERGE_PATCH)
    patched = apiserver.handle(patch)
    request.warnings += patch.warnings
    return 200, patched


def authorize_path(apiserver: APIServer, token: str | None, path: str) -> None:
    """Authenticate a non-resource request and let RBAC decide on its path (verb ``get``)."""
    user = apiserver.authenticator.authenticate(token)
    if PRIVILEGED_GROUP in user.groups:
        return
    attrs = Attributes(user=user, verb="get", path=path, resource_request=False)
    decision = apiserver.authorizer.authorize(attrs)
    if not decision.allowed:
        raise forbidden_error(attrs, decision.reason)


def token_for_certificate(apiserver: APIServer, tokens: dict[tuple[str, tuple[str, ...]], str], user: str,
                          groups: tuple[str, ...]) -> str:
    """The secret token standing for a verified certificate's user and groups (made once per identity)."""
    token = tokens.get((user, groups))
    if token is None:
        token = secrets.token_hex(24)
        apiserver.authenticator.static.add(token, UserInfo(user, groups))
        tokens[(user, groups)] = token
    return token
