"""``kubectl explain`` for a custom resource: read from its CRD's ``openAPIV3Schema``.

Same template as the built-in kinds (``engine.kubectl.explain``): the
GROUP/KIND/VERSION head, the DESCRIPTION the schema gives (``<empty>`` when it
gives none), then FIELDS with each property's type (``<Object>``,
``<string>``, ``<[]Object>``) and ``-required-`` where the schema's
``required`` lists it. ``apiVersion``, ``kind`` and ``metadata`` are the
API server's own and always listed.
"""

from __future__ import annotations

from engine.apiserver.apiextensions.kind import CustomResourceKind
from engine.apiserver.apiextensions.schema import describe
from engine.kubectl.explain import TOP_LEVEL, _wrap


def type_name(schema: dict) -> str:
    """``Object``, ``string``, ``[]Object``: how kubectl names a schema's type."""
    type_ = schema.get("type") or ("Object" if schema.get("x-kubernetes-preserve-unknown-fields") else "")
    if schema.get("x-kubernetes-int-or-string"):
        return "IntOrString"
    if type_ == "array":
        return "[]" + type_name(schema.get("items") or {})
    if type_ == "object":
        return "map[string]" + type_name(schema["additionalProperties"]) \
            if isinstance(schema.get("additionalProperties"), dict) else "Object"
    return type_ or "Object"


def _fields(schema: dict, top: bool) -> str:
    node = schema.get("items") if schema.get("type") == "array" and isinstance(schema.get("items"), dict) else schema
    required = set(node.get("required") or ())
    rows = [(name, type_, text) for name, type_, text in TOP_LEVEL] if top else []
    listed = {row[0] for row in rows}
    for name, prop in (node.get("properties") or {}).items():
        if name not in listed and isinstance(prop, dict):
            rows.append((name, type_name(prop), prop.get("description") or ""))
    if not rows:
        return ""
    out = "FIELDS:\n"
    for name, type_, text in sorted(rows):
        mark = " -required-" if name in required else ""
        out += f"  {name}\t<{type_}>{mark}\n" + (_wrap(text, "    ") if text else "    <no description>\n") + "\n"
    return out


def explain_custom(kind: CustomResourceKind, field_path: list[str]) -> str:
    head = f"GROUP:      {kind.group}\nKIND:       {kind.kind}\nVERSION:    {kind.version}\n\n"
    schema = kind.schema or {}
    if not field_path:
        description = schema.get("description") or "<empty>"
        return head + "DESCRIPTION:\n" + _wrap(description, "    ") + _fields(schema, top=True)
    node = describe(schema, field_path)
    if node is None:
        return head + f'error: field "{field_path[-1]}" does not exist'
    text = head + f"FIELD: {field_path[-1]} <{type_name(node)}>\n\n"
    description = node.get("description") or "<empty>"
    return text + "DESCRIPTION:\n" + _wrap(description, "    ") + _fields(node, top=False)
