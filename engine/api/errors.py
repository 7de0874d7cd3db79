"""API errors: exceptions that carry the API server's ``Status`` object.

Every failure a client can see is one of these, and each holds the exact
``Status`` the real kube-apiserver would send (``kind: Status``, ``reason``,
``message``, ``details``, ``code``), so what a learner reads here is what
``kubectl`` prints on a real cluster. The constructors below build the real
messages from ``k8s.io/apimachinery/pkg/api/errors``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API request failed; ``.code`` is the HTTP status, ``.status`` the Status object."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict | None = None, reason: str | None = None,
                 code: int | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        if code is not None:
            self.code = code
        self.message = message
        self.details = details or {}

    @property
    def status(self) -> dict[str, Any]:
        """The ``Status`` object, shaped as the real API server sends it."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status

    @classmethod
    def from_status(cls, status: dict[str, Any]) -> "ApiError":
        """Rebuild the right subclass from a ``Status`` (as an HTTP client would)."""
        code = int(status.get("code") or 500)
        for subclass in (NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Unauthorized, Gone,
                         BadRequest, MethodNotAllowed, TooManyRequests):
            if subclass.code == code and (code != 409 or subclass.reason == status.get("reason")):
                return subclass(status.get("message", ""), details=status.get("details"),
                                reason=status.get("reason"))
        return ApiError(status.get("message", ""), details=status.get("details"),
                        reason=status.get("reason"), code=code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r})"


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class Gone(ApiError):
    code = 410
    reason = "Expired"


class Invalid(ApiError):
    code = 422
    reason = "Invalid"

    @property
    def causes(self) -> list[dict[str, str]]:
        return list(self.details.get("causes", []))


class TooManyRequests(ApiError):
    code = 429
    reason = "TooManyRequests"


# -- constructors with the real messages -----------------------------------

def _qualified(resource: str, group: str) -> str:
    """``pods`` for the core group, ``deployments.apps`` otherwise (a GroupResource)."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, resource: str, group: str) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": resource}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(resource: str, name: str, group: str = "") -> NotFound:
    return NotFound(f'{_qualified(resource, group)} "{name}" not found',
                    details=_details(name, resource, group))


def already_exists(resource: str, name: str, group: str = "") -> AlreadyExists:
    return AlreadyExists(f'{_qualified(resource, group)} "{name}" already exists',
                         details=_details(name, resource, group))


def conflict(resource: str, name: str, reason: str, group: str = "") -> Conflict:
    return Conflict(f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {reason}',
                    details=_details(name, resource, group))


STALE_OBJECT = ("the object has been modified; please apply your changes to the latest version "
                "and try again")


def invalid(kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> Invalid:
    """422 Invalid. ``causes`` are ``{"reason", "message", "field"}`` dicts, as in a real Status.

    The message lists each distinct ``field: message`` once, as Go's ``ErrorList.ToAggregate``
    drops repeated error strings; ``details.causes`` keeps every cause, repeats included.
    """
    qualified_kind = f"{kind}.{group}" if group else kind
    texts = list(dict.fromkeys(_cause_text(c) for c in causes))
    if not texts:
        text = f'{qualified_kind} "{name}" is invalid'
    elif len(texts) == 1:
        text = f'{qualified_kind} "{name}" is invalid: {texts[0]}'
    else:
        text = f'{qualified_kind} "{name}" is invalid: [' + ", ".join(texts) + "]"
    details = _details(name, kind, group)
    details["causes"] = causes
    return Invalid(text, details=details)


def _cause_text(cause: dict[str, str]) -> str:
    return f"{cause['field']}: {cause['message']}" if cause.get("field") else cause["message"]


def forbidden(resource: str, name: str, reason: str, group: str = "") -> Forbidden:
    """403 as the RBAC authorizer phrases it: ``pods "x" is forbidden: User "u" cannot ...``."""
    subject = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    return Forbidden(f"{subject} is forbidden: {reason}", details=_details(name, resource, group))


def unauthorized(message: str = "Unauthorized") -> Unauthorized:
    return Unauthorized(message)


def gone(message: str) -> Gone:
    """410 for a resourceVersion or continue token older than the compacted history."""
    return Gone(message)


def too_old_resource_version(requested: int, oldest: int) -> Gone:
    return Gone(f"too old resource version: {requested} ({oldest})")


def bad_request(message: str) -> BadRequest:
    return BadRequest(message)


def method_not_allowed(verb: str, resource: str, group: str = "") -> MethodNotAllowed:
    return MethodNotAllowed(f"{verb} is not supported on resources of kind \"{_qualified(resource, group)}\"",
                            details=_details("", resource, group))
