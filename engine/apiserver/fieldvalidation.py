"""Field validation: what the API server does with fields a kind does not have.

The decoder drops every unknown field; the request's ``fieldValidation``
parameter says what the caller hears about it (``engine.api.schema`` explains
the three directives). The real handlers apply it while decoding a create or
update body and after applying a patch, before admission, so admission
plugins and validation never see an unknown field, and nothing unknown is ever
stored. Warnings are collected on the request (``Request.warnings``); the HTTP
front sends each as a ``Warning: 299 - "..."`` header, which kubectl prints as
``Warning: unknown field "spec.foo"``.
"""

from __future__ import annotations

from typing import Any

from engine.api import errors, schema
from engine.api.kinds import Kind
from engine.apiserver.apiextensions import schema as custom_schema
from engine.apiserver.apiextensions.kind import CustomResourceKind

_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}


def directive(verb: str, params: dict[str, Any]) -> str:
    """The request's directive: ``Warn`` when absent, as the real handlers default it."""
    value = params.get("fieldValidation") or schema.WARN
    if value not in schema.DIRECTIVES:
        raise errors.invalid(_OPTIONS_KIND.get(verb, "CreateOptions"), "", [{
            "reason": "FieldValueNotSupported", "field": "fieldValidation",
            "message": f'Unsupported value: "{value}": supported values: "Ignore", "Strict", "Warn"'}],
            "meta.k8s.io")
    return value


def prune_unknown(kind: Kind, verb: str, params: dict[str, Any], obj: dict[str, Any], *,
                  known: bool = False) -> list[str]:
    """Drop ``obj``'s unknown fields; return the warnings to send, or raise 400 under ``Strict``.

    Create and update name the decoded kind in the error, as ``transformDecodeError`` does; a patch
    reports the bare strict decoding error of the patched object. ``known``: the caller already found that
    ``obj`` (of a built-in kind) has no unknown field (``schema.thaw_known``); only the directive is checked.
    """
    mode = directive(verb, params)
    if known:
        return []
    if isinstance(kind, CustomResourceKind):       # its CRD's structural schema says what is known
        unknown = custom_schema.prune(kind.schema, obj, remove=mode != schema.STRICT)
    else:
        unknown = schema.unknown_fields(obj, prune=mode != schema.STRICT)
    if not unknown:
        return []
    if mode == schema.STRICT:
        text = schema.strict_error_text(unknown)
        if verb != "patch":
            text = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {text}'
        raise errors.bad_request(text)
    if mode == schema.IGNORE:
        return []
    return [f'unknown field "{path}"' for path in unknown]
